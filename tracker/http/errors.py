"""The one mapping from a domain error to an HTTP status, and the JSON error handlers."""

from __future__ import annotations

import logging

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from tracker.core.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    Gone,
    NotFound,
    PayloadTooLarge,
    Rejected,
    RequestTimeout,
    TooManyRequests,
    Unauthorized,
    Unprocessable,
)

log = logging.getLogger("tracker")

STATUS: dict[type[Rejected], int] = {
    BadRequest: 400,
    Unauthorized: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    Gone: 410,
    RequestTimeout: 408,
    PayloadTooLarge: 413,
    Unprocessable: 422,
    TooManyRequests: 429,
}


def status_of(exc: Rejected) -> int:
    for kind in type(exc).__mro__:
        if kind in STATUS:
            return STATUS[kind]
    return 400


async def on_rejected(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Rejected)
    status = status_of(exc)
    headers = {"retry-after": str(exc.retry_after)} if isinstance(exc, TooManyRequests) else None
    if status in (401, 408, 413, 429):
        log.info("rejected %s %s: %s %s", request.method, request.url.path, status, exc.reason)
    return JSONResponse(exc.body(), status_code=status, headers=headers)


async def on_starlette_http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return JSONResponse({"error": "http_error", "detail": exc.detail}, status_code=exc.status_code)
