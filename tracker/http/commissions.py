"""JSON API for the commissions ledger: rules, entries (JSON, CSV), statements per period
(JSON, CSV for payouts), approval on demand, payouts ("mark paid")."""

from __future__ import annotations

from datetime import date

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tracker import schemas
from tracker.commissions import ledger
from tracker.core.errors import BadRequest
from tracker.http.common import authenticate, csv_response, page_args, read_json, state

ENTRY_COLUMNS = (
    "id",
    "created_at",
    "creator_id",
    "creator_handle",
    "order_id",
    "order_external_id",
    "placed_at",
    "campaign_id",
    "kind",
    "bucket",
    "amount_minor",
    "currency",
    "basis_minor",
    "rate_bp",
    "fixed_minor",
    "reason",
)


def _day(request: Request, name: str) -> date | None:
    raw = request.query_params.get(name)
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise BadRequest(f"{name}: expected YYYY-MM-DD") from None


async def rules(request: Request) -> Response:
    await authenticate(request)
    st = state(request)
    if request.method == "GET":
        q = request.query_params.get("creator")
        creator = (await st.store.get_creator(q))["id"] if q else None
        return JSONResponse({"items": await st.store.list_commission_rules(creator)})
    model = schemas.validate(ledger.RuleIn, await read_json(request, st.settings.max_body_bytes))
    return JSONResponse(await ledger.add_rule(st.store, model), status_code=201)  # type: ignore[arg-type]


async def entries(request: Request) -> Response:
    await authenticate(request)
    st = state(request)
    q = request.query_params
    creator = (await st.store.get_creator(q["creator"]))["id"] if q.get("creator") else None
    start, end = ledger.period(_day(request, "start"), _day(request, "end"))
    csv = request.url.path.endswith(".csv")
    limit, offset = (10**7, 0) if csv else page_args(request)
    rows = await st.store.commission_entries(
        creator_id=creator,
        order_id=q.get("order"),
        start=start,
        end=end,
        limit=limit,
        offset=offset,
    )
    if csv:
        return csv_response(
            ENTRY_COLUMNS, ([r.get(c) for c in ENTRY_COLUMNS] for r in rows), "commissions.csv"
        )
    return JSONResponse({"items": rows, "limit": limit, "offset": offset})


async def statement(request: Request) -> Response:
    await authenticate(request)
    st = state(request)
    start, end = ledger.period(_day(request, "start"), _day(request, "end"))
    rows = await ledger.statement(st.store, start, end)
    if request.url.path.endswith(".csv"):
        cols = ledger.STATEMENT_COLUMNS
        return csv_response(cols, ([r[c] for c in cols] for r in rows), "statement.csv")
    return JSONResponse({"start": start, "end": end, "items": rows})


async def approve(request: Request) -> Response:
    await authenticate(request)
    st = state(request)
    done = await ledger.approve_due(st.store, st.settings)
    return JSONResponse({"approved": len(done), "entries": done})


async def payouts(request: Request) -> Response:
    await authenticate(request)
    st = state(request)
    if request.method == "GET":
        limit, offset = page_args(request)
        q = request.query_params.get("creator")
        creator = (await st.store.get_creator(q))["id"] if q else None
        rows = await st.store.list_payouts(creator, limit, offset)
        return JSONResponse({"items": rows, "limit": limit, "offset": offset})
    model = schemas.validate(ledger.PayoutIn, await read_json(request, st.settings.max_body_bytes))
    return JSONResponse(await ledger.payout(st.store, model), status_code=201)  # type: ignore[arg-type]


def routes() -> list[Route]:
    return [
        Route("/commissions", entries, methods=["GET"]),
        Route("/commissions.csv", entries, methods=["GET"]),
        Route("/commissions/rules", rules, methods=["GET", "POST"]),
        Route("/commissions/statement", statement, methods=["GET"]),
        Route("/commissions/statement.csv", statement, methods=["GET"]),
        Route("/commissions/approve", approve, methods=["POST"]),
        Route("/commissions/payouts", payouts, methods=["GET", "POST"]),
    ]
