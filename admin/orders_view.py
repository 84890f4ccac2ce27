"""Orders: the list (filters: creator, shop, method, unattributed, date, code), one order
with its explanation, touches and credit under every model, and the triage action that
gives an unknown code to a creator and re-attributes the orders that carried it.

Handlers stay thin: the reads are ``Store.search_orders`` / ``unknown_codes``, the credit
is ``tracker.attribution.credit.by_model`` (as ``GET /api/v1/orders/{id}``), the triage is
``tracker.orders.triage.assign_code``.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from admin.tables import Column, Table, csv_response
from admin.web import (
    PAGE_SIZE,
    Page,
    admin,
    form_dict,
    page_number,
    query_with,
    read_form,
    redirect,
    render,
)
from tracker.attribution import credit
from tracker.core import clock, money
from tracker.core.errors import Conflict, NotFound, Rejected, Unprocessable
from tracker.http.errors import status_of
from tracker.orders import triage
from tracker.reports import survey
from tracker.store.triage import METHODS

CSV_MAX = 100_000
COLUMNS = [
    Column("placed", "Placed (UTC)"),
    Column("shop", "Shop"),
    Column("order", "Order"),
    Column("total", "Total", "amount"),
    Column("net", "Net", "amount"),
    Column("currency", "Currency"),
    Column("status", "Status"),
    Column("creator", "Creator"),
    Column("method", "Signal"),
    Column("explanation", "Why"),
]
MODEL_LABELS = {
    "last": "Last touch",
    "first": "First touch",
    "linear": "Linear",
    "position": "Position-based",
    "time_decay": "Time decay",
}


def _date(raw: str) -> str:
    """A typed day within the stored range, or "" (no filter)."""
    try:
        return clock.check_date(date.fromisoformat(raw.strip()[:10])).isoformat()
    except ValueError:  # TimeOutOfRange too
        return ""


async def _filters(request: Request) -> tuple[dict[str, str], dict[str, Any]]:
    """The query as typed (for the form) and as the store takes it (ids resolved)."""
    store = admin(request).store
    qp = request.query_params
    shown = {
        k: qp.get(k, "").strip()[:100]
        for k in ("creator", "shop", "method", "unattributed", "start", "end", "q", "code")
    }
    shown["start"], shown["end"] = _date(shown["start"]), _date(shown["end"])
    where: dict[str, Any] = {
        "method": shown["method"] if shown["method"] in METHODS else "",
        "unattributed": shown["unattributed"] in ("1", "on", "true"),
        "start": shown["start"],
        # the midnight after the last day, saturating at the end of the range (9999-12-31)
        "end": clock.shift(f"{shown['end']}T00:00:00Z", timedelta(days=1)) if shown["end"] else "",
        "q": shown["q"],
        "code": shown["code"],
    }
    if shown["creator"]:
        where["creator_id"] = (await store.get_creator(shown["creator"].lstrip("@")))["id"]
    if shown["shop"]:
        where["shop_id"] = (await store.get_shop(shown["shop"]))["id"]
    return shown, where


def _row(o: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": o["id"],
        "creator_id": o["creator_id"],
        "placed": o["placed_at"][:16].replace("T", " "),
        "shop": o["shop"],
        "order": o["order_number"] or o["external_id"],
        "total": money.major(int(o["total_minor"]), o["currency"]),
        "net": money.major(int(o["net_minor"]), o["currency"]),
        "currency": o["currency"],
        "status": o["status"],
        "creator": f"@{o['creator_handle']}" if o["creator_handle"] else "unattributed",
        "method": o["method"] or "",
        "explanation": _readable(o["explanation"], {o["creator_id"]: o["creator_handle"]}),
    }


def _readable(explanation: str, handles: dict[str | None, str | None]) -> str:
    """The stored explanation names creators by id; people read handles."""
    for creator_id, handle in handles.items():
        if creator_id and handle:
            explanation = explanation.replace(creator_id, f"@{handle}")
    return explanation


async def orders_page(
    request: Request, *, form_error: Rejected | None = None, form: dict[str, str] | None = None
) -> Response:
    a = admin(request)
    filter_error: NotFound | None = None
    where: dict[str, Any] | None
    try:
        shown, where = await _filters(request)
    except NotFound as exc:  # an unknown creator or shop in the filter: say so, list nothing
        shown, where, filter_error = dict(request.query_params), None, exc
    number = page_number(request)
    csv = request.query_params.get("format") == "csv"
    rows: list[dict[str, Any]] = []
    total = 0
    if where is not None:
        raw, total = await a.store.search_orders(
            limit=CSV_MAX if csv else PAGE_SIZE,
            offset=0 if csv else (number - 1) * PAGE_SIZE,
            **where,
        )
        rows = [_row(o) for o in raw]
    table = Table(COLUMNS, rows)
    if csv:
        return csv_response(table, "orders.csv")
    return render(
        request,
        "orders.html",
        status=status_of(form_error) if form_error else (404 if filter_error else 200),
        active="orders",
        table=table,
        page=Page(number, PAGE_SIZE, total),
        filters=shown,
        filter_error=filter_error,
        methods=METHODS,
        shops=await a.store.list_shops(limit=200),
        unknown=await a.store.unknown_codes(),
        campaigns=await a.store.list_campaigns(limit=500),
        query_with=lambda **kw: query_with(request, **kw),
        csv_url=query_with(request, format="csv", page=""),
        form_error=form_error,
        form=form or {},
        assigned={
            k: int(request.query_params[k])
            for k in ("attributed", "carried")
            if request.query_params.get(k, "").isdigit()
        },
    )


async def order_detail(request: Request) -> Response:
    a = admin(request)
    order = await a.store.get_order(request.path_params["ref"])
    if order is None:
        raise NotFound("no such order")
    touches = await a.store.order_touches(order["id"])
    shares = credit.by_model(touches, order["placed_at"], a.settings.half_life_days)
    creators = sorted({who for model in shares.values() for who in model})
    currency = order["currency"]
    net = int(order["net_minor"])
    credit_rows = [
        {
            "creator": who,
            **{m: shares[m].get(who) for m in credit.ORDER_MODELS},
            **{
                f"{m}_amount": money.major(round(net * shares[m].get(who, 0)), currency)
                for m in credit.ORDER_MODELS
            },
        }
        for who in creators
    ]
    refunds = await a.store.order_refunds(order["shop_id"], order["external_id"])
    order = {
        **order,
        "explanation": _readable(
            order["explanation"], {t["creator_id"]: t["creator_handle"] for t in touches}
        ),
    }
    return render(
        request,
        "order.html",
        active="orders",
        order=order,
        amounts={
            k: money.major(int(order[k] or 0), currency)
            for k in (
                "subtotal_minor",
                "discount_minor",
                "total_minor",
                "refunded_minor",
                "net_minor",
            )
        },
        codes=json.loads(order["codes"] or "[]"),
        touches=touches,
        credit_rows=credit_rows,
        survey=await survey.order_claim(
            a.store, order.get("survey_answer"), a.settings.survey_min_score
        ),
        models={m: MODEL_LABELS.get(m, m) for m in credit.ORDER_MODELS},
        refunds=[
            {**r, "amount": money.major(int(r["amount_minor"]), r["currency"])} for r in refunds
        ],
    )


async def assign_code(request: Request) -> Response:
    """Give an unknown code to a creator; the orders that carried it are matched again."""
    a = admin(request)
    form = await read_form(request)
    values = form_dict(form, ("code", "creator_id", "campaign_id"))
    fields: dict[str, Any] = {
        k: v.lstrip("@") if k == "creator_id" else v for k, v in values.items()
    }
    try:
        result = await triage.assign_code(a.store, a.settings, fields)
    except (Unprocessable, Conflict, NotFound) as exc:
        return await orders_page(request, form_error=exc, form=values)
    return redirect(
        request,
        "/orders",
        code=result["code"]["code"],
        msg="code_assigned",
        attributed=str(result["attributed"]),
        carried=str(result["orders"]),
    )
