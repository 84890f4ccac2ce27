"""Catalogue pages: dashboard, creators, campaigns, links and API tokens.

Handlers stay thin: read the query or form, validate with the API's own pydantic models,
call the store or ``tracker.catalogue`` (so a link made here gets the same UTM defaults and
destination checks as one made through the API), then render or redirect (POST/redirect/GET).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import segno
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response

from admin import costs_view, creator_page, reports_view
from admin.charts import bar_chart, day_range
from admin.tables import Column, Table, format_value
from admin.web import (
    CSV_MAX,
    admin,
    form_dict,
    handles_of,
    listing,
    read_form,
    redirect,
    render,
)
from tracker import schemas
from tracker.catalogue.creators import PLATFORMS, tier_for, tier_names, tier_range
from tracker.core import clock
from tracker.core.errors import Conflict, NotFound, Rejected, Unprocessable
from tracker.http.errors import status_of
from tracker.links import service as catalogue
from tracker.reports import costs
from tracker.schemas import validate
from tracker.setting_table import SETTINGS

CHART_DAYS = 14
PLACEHOLDERS: dict[str, tuple[str, str]] = {}  # page name -> (title, text)


def clicks_chart(rows: list[dict[str, Any]], title: str) -> Markup:
    today = datetime.now(UTC).date()
    days = day_range(today, CHART_DAYS)
    by_day = {r["day"]: r for r in rows}
    return bar_chart(
        days,
        [
            (
                ("click (all)", "clicks (all)"),
                [by_day.get(d, {}).get("clicks", 0) for d in days],
                "bar-all",
            ),
            (
                ("human click", "human clicks"),
                [by_day.get(d, {}).get("human_clicks", 0) for d in days],
                "bar-human",
            ),
        ],
        unit="clicks per day",
        title=title,
    )


def _since() -> str:
    return (datetime.now(UTC).date() - timedelta(days=CHART_DAYS - 1)).isoformat()


# -- dashboard ------------------------------------------------------------------------------
async def dashboard(request: Request) -> Response:
    store = admin(request).store
    totals = await store.panel_totals()
    chart = clicks_chart(
        await store.daily_clicks(_since()), f"Clicks per day, last {CHART_DAYS} days"
    )
    portfolio = await reports_view.portfolio(request)
    steps = {
        "shop": bool(await store.list_shops(limit=1)),
        "creators": totals["creators"] > 0,
        "codes": bool(await store.list_codes(limit=1)),
        "links": totals["links"] > 0,
    }
    return render(
        request,
        "dashboard.html",
        active="dashboard",
        steps=steps if not all(steps.values()) else None,
        totals=totals,
        chart=chart,
        days=CHART_DAYS,
        portfolio=portfolio,
    )


# -- creators -------------------------------------------------------------------------------
CREATOR_FIELDS = tuple(schemas.CreatorIn.model_fields)


async def creators(
    request: Request,
    *,
    form_error: Rejected | None = None,
    form_values: dict[str, str] | None = None,
) -> Response:
    # long: the creators page: filters, sort, paging, tiers and the add form in one view
    store = admin(request).store
    qp = request.query_params
    ls = listing(request, "q", "tier", "platform", "category", "status", "campaign", "band")
    filters = ls.filters
    sort = qp.get("sort", "handle")
    descending = qp.get("dir") == "desc"
    fmin, fmax = tier_range(filters["tier"], admin(request).settings.tiers)
    bands = await reports_view.creator_bands(request) if filters["band"] else None
    rows, total = await store.search_creators(
        q=filters["q"],
        platform=filters["platform"],
        category=filters["category"],
        status=filters["status"],
        campaign_id=filters["campaign"],
        followers_min=fmin,
        followers_max=fmax,
        sort=sort,
        descending=descending,
        limit=CSV_MAX if bands is not None else ls.limit,
        offset=0 if bands is not None else ls.offset,
    )
    if bands is not None:  # the band comes from the creator report, not from a column
        rows = [r for r in rows if bands.get(r["id"], "no cost") == filters["band"]]
        total, rows = len(rows), ls.cut(rows)
    counts = await store.click_counts_by_creator([r["id"] for r in rows])
    items = [
        {
            **r,
            "tier": tier_for(int(r["followers"]), admin(request).settings.tiers),
            "clicks": counts.get(r["id"], 0),
        }
        for r in rows
    ]
    return ls.answer(
        Table(CREATOR_COLUMNS, items),
        "creators.csv",
        "creators.html",
        total,
        status=status_of(form_error) if form_error else 200,
        active="creators",
        sort=sort,
        descending=descending,
        facets=await store.creator_facets(),
        tiers=tier_names(admin(request).settings.tiers),
        campaigns=await store.list_campaigns(limit=500),
        platforms=PLATFORMS,
        bands=reports_view.BANDS,
        form_error=form_error,
        form=form_values or {},
    )


CREATOR_COLUMNS = [
    Column("handle", "Handle"),
    Column("name", "Name"),
    Column("platform", "Platform"),
    Column("followers", "Followers", "int"),
    Column("tier", "Tier"),
    Column("category", "Category"),
    Column("status", "Status"),
    Column("clicks", "Clicks (all)", "int"),
]


async def create_creator(request: Request) -> Response:
    form = await read_form(request)
    values = form_dict(form, CREATOR_FIELDS)
    try:
        model = validate(schemas.CreatorIn, values)
        row = await admin(request).store.create_creator(schemas.to_row(model))
    except (Unprocessable, Conflict) as exc:
        return await creators(request, form_error=exc, form_values=values)
    return redirect(request, f"/creators/{row['id']}", msg="created")


async def creator_detail(
    request: Request,
    *,
    ref: str | None = None,
    form_error: Rejected | None = None,
    form_values: dict[str, Any] | None = None,
    new_page_url: str | None = None,
) -> Response:
    a = admin(request)
    creator = await a.store.get_creator(ref or request.path_params["ref"])
    items = await link_cards(a, creator["id"])
    extra = await creator_extras(a.store, creator["id"])
    extra["costs"] = [costs_view.present_cost(c, a.settings) for c in extra["costs"]]
    extra["orders"] = [
        {**o, "net": format_value(o["net_minor"], "money", o["currency"])} for o in extra["orders"]
    ]
    summary = await reports_view.creator_money(request, creator["id"])
    if summary is not None:  # only this creator's own amounts matter here
        summary["excluded"] = _own_exclusions(creator, extra["costs"], summary["currency"])
    daily = await a.store.daily_clicks(_since(), creator_id=creator["id"])
    chart = clicks_chart(daily, f"Clicks per day for @{creator['handle']}, last {CHART_DAYS} days")
    return render(
        request,
        "creator.html",
        status=status_of(form_error) if form_error else (201 if new_page_url else 200),
        creator_pages=await a.store.list_creator_pages(creator["id"]),
        new_page_url=new_page_url,
        active="creators",
        creator=creator,
        tier=tier_for(int(creator["followers"]), admin(request).settings.tiers),
        links=items,
        chart=chart,
        campaigns=await a.store.list_campaigns(limit=500),
        platforms=PLATFORMS,
        form=form_values or {},
        form_error=form_error,
        summary=summary,
        **extra,
    )


async def link_cards(a: Any, creator_id: str) -> list[dict[str, Any]]:
    """A creator's links with their short URL, QR code, click count and true state."""
    links = await a.store.list_links(creator_id=creator_id, limit=500)
    counts = await a.store.click_counts_by_link([ln["id"] for ln in links])
    now = clock.now_iso()
    items = []
    for ln in links:
        short = f"{a.settings.base_url}/{ln['slug']}"
        # viewBox instead of a fixed size, so CSS scales it; printed at any size it stays sharp.
        qr = segno.make(short, error="m").svg_inline(
            scale=3,
            border=2,
            dark="#111",
            svgclass="qr",
            lineclass=None,
            omitsize=True,
            title=f"QR code for {short}",
        )
        items.append(
            {
                **ln,
                "short_url": short,
                "qr": Markup(qr),
                "clicks": counts.get(ln["id"], 0),
                "state": catalogue.link_state(ln, now),
            }
        )
    return items


