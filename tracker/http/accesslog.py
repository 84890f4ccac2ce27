"""The access log (``tracker serve --access-log``): one line per request, the same on
uvicorn and granian, with secrets and personal data left out.

Written: method, path and query with secret values replaced by ``***``, status, duration.
Never written: the client address (no raw IPs in logs), the creator-page token in
``/c/{token}``, and the value of any query parameter named like a credential (the pixel's
``token=``, ``key``, ``secret``, ``signature``, ``password``, ``email`` ...).
"""

from __future__ import annotations

import logging
import re
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("tracker.access")

#: Query parameters whose values are never logged (matched case-insensitively, anywhere in
#: the name: ``access_token``, ``api_key``, ``hmac_sig`` ...).
SECRET_PARAMS = re.compile(
    rb"(?i)(^|[&;])([^=&;]*(token|key|secret|sig|hmac|pass|auth|email|session)[^=&;]*)=([^&;]*)"
)
#: Paths whose tail is a credential: the creator's own page.
SECRET_PATHS = re.compile(r"^(/c/)[^/?]+")


def redact(path: str, query: bytes) -> str:
    """``path?query`` as it may be logged."""
    safe = SECRET_PATHS.sub(r"\1***", path)
    if query:
        q = SECRET_PARAMS.sub(rb"\1\2=***", query).decode("latin-1")
        return f"{safe}?{q}"
    return safe


class AccessLogMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            log.info(
                '"%s %s HTTP/%s" %d %.1fms',
                scope["method"],
                redact(scope["path"], scope.get("query_string", b"")),
                scope.get("http_version", "1.1"),
                status or 500,
                (time.perf_counter() - started) * 1000,
            )
