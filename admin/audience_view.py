"""Audience: whose clicks came from which device, OS, browser (Instagram's or TikTok's in-app
browser included) or referrer host, for the portfolio, a creator, a campaign or a link: one
dimension at a time (tabs), a bar chart of the shares of human clicks and a sortable table
with a CSV export of exactly what the table shows.

One dimension a page, not four: the days not sealed yet are counted from the raw clicks,
distinct visitors included, and at 10M clicks a full open day of them is a few hundred ms
per dimension (README "History at scale"), so four would take the page past 1 s.

Every number is ``tracker.reports.breakdown``, the same as ``/api/v1/reports/breakdown``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from admin.charts import share_bars
from admin.portfolio_view import section_context
from admin.tables import Column, Table, csv_response
from admin.web import admin, query_with, render
from tracker.core.errors import NotFound
from tracker.http.errors import status_of
from tracker.reports import breakdown
from tracker.reports.params import params_from

TITLES = {
    "device": "Devices",
    "os": "Operating systems",
    "browser": "Browsers",
    "referrer": "Referrer hosts",
}
#: The table's first column per dimension.
LABELS = {"device": "Device", "os": "OS", "browser": "Browser", "referrer": "Referrer host"}
CHART_ROWS = 10
TABLE_ROWS = 25  # a table's rows on the page; the CSV holds them all
QUERY_KEYS = ("start", "end", "creator_id", "campaign_id", "link_id", "by")

METRICS = [
    Column("clicks", "Clicks", "int", "All clicks, bots and link previews included"),
    Column("human_clicks", "Human clicks", "int", "Bots and link previews excluded"),
    Column("human_share_pct", "Share", "pct", "Share of the human clicks"),
    Column("unique_visitors", "Unique visitors", "int", "Distinct visitors per link per day"),
    Column("unique_clicks", "Unique clicks", "int", "One per visitor per clock hour"),
]


def table_for(report: dict[str, Any], sort: str = "", descending: bool = True) -> Table:
    """A breakdown (``tracker.reports.breakdown.build``) as the table the page shows."""
    table = Table(
        [Column("label", LABELS[report["by"]]), *METRICS],
        list(report["rows"]),
        {**report["totals"], "label": "Total"},
    )
    return table.sorted(sort, descending) if sort else table


def _chart(report: dict[str, Any]) -> Any:
    rows = report["rows"][:CHART_ROWS]
    if not rows:
        return None
    return share_bars(
        [(_short(str(r["label"])), r["human_share_pct"]) for r in rows],
        title=f"Share of human clicks by {LABELS[report['by']].lower()}",
    )


def _short(label: str, width: int = 22) -> str:
    return label if len(label) <= width else label[: width - 1] + "…"


async def audience_page(request: Request) -> Response:
    a = admin(request)
    query = {k: v for k, v in request.query_params.items() if k in QUERY_KEYS}
    query["by"] = query.get("by") or breakdown.BY[0]
    typed = {k: v for k, v in query.items() if k in ("creator_id", "campaign_id", "link_id")}
    try:
        b = await breakdown.breakdown_from(a.store, a.settings, query)
    except NotFound as exc:  # a creator or campaign mistyped in the filters: said in the form
        p = params_from(query, a.settings)
        return render(
            request,
            "audience.html",
            status=status_of(exc),
            **section_context(request, "audience", p),
            by=query["by"],
            filters=typed,
            filter_error=exc,
        )
    report = await breakdown.build(a.store, b)
    sort = request.query_params.get("sort", "")
    table = table_for(report, sort, request.query_params.get("dir", "desc") != "asc")
    if request.query_params.get("format") == "csv":
        name = f"audience-{b.by}-{b.params.start}-{b.params.end}.csv"
        return csv_response(table, name)
    count = len(table.rows)
    table.rows = table.rows[:TABLE_ROWS]
    return render(
        request,
        "audience.html",
        **section_context(request, "audience", b.params),
        by=b.by,
        title=TITLES[b.by],
        tabs=[(by, TITLES[by], query_with(request, by=by, sort="", dir="")) for by in breakdown.BY],
        table=table,
        count=count,
        chart=_chart(report),
        csv_url=query_with(request, format="csv", by=b.by),
        whose=await _whose(a.store, b),
        api_query=urlencode({"by": b.by, "start": b.params.start, "end": b.params.end, **typed}),
        filters=typed,
        query_with=lambda **kw: query_with(request, **kw),
    )


async def _whose(store: Any, b: breakdown.Breakdown) -> str:
    """Whose clicks, in words: "@maya's", "campaign spring's", "/serum's", combined."""
    parts = []
    if b.creator_id:
        parts.append(f"@{(await store.get_creator(b.creator_id))['handle']}")
    if b.campaign_id:
        parts.append(f"campaign {(await store.get_campaign(b.campaign_id))['name']}")
    if b.link_id:
        try:
            parts.append(f"/{(await store.get_link(b.link_id))['slug']}")
        except NotFound:  # a link id of no link: no clicks, said as given
            parts.append(b.link_id)
    return ", ".join(parts) if parts else "the whole portfolio"
