"""``GET /healthz``: liveness plus the click writer's counters."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from tracker.core.errors import BadRequest
from tracker.http.common import state


async def healthz(request: Request) -> Response:
    """Liveness plus the click writer's counters; ``?since=EPOCH`` limits the lag figures
    to clicks requested from then on (how the benchmark reads one measured run)."""
    st = state(request)
    since: float | None = None
    if "since" in request.query_params:
        try:
            since = float(request.query_params["since"])
        except ValueError:
            raise BadRequest("since: epoch seconds expected") from None
    try:
        ok = await st.store.ping()
    except Exception:
        ok = False
    body = {
        "status": "ok" if ok else "unavailable",
        "engine": st.store.db.dialect,
        "click_writer": st.writer.stats(since),
        "durability": st.durability,
    }
    return JSONResponse(body, status_code=200 if ok else 503, headers={"cache-control": "no-store"})
