"""What every JSON handler shares: the app state, bearer auth, bounded bodies, paging, CSV.

Handlers parse with these, call one service, answer; nothing here knows a noun.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from tracker.core import jsondoc
from tracker.core.csvfile import to_csv
from tracker.core.errors import BadRequest, PayloadTooLarge, Unauthorized
from tracker.state import AppState
from tracker.store.engine import Row

Handler = Callable[[Request], Awaitable[Response]]
_INT = re.compile(r"-?[0-9]{1,12}")
MAX_LIMIT = 1000  # the largest page; the OpenAPI document's ``limit`` maximum reads it too


def state(request: Request) -> AppState:
    st: AppState = request.app.state.tracker
    return st


async def authenticate(request: Request) -> Row:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("missing bearer token (create one with: tracker token create NAME)")
    record = await state(request).store.token_by_secret(token.strip())
    if record is None:
        raise Unauthorized("invalid or revoked token")
    return record


async def read_json(request: Request, limit: int) -> dict[str, Any]:
    """A JSON object body: size capped (413), depth capped and well-formed (400)."""
    data = jsondoc.loads(await read_body(request, limit))
    if not isinstance(data, dict):
        raise BadRequest("expected a JSON object")
    return data


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"body larger than {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"body larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def page_args(request: Request) -> tuple[int, int]:
    """``limit`` (1..MAX_LIMIT, default 100) and ``offset`` (0..10**9), each named in its
    error by the one whole-number rule (``query_int``)."""
    limit = query_int(request, "limit", 100, 1, MAX_LIMIT)
    return limit, query_int(request, "offset", 0, 0, 10**9)


def query_int(request: Request, name: str, default: int, lo: int, hi: int) -> int:
    """An optional whole-number query parameter in [lo, hi]: ``default`` when absent or
    empty, else ASCII digits (an optional minus sign) in range, or a 400 naming it."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    value = int(raw) if _INT.fullmatch(raw) else None
    if value is None or not lo <= value <= hi:
        raise BadRequest(f"{name}: a whole number {lo}..{hi}, got {raw[:32]!r}")
    return value


def csv_response(columns: Sequence[str], rows: Iterable[Sequence[Any]], filename: str) -> Response:
    return Response(
        to_csv(columns, rows),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{filename}"'},
    )
