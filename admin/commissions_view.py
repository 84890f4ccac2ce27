"""Commissions page (issue 18): the statement per creator and currency for a period, in
major units, with its CSV export (the same cells as the page) and "mark paid"; the rules
(per creator, campaign or tier), paginated and searchable, with a form to add one.

Every change goes through ``tracker.commissions.ledger``, the API's and the CLI's services.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from admin.tables import Column, Table
from admin.web import PAGE_SIZE, Page, admin, form_dict, listing, query_with, read_form, redirect
from tracker.catalogue.creators import tier_names
from tracker.commissions import ledger
from tracker.commissions.terms import wording
from tracker.core import clock, money
from tracker.core.errors import BadRequest, Rejected, Unprocessable
from tracker.http.errors import status_of
from tracker.schemas import validate

Handler = Callable[[Request], Awaitable[Response]]
RULE_FIELDS = (
    "scope",
    "creator",
    "campaign",
    "tier",
    "rate_percent",
    "fixed",
    "currency",
    "effective_from",
    "effective_until",
    "note",
)
STATEMENT_COLUMNS = [
    Column("creator", "Creator"),
    Column("currency", "Currency"),
    Column("approved", "Approved", "amount"),
    Column("reversed", "Clawed back", "amount"),
    Column("net_approved", "Net approved", "amount"),
    Column("paid", "Paid", "amount"),
    Column("pending", "Pending", "amount"),
    Column("balance", "Balance owed", "amount"),
]
_AMOUNTS = ("approved", "reversed", "net_approved", "paid", "pending", "balance")


def _day(request: Request, name: str) -> date | None:
    raw = request.query_params.get(name, "").strip()
    if not raw:
        return None
    try:
        return clock.check_date(date.fromisoformat(raw))
    except ValueError:
        raise BadRequest(f"{name}: expected YYYY-MM-DD {clock.RANGE_TEXT}") from None


def _statement_row(r: dict[str, Any]) -> dict[str, Any]:
    out = {**r, "creator": f"@{r['creator']}"}
    for k in _AMOUNTS:
        out[k] = money.major(int(r[f"{k}_minor"]), str(r["currency"]))
    return out


async def commissions_page(
    request: Request,
    *,
    form_error: Rejected | None = None,
    form_values: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    a = admin(request)
    qp = request.query_params
    start, end = _day(request, "start"), _day(request, "end")
    lo, hi = ledger.period(start, end)
    rows = [_statement_row(r) for r in await ledger.statement(a.store, lo, hi)]
    ls = listing(request, "start", "end", "creator")
    who = ls.filters["creator"] = ls.filters["creator"].lstrip("@").lower()
    if who:
        rows = [r for r in rows if who in str(r["creator"]).lower()]
    table = Table(STATEMENT_COLUMNS, ls.cut(rows))
    rule_q = qp.get("rq", "").strip()[:100]
    scope = qp.get("scope", "") if qp.get("scope") in ("creator", "campaign", "tier") else ""
    rule_number = int(qp["rpage"]) if qp.get("rpage", "").isdigit() else 1
    rule_number = max(1, min(rule_number, 10**6))
    offset = (rule_number - 1) * PAGE_SIZE
    rules = await a.store.list_commission_rules(
        scope=scope or None, q=rule_q, source="rule", limit=PAGE_SIZE, offset=offset
    )
    rule_total = await a.store.count_commission_rules(scope=scope or None, q=rule_q, source="rule")
    # commission rates entered as costs are creator rules too (README: Commissions): shown
    # in their own table (they end on the Costs page, not here), from the same read as the
    # API's and the CLI's list, so the page never says "no rule" while an order earns on one
    cost_rules = await a.store.list_commission_rules(source="cost", limit=PAGE_SIZE)
    cost_rule_total = await a.store.count_commission_rules(source="cost")
    return ls.answer(
        table,
        "statement.csv",
        "commissions.html",
        len(rows),
        status=status,
        active="commissions",
        table=table,
        rules=[_present_rule(r) for r in rules],
        rule_page=Page(rule_number, PAGE_SIZE, rule_total),
        rule_filters={"rq": rule_q, "scope": scope},
        rule_pager=lambda n: query_with(request, rpage=n),
        cost_rules=[_present_rule(r) for r in cost_rules],
        cost_rule_total=cost_rule_total,
        campaigns=await a.store.list_campaigns(limit=500),
        tiers=tier_names(a.settings.tiers),
        form_error=form_error,
        form=form_values or {},
    )


def _present_rule(r: dict[str, Any]) -> dict[str, Any]:
    if r["scope"] == "tier":
        applies = f"tier {r['tier']}"
    elif r["scope"] == "campaign":
        applies = f"every creator on {r['campaign_name']}"
    else:
        applies = f"@{r['creator_handle']}" + (
            f" on {r['campaign_name']}" if r["campaign_id"] else ""
        )
    terms = wording(r["rate_bp"], r["fixed_minor"], r["currency"])
    until = r["effective_until"] or "open"
    return {**r, "applies": applies, "terms": terms, "period": f"{r['effective_from']} → {until}"}


async def add_rule(request: Request) -> Response:
    a = admin(request)
    values = form_dict(await read_form(request), RULE_FIELDS)
    scope = values.get("scope", "creator")
    data: dict[str, Any] = {
        "creator_id": values.get("creator", "").lstrip("@") if scope == "creator" else None,
        "campaign_id": values.get("campaign") if scope in ("creator", "campaign") else None,
        "tier": values.get("tier") if scope == "tier" else None,
        "rate_percent": values.get("rate_percent"),
        "currency": money.typed_currency(values.get("currency", "")) or None,
        "effective_from": values.get("effective_from"),
        "effective_until": values.get("effective_until"),
        "note": values.get("note", ""),
    }
    try:
        if values.get("fixed"):
            if not data["currency"]:
                raise Unprocessable("currency: required with a fixed amount")
            data["fixed_minor"] = money.to_minor(values["fixed"], data["currency"], exact=True)
        model = validate(ledger.RuleIn, {k: v for k, v in data.items() if v not in (None, "")})
        await ledger.add_rule(a.store, model, a.settings.tiers)
    except Rejected as exc:
        return await commissions_page(
            request, form_error=exc, form_values=values, status=status_of(exc)
        )
    return redirect(request, "/commissions", msg="created")


async def end_rule(request: Request) -> Response:
    a = admin(request)
    values = form_dict(await read_form(request), ("effective_until",))
    model = validate(ledger.RuleEnd, {"effective_until": values.get("effective_until", "")})
    await ledger.end_rule(a.store, request.path_params["ref"], model)
    return redirect(request, "/commissions", msg="saved")


async def mark_paid(request: Request) -> Response:
    a = admin(request)
    values = form_dict(await read_form(request), ("creator_id", "currency", "reference"))
    model = validate(
        ledger.PayoutIn,
        {
            "creator_id": values.get("creator_id", ""),
            "currency": values.get("currency", ""),
            "reference": values.get("reference", ""),
        },
    )
    await ledger.payout(a.store, model)
    return redirect(request, "/commissions", msg="saved")


def routes(guard: Callable[[Handler], Handler]) -> list[Route]:
    G = guard
    return [
        Route("/commissions", G(commissions_page), methods=["GET"]),
        Route("/commissions/rules", G(add_rule), methods=["POST"]),
        Route("/commissions/rules/{ref:str}/end", G(end_rule), methods=["POST"]),
        Route("/commissions/payouts", G(mark_paid), methods=["POST"]),
    ]