def _own_exclusions(creator: dict[str, Any], costs: list[dict[str, Any]], currency: str) -> str:
    left_out = sorted({c["currency"] for c in costs if c["excluded"]})
    if not left_out:
        return ""
    return (
        f"Excluded from cost and ROI: @{creator['handle']}'s costs in {', '.join(left_out)} "
        f"(no exchange rate into {currency}; set TRACKER_FX_RATES, e.g. {left_out[0]}=1.08)."
    )


async def creator_extras(store: Any, creator_id: str) -> dict[str, Any]:
    """Codes, costs, posts (with engagement rate) and the orders credited to a creator
    (the winning signal: code, click or fingerprint), newest first, at most 50 of each."""
    return {
        "codes": await store.list_codes(creator_id=creator_id, limit=50),
        "costs": list(reversed(await store.list_costs(creator_id=creator_id, limit=10_000)))[:50],
        "posts": [
            costs.present_post(p)
            for p in reversed(await store.list_posts(creator_id=creator_id, limit=10_000))
        ][:50],
        "orders": await store.list_orders(creator_id=creator_id, limit=50),
    }


async def update_creator(request: Request) -> Response:
    a = admin(request)
    creator = await a.store.get_creator(request.path_params["ref"])
    form = await read_form(request)
    values = form_dict(form, CREATOR_FIELDS)
    try:
        model = validate(schemas.CreatorPatch, values)
        fields = schemas.to_row(model, only_set=True)
        if fields:
            await a.store.update_creator(creator["id"], fields)
    except (Unprocessable, Conflict) as exc:
        return await creator_detail(
            request, ref=creator["id"], form_error=exc, form_values={"edit": True, **values}
        )
    return redirect(request, f"/creators/{creator['id']}", msg="saved")


