"""JSON API for the commissions ledger: rules, entries (JSON, CSV), statements per period
(JSON, CSV for payouts), approval on demand, payouts ("mark paid")."""

from __future__ import annotations

from datetime import date

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tracker import schemas
from tracker.commissions import ledger
from tracker.core import clock
from tracker.core.errors import BadRequest
from tracker.http.common import authenticate, csv_response, page_args, read_json, state
from tracker.http.openapi import PAGE, Op, Param, doc

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


DAY = {"type": "string", "format": "date"}
PERIOD = (Param("start", DAY), Param("end", DAY))
FILTERS = (Param("creator"), Param("order"), *PERIOD)


def _day(request: Request, name: str) -> date | None:
    raw = request.query_params.get(name)
    if not raw:
        return None
    try:
        return clock.check_date(date.fromisoformat(raw))  # the one time-range rule
    except ValueError:  # TimeOutOfRange is one
        raise BadRequest(f"{name}: expected YYYY-MM-DD {clock.RANGE_TEXT}") from None


SCOPE = {"type": "string", "enum": ["creator", "campaign", "tier"]}
SOURCE = {"type": "string", "enum": ["rule", "cost"]}


@doc(
    get=Op(
        "Commission rules, and the commission rates entered as costs (source: cost) the "
        "ledger applies as creator rules (with creator: every rule that can apply to them)",
        query=(
            *PAGE,
            Param("creator"),
            Param("scope", SCOPE),
            Param("source", SOURCE, "rule: the commission rules only; cost: the costs only"),
            Param("q"),
        ),
    ),
    post=Op(
        "Add a commission rule (rate or fixed per order) for a creator, a campaign or a tier",
        body=ledger.RuleIn,
        ok=(201,),
    ),
)
async def rules(request: Request) -> Response:
    await authenticate(request)
    st = state(request)
    if request.method == "GET":
        q = request.query_params
        creator = (await st.store.get_creator(q["creator"]))["id"] if q.get("creator") else None
        scope = q.get("scope") or None
        if scope not in (None, "creator", "campaign", "tier"):
            raise BadRequest("scope: creator, campaign or tier")
        source = q.get("source") or None
        if source not in (None, "rule", "cost"):
            raise BadRequest("source: rule or cost")
        limit, offset = page_args(request)
        items = await st.store.list_commission_rules(
            creator,
            scope=scope,
            q=(q.get("q") or "")[:100],
            source=source,
            limit=limit,
            offset=offset,
        )
        return JSONResponse({"items": items, "limit": limit, "offset": offset})
    model = schemas.validate(ledger.RuleIn, await read_json(request, st.settings.max_body_bytes))
    return JSONResponse(await ledger.add_rule(st.store, model, st.settings.tiers), status_code=201)


@doc(
    patch=Op(
        "End a commission rule on a day (orders already in the ledger keep their terms)",
        body=ledger.RuleEnd,
        path=(Param("ref", description="the rule's id"),),
    )
)
async def rule_item(request: Request) -> Response:
    await authenticate(request)
    st = state(request)
    model = schemas.validate(ledger.RuleEnd, await read_json(request, st.settings.max_body_bytes))
    return JSONResponse(await ledger.end_rule(st.store, request.path_params["ref"], model))


async def _entries(request: Request, *, csv: bool) -> Response:
    await authenticate(request)
    st = state(request)
    q = request.query_params
    creator = (await st.store.get_creator(q["creator"]))["id"] if q.get("creator") else None
    start, end = ledger.period(_day(request, "start"), _day(request, "end"))
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


@doc(get=Op("Commission ledger entries (append-only)", query=(*PAGE, *FILTERS)))
async def entries(request: Request) -> Response:
    return await _entries(request, csv=False)


@doc(get=Op("Commission ledger entries as CSV", query=FILTERS, media="text/csv"))
async def entries_csv(request: Request) -> Response:
    return await _entries(request, csv=True)


async def _statement(request: Request, *, csv: bool) -> Response:
    await authenticate(request)
    st = state(request)
    start, end = ledger.period(_day(request, "start"), _day(request, "end"))
    rows = await ledger.statement(st.store, start, end)
    if csv:
        cols = ledger.STATEMENT_COLUMNS
        return csv_response(cols, ([r[c] for c in cols] for r in rows), "statement.csv")
    return JSONResponse({"start": start, "end": end, "items": rows})


@doc(get=Op("Statement per creator and currency for a period", query=PERIOD))
async def statement(request: Request) -> Response:
    return await _statement(request, csv=False)


@doc(get=Op("Statement as CSV, for payouts", query=PERIOD, media="text/csv"))
async def statement_csv(request: Request) -> Response:
    return await _statement(request, csv=True)


@doc(post=Op("Approve every commission whose refund window has passed"))
async def approve(request: Request) -> Response:
    await authenticate(request)
    st = state(request)
    done = await ledger.approve_due(st.store, st.settings)
    return JSONResponse({"approved": len(done), "entries": done})


@doc(
    get=Op("Payouts", query=(*PAGE, Param("creator"))),
    post=Op("Mark paid (default: the whole balance owed)", body=ledger.PayoutIn, ok=(201,)),
)
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
    return JSONResponse(await ledger.payout(st.store, model), status_code=201)


def routes() -> list[Route]:
    return [
        Route("/commissions", entries, methods=["GET"]),
        Route("/commissions.csv", entries_csv, methods=["GET"]),
        Route("/commissions/rules", rules, methods=["GET", "POST"]),
        Route("/commissions/rules/{ref:str}", rule_item, methods=["PATCH"]),
        Route("/commissions/statement", statement, methods=["GET"]),
        Route("/commissions/statement.csv", statement_csv, methods=["GET"]),
        Route("/commissions/approve", approve, methods=["POST"]),
        Route("/commissions/payouts", payouts, methods=["GET", "POST"]),
    ]
