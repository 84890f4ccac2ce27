"""Campaigns and API tokens pages (moved from ``admin/pages.py``), paginated and searchable
with a CSV export of exactly what is shown, like the other lists (issue 16). The shops
list, the same way, lives with the shop pages in ``admin/commerce.py``.

Campaigns: search by name, state filter (active, scheduled, ended, disabled), budget
against spend, revenue, ROAS and ROI over a date range and model (the campaign report).
Tokens: search by name, status filter; a new token is shown once, in the POST's answer.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from admin import reports_view
from admin.tables import Column, Table, format_value
from admin.web import admin, form_dict, listing, read_form, redirect, render, sent_fields
from tracker import schemas
from tracker.catalogue import campaigns as campaigns_of
from tracker.core.errors import Conflict, Rejected, Unprocessable
from tracker.http.errors import status_of
from tracker.reports.params import query_date, start_within
from tracker.schemas import validate
from tracker.store.panel_catalogue import CAMPAIGN_STATES

#: the form's fields: the model's, money under the name people type it in (``budget``)
CAMPAIGN_FIELDS = tuple(f.removesuffix("_minor") for f in schemas.CampaignIn.model_fields)
TOKEN_COLUMNS = [
    Column("name", "Name"),
    Column("created", "Created (UTC)"),
    Column("last_used", "Last used (UTC)"),
    Column("status", "Status"),
]


def campaign_columns(currency: str) -> list[Column]:
    """The campaigns table's columns, the page's header and the CSV's: spend and revenue in
    the report's currency, named in their header; a budget names its own in each cell."""
    return [
        Column("name", "Name"),
        Column("dates", "Dates"),
        Column("state", "State"),
        Column("budget_text", "Budget", "amount"),
        Column("spend", f"Spend ({currency})", "amount"),
        Column("used", "Budget used", "amount"),
        Column("orders", "Orders", "amount"),
        Column("revenue", f"Revenue ({currency})", "amount"),
        Column("roas", "ROAS", "amount"),
        Column("roi", "ROI", "amount"),
        Column("links", "Links", "int"),
    ]


# -- campaigns ------------------------------------------------------------------------------
async def campaigns(
    request: Request,
    *,
    form_error: Rejected | None = None,
    form_values: dict[str, str] | None = None,
) -> Response:
    a = admin(request)
    today = datetime.now(UTC).date().isoformat()
    ls = listing(request, "q", "state")
    if ls.filters["state"] not in CAMPAIGN_STATES:
        ls.filters["state"] = ""
    items, total = await a.store.panel_campaigns(
        q=ls.filters["q"],
        state=ls.filters["state"],
        today=today,
        limit=ls.limit,
        offset=ls.offset,
    )
    starts = [c["starts_on"] for c in await a.store.list_campaigns(limit=100_000)]
    query = {k: v for k, v in request.query_params.items() if k in ("start", "end", "model")}
    if not query.get("start") and any(starts):  # budgets are spent since the campaigns began
        first = date.fromisoformat(min(s for s in starts if s))
        end = query_date(query, "end") or datetime.now(UTC).date()
        query["start"] = start_within(first, end).isoformat()
    money_rows = await reports_view.campaign_money(request, query)
    counts = await a.store.campaign_link_counts()
    rows = [_campaign_row(c, money_rows, counts, today) for c in items]
    columns = campaign_columns(money_rows["currency"])
    return ls.answer(
        Table(columns, rows, currency=money_rows["currency"]),
        "campaigns.csv",
        "campaigns.html",
        total,
        status=status_of(form_error) if form_error else 200,
        active="campaigns",
        columns=columns,
        report=money_rows,
        range_extra={k: v for k, v in ls.filters.items() if v},
        states=CAMPAIGN_STATES,
        form_error=form_error,
        form=form_values or {},
    )


def _campaign_row(
    c: dict[str, Any], money_rows: dict[str, Any], counts: dict[str, int], today: str
) -> dict[str, Any]:
    m = money_rows["rows"].get(c["id"], {})
    spend = m.get("cost_minor")
    budget = c.get("budget_minor")
    used = (
        round(100 * spend / budget)
        if budget and spend is not None and c["currency"] == money_rows["currency"]
        else None
    )
    return {
        **c,
        "dates": f"{c.get('starts_on') or '…'} to {c.get('ends_on') or '…'}",
        "state": campaigns_of.state(c, today),
        "budget": format_value(budget, "money", c["currency"]) if budget is not None else "",
        "budget_text": f"{format_value(budget, 'money', c['currency'])} {c['currency']}"
        if budget is not None
        else "",
        "spend": m.get("cost") or "",
        "revenue": m.get("revenue") or "",
        "roi": m.get("roi") or "",
        "roas": m.get("roas") or "",
        "orders": m.get("orders") or "",
        "used_pct": used,
        "used": f"{used}%" if used is not None else "",
        "links": counts.get(c["id"], 0),
    }