async def create_creator_page(request: Request) -> Response:
    """A new secret link to the creator's own page, shown in this response only."""
    a = admin(request)
    creator = await a.store.get_creator(request.path_params["ref"])
    token = await creator_page.issue(a.store, creator["id"])
    return await creator_detail(
        request, ref=creator["id"], new_page_url=f"{a.settings.base_url}/c/{token}"
    )


async def revoke_creator_page(request: Request) -> Response:
    row = await admin(request).store.revoke_creator_page(request.path_params["ref"])
    if row is None:
        raise NotFound("no such creator page")
    return redirect(request, f"/creators/{row['creator_id']}", msg="saved")


# -- links ----------------------------------------------------------------------------------
LINK_FIELDS = tuple(name for name in schemas.LinkIn.model_fields if name != "utm_override")


LINK_STATES = ("active", "expired", "disabled")
LINK_COLUMNS = [
    Column("short_url", "Short link"),
    Column("creator", "Creator"),
    Column("campaign", "Campaign"),
    Column("destination", "Destination"),
    Column("clicks", "Clicks (all)", "int"),
    Column("state", "State"),
    Column("expires", "Expires (UTC)"),
]


async def links(
    request: Request,
    *,
    form_error: Rejected | None = None,
    form_values: dict[str, str] | None = None,
) -> Response:
    a = admin(request)
    ls = listing(request, "q", "creator", "campaign", "state")
    filters = ls.filters
    creator_id = (
        (await a.store.get_creator(filters["creator"].lstrip("@")))["id"]
        if filters["creator"]
        else None
    )
    campaign_id = (
        (await a.store.get_campaign(filters["campaign"]))["id"] if filters["campaign"] else None
    )
    now = clock.now_iso()
    rows, total = await a.store.search_links(
        q=filters["q"],
        creator_id=creator_id,
        campaign_id=campaign_id,
        state=filters["state"] if filters["state"] in LINK_STATES else "",
        now=now,
        limit=ls.limit,
        offset=ls.offset,
    )
    counts = await a.store.click_counts_by_link([r["id"] for r in rows])
    items = [
        {
            **r,
            "short_url": f"{a.settings.base_url}/{r['slug']}",
            "clicks": counts.get(r["id"], 0),
            "state": catalogue.link_state(r, now),
            "creator": f"@{r['creator_handle']}" if r.get("creator_handle") else "",
            "campaign": r.get("campaign_name") or "",
            "expires": (r.get("expires_at") or "")[:16].replace("T", " "),
        }
        for r in rows
    ]
    return ls.answer(
        Table(LINK_COLUMNS, items),
        "links.csv",
        "links.html",
        total,
        status=status_of(form_error) if form_error else 200,
        active="links",
        states=LINK_STATES,
        campaigns=await a.store.list_campaigns(limit=500),
        form_error=form_error,
        form=form_values or {},
    )


