"""Costs page: the cost list, a form to add one, and CSV imports of costs and content posts.

Every conversion goes through ``tracker.costs`` (the API's own rules: amounts in major units
in, minor units stored; commission as a rate; labour as hours x rate). Imports are checked
row by row first (``dry_run`` for the preview); a file with any bad row writes nothing and
shows each bad row's number (counting the header as row 1, as a spreadsheet does).
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response

from admin.tables import Column, Table
from admin.web import admin, form_dict, listing, read_form, redirect
from tracker.commissions.terms import wording
from tracker.core import money
from tracker.core.errors import Rejected, Unprocessable
from tracker.http.errors import status_of
from tracker.reports import costs
from tracker.reports.build import COST_KINDS

COST_FIELDS = (
    "creator",
    "campaign",
    "kind",
    "amount",
    "currency",
    "rate_percent",
    "hours",
    "hourly_rate",
    "date",
    "note",
)
IMPORT_KINDS = {
    "costs": ("Costs", costs.import_costs, "creator,kind,amount,currency,date,note"),
    "posts": (
        "Content posts",
        costs.import_posts,
        "creator,platform,format,posted_at,likes,comments,shares,followers,url",
    ),
}


async def costs_page(
    request: Request,
    *,
    form_error: Rejected | None = None,
    form_values: dict[str, str] | None = None,
    result: dict[str, Any] | None = None,
    import_kind: str = "costs",
    import_text: str = "",
    import_error: str | None = None,
    status: int = 200,
) -> Response:
    a = admin(request)
    ls = listing(request, "q", "creator", "campaign", "kind")
    filters = ls.filters
    creator = filters["creator"]
    creator_id = (await a.store.get_creator(creator.lstrip("@")))["id"] if creator else None
    campaign_id = (
        (await a.store.get_campaign(filters["campaign"]))["id"] if filters["campaign"] else None
    )
    rows, total = await a.store.panel_costs(
        q=filters["q"],
        creator_id=creator_id,
        campaign_id=campaign_id,
        kind=filters["kind"] if filters["kind"] in COST_KINDS else None,
        limit=ls.limit,
        offset=ls.offset,
    )
    return ls.answer(
        Table(CSV_COLUMNS, [present_cost(r, a.settings) for r in rows]),
        "costs.csv",
        "costs.html",
        total,
        status=status,
        active="costs",
        creator=creator,
        campaigns=await a.store.list_campaigns(limit=500),
        kinds=COST_KINDS,
        form_error=form_error,
        form=form_values or {},
        result=result,
        import_kind=import_kind,
        import_kinds={k: (v[0], v[2]) for k, v in IMPORT_KINDS.items()},
        import_text=import_text,
        import_error=import_error,
        imported=request.query_params.get("imported", "")[:9],
    )


CSV_COLUMNS = [
    Column("incurred_on", "Date"),
    Column("creator", "Creator"),
    Column("campaign", "Campaign"),
    Column("kind", "Kind"),
    Column("amount", "Amount", "amount"),
    Column("currency", "Currency"),
    Column("detail", "Detail"),
    Column("note", "Note"),
    Column("excluded", "Excluded from ROI"),
]


def present_cost(r: dict[str, Any], settings: Any) -> dict[str, Any]:
    """A cost as people read it: major units, what a commission or labour line means, and
    whether reports leave it out (a currency with no rate into the reporting currency)."""
    currency = r["currency"]
    detail = ""
    if r["kind"] == "commission":
        detail = wording(r.get("rate_bp"), None, None)  # what the commissions ledger pays
    elif r["kind"] == "labor":
        rate = money.major(int(r.get("rate_minor") or 0), currency)
        detail = f"{(r.get('hours_centi') or 0) / 100:g} h x {rate}"
    excluded = ""
    if (
        r["kind"] != "commission"
        and currency != settings.reporting_currency
        and currency not in settings.fx_rates
    ):
        excluded = f"no {currency} rate into {settings.reporting_currency} (TRACKER_FX_RATES)"
    return {
        **r,
        "creator": f"@{r['creator_handle']}" if r.get("creator_handle") else "",
        "campaign": r.get("campaign_name") or "",
        "amount": ""
        if r["kind"] == "commission"
        else money.major(int(r["amount_minor"]), currency),
        "detail": detail,
        "excluded": excluded,
    }


async def add_cost(request: Request) -> Response:
    """One cost from the form, through the same conversion as a CSV row."""
    store = admin(request).store
    values = form_dict(await read_form(request), COST_FIELDS)
    try:
        try:
            row = await costs.cost_from_fields(store, values)
        except ValidationError as exc:
            column, message = costs.column_error(exc)
            raise Unprocessable(f"{column}: {message}") from None
        await store.add_cost(row)
    except Unprocessable as exc:
        return await costs_page(request, form_error=exc, form_values=values, status=status_of(exc))
    return redirect(request, "/costs", msg="created")


async def import_csv(request: Request) -> Response:
    """Preview (dry run) or import a costs or posts CSV; any bad row: nothing written."""
    store = admin(request).store
    form = await read_form(request)
    kind = str(form.get("kind") or "costs")
    if kind not in IMPORT_KINDS:
        raise Unprocessable("kind: costs or posts")
    text = str(form.get("text") or "")
    upload = form.get("file")
    body = text.encode()
    if isinstance(upload, UploadFile) and upload.filename:
        body = await upload.read()
        if b"\x00" in body:
            raise Unprocessable("the file contains a NUL character")
        try:
            text = body.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = ""
    if not body.strip():
        return await costs_page(
            request,
            import_kind=kind,
            import_error="choose a CSV file (or paste its text) first",
            status=422,
        )
    dry_run = form.get("action") != "import"
    try:
        result = await IMPORT_KINDS[kind][1](store, body, dry_run=dry_run)
    except Unprocessable as exc:  # not UTF-8, no rows, too many rows
        return await costs_page(
            request, import_kind=kind, import_text=text, import_error=exc.reason, status=422
        )
    # tracker.costs counts data rows from 1; the page counts the header as row 1.
    result["errors"] = [{**e, "row": e["row"] + 1} for e in result["errors"]]
    if not result["errors"] and not dry_run:
        return redirect(request, "/costs", imported=str(result["imported"]), kind=kind)
    return await costs_page(
        request,
        result=result,
        import_kind=kind,
        import_text=text,
        status=422 if result["errors"] else 200,
    )