async def create_campaign(request: Request) -> Response:
    form = await read_form(request)
    values = form_dict(form, CAMPAIGN_FIELDS)
    try:
        model = validate(schemas.CampaignIn, _money_field(values))
        await admin(request).store.create_campaign(schemas.to_row(model))
    except (Unprocessable, Conflict) as exc:
        return await campaigns(request, form_error=exc, form_values=values)
    return redirect(request, "/campaigns", msg="created")


async def campaign_page(
    request: Request,
    *,
    form_error: Rejected | None = None,
    form_values: dict[str, str] | None = None,
) -> Response:
    """A campaign's facts and its edit form (its money is on the Campaigns list)."""
    a = admin(request)
    c = await a.store.get_campaign(request.path_params["ref"])
    today = datetime.now(UTC).date().isoformat()
    budget = c.get("budget_minor")
    shown = {
        **c,
        "state": campaigns_of.state(c, today),
        "budget": format_value(budget, "money", c["currency"]) if budget is not None else "",
        "links": (await a.store.campaign_link_counts()).get(c["id"], 0),
    }
    return render(
        request,
        "campaign.html",
        status=status_of(form_error) if form_error else 200,
        active="campaigns",
        campaign=shown,
        form_error=form_error,
        form=form_values or {},
    )


async def update_campaign(request: Request) -> Response:
    """Every field is sent: an emptied date or budget clears it. Through ``CampaignPatch``
    and the one money rule, as the API and the CLI; a refused form changes nothing."""
    a = admin(request)
    c = await a.store.get_campaign(request.path_params["ref"])
    form = await read_form(request)
    values = sent_fields(form, CAMPAIGN_FIELDS)
    try:
        fields: dict[str, Any] = {k: v or None for k, v in values.items() if k != "budget"}
        if values["budget"]:
            fields = _money_field({**fields, "budget": values["budget"]})
        else:
            fields["budget_minor"] = None
        model = validate(schemas.CampaignPatch, fields)
        await a.store.update_campaign(c["id"], schemas.to_row(model, only_set=True))
    except (Unprocessable, Conflict) as exc:
        return await campaign_page(request, form_error=exc, form_values={**values, "edit": "1"})
    return redirect(request, f"/campaigns/{c['id']}", msg="saved")


def _money_field(values: dict[str, Any]) -> dict[str, Any]:
    """The form asks for a budget in major units of the campaign's currency (12.50 USD,
    1500 JPY); the store keeps minor units. Parsed by the one money rule."""
    return campaigns_of.budget_from_major(values, values.get("currency") or "USD")


# -- API tokens -----------------------------------------------------------------------------
async def tokens(
    request: Request,
    *,
    new_token: str | None = None,
    form_error: Rejected | None = None,
    status: int = 200,
) -> Response:
    a = admin(request)
    ls = listing(request, "q", "status", csv=new_token is None)
    if ls.filters["status"] not in ("active", "revoked"):
        ls.filters["status"] = ""
    items, total = await a.store.panel_tokens(
        q=ls.filters["q"], status=ls.filters["status"], limit=ls.limit, offset=ls.offset
    )
    rows = [
        {
            **t,
            "created": t["created_at"][:16].replace("T", " "),
            "last_used": (t["last_used_at"] or "—")[:16].replace("T", " "),
            "status": "revoked" if t["revoked_at"] else "active",
        }
        for t in items
    ]
    return ls.answer(
        Table(TOKEN_COLUMNS, rows),
        "api-tokens.csv",
        "tokens.html",
        total,
        status=status,
        active="tokens",
        new_token=new_token,
        form_error=form_error,
    )


async def create_token(request: Request) -> Response:
    form = await read_form(request)
    try:
        name = validate(schemas.TokenIn, {"name": str(form.get("name") or "")}).name
    except Unprocessable as exc:
        return await tokens(request, form_error=exc, status=422)
    _, token = await admin(request).store.create_token(name)
    # Shown once, in this response only (never in a URL, never stored in clear).
    return await tokens(request, new_token=token, status=201)


async def revoke_token(request: Request) -> Response:
    await admin(request).store.revoke_token(request.path_params["ref"])
    return redirect(request, "/tokens", msg="revoked")