async def create_link(request: Request) -> Response:
    a = admin(request)
    form = await read_form(request)
    values: dict[str, Any] = form_dict(form, LINK_FIELDS)
    if form.get("utm_override"):
        values["utm_override"] = True
    back = str(form.get("back") or "")
    try:
        model = validate(schemas.LinkIn, values)
        link = await catalogue.create_link(
            a.store, a.settings, schemas.to_row(model), model.model_fields_set
        )
    except (Unprocessable, Conflict, NotFound) as exc:
        if back == "creator" and values.get("creator_id"):
            return await creator_detail(
                request, ref=values["creator_id"], form_error=exc, form_values=values
            )
        return await links(request, form_error=exc, form_values=values)
    a.state.cache.invalidate(link["slug"])
    if back == "creator" and link.get("creator_id"):
        return redirect(request, f"/creators/{link['creator_id']}", msg="link_created")
    return redirect(request, "/links", msg="link_created")


BULK_LINK_FIELDS = ("destination", "campaign_id", "content_type", "utm_term", "title")


async def bulk_links(request: Request) -> Response:
    """One link per creator (the handles typed, else every active creator), all or nothing;
    then the list of the campaign's links to that page, whose CSV export holds them."""
    a = admin(request)
    form = await read_form(request)
    values: dict[str, Any] = form_dict(form, BULK_LINK_FIELDS)
    raw = str(form.get("creators") or "")
    handles = handles_of(raw)
    if handles:
        values["creators"] = handles
    try:
        model = validate(schemas.LinkBulk, values)
        rows = await catalogue.bulk_create(a.store, a.settings, schemas.to_row(model))
    except (Unprocessable, Conflict) as exc:
        shown = {**values, "creators": raw, "bulk": "1"}
        return await links(request, form_error=exc, form_values=shown)
    a.state.cache.invalidate(*(r["slug"] for r in rows))
    # the links just made: those of the campaign (if any) to the page (the list's search
    # keeps 100 characters: a longer page's start)
    made = {"campaign": rows[0].get("campaign_id") or "", "q": rows[0]["destination"][:100]}
    return redirect(request, "/links", **{k: v for k, v in made.items() if v}, msg="links_created")


async def set_link_status(request: Request) -> Response:
    """Disable or re-enable a link; the redirect follows at once on this node."""
    a = admin(request)
    form = await read_form(request)
    status = str(form.get("status") or "")
    if status not in ("active", "disabled"):
        raise Unprocessable("status: active or disabled")
    before, after = await catalogue.update_link(
        a.store, a.settings, request.path_params["ref"], {"status": status}
    )
    a.state.cache.invalidate(before["slug"], after["slug"])
    if str(form.get("back") or "") == "creator" and after.get("creator_id"):
        return redirect(request, f"/creators/{after['creator_id']}", msg="saved")
    return redirect(request, "/links", msg="saved")


# -- settings -------------------------------------------------------------------------------
def _shown(name: str, value: Any) -> str:
    """A setting as the page may show it: secrets never, passwords in URLs masked."""
    if name == "TRACKER_SECRET_KEY":
        return "(set, not shown)"
    if isinstance(value, tuple):
        value = ", ".join(str(v) for v in value) or "(empty)"
    text = str(value)
    if name == "TRACKER_DATABASE_URL":
        text = re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", text)
    return text


async def settings_page(request: Request) -> Response:
    """Read-only: settings come from the environment (TRACKER_*), one place, at start-up."""
    current = admin(request).settings
    rows = []
    for setting in SETTINGS:
        key = setting.name.removeprefix("TRACKER_").lower()
        value = getattr(current, key, None)
        rows.append(
            {"name": setting.name, "value": _shown(setting.name, value), "help": setting.help}
        )
    return render(request, "settings.html", active="settings", rows=rows)


# -- placeholders ---------------------------------------------------------------------------
def placeholder(name: str) -> Callable[[Request], Awaitable[Response]]:
    title, text = PLACEHOLDERS[name]

    async def page(request: Request) -> Response:
        return render(request, "placeholder.html", active=name, title=title, text=text)

    page.__name__ = f"placeholder_{name}"
    return page
