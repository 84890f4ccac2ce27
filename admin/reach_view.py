"""Reach: where the clicks come from (country, sorted table and bar chart), how each
targeting rule or A/B variant converts, and the storefront snippet with its integrity hash.

Every number is ``tracker.reports.build`` with the ``country`` or ``variant`` dimension,
the same as ``/api/v1/reports/country`` and ``/api/v1/reports/variant``.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from admin.charts import share_bars
from admin.portfolio_view import SECTIONS
from admin.reports_view import MODEL_LABELS
from admin.tables import format_value
from admin.web import admin, render
from tracker.links import snippet
from tracker.reports import build as reports

CHART_ROWS = 15
TABLE_ROWS = 20  # countries listed unless ?countries=all


def _share(part: float, whole: float) -> float | None:
    return 100.0 * part / whole if whole else None


def _rows(result: dict[str, Any], currency: str) -> list[dict[str, Any]]:
    """Report rows sorted by human clicks (then revenue), with display values."""
    total = result["totals"]["human_clicks"] or 0
    rows = sorted(
        result["rows"],
        key=lambda r: (-(r["human_clicks"] or 0), -(r["revenue_minor"] or 0), str(r["label"])),
    )
    out = []
    for r in rows:
        share = _share(r["human_clicks"] or 0, total)
        out.append(
            {
                "key": r["key"],
                "label": r["label"],
                "clicks": r["clicks"],
                "human_clicks": r["human_clicks"],
                "share": share,
                "share_text": format_value(share, "pct") if share is not None else "—",
                "orders": format_value(r["orders"], "count"),
                "click_orders": r["click_orders"],
                "conversion": format_value(r.get("conversion_rate"), "pct"),
                "revenue": format_value(r["revenue_minor"], "money", currency),
                "epc": format_value(r.get("epc_minor"), "money", currency),
            }
        )
    return out


async def reach_page(request: Request) -> Response:
    a = admin(request)
    keys = ("start", "end", "model", "country", "variant", "link_id")
    query = {k: v for k, v in request.query_params.items() if k in keys}
    p = reports.params_from(query, a.settings)
    facts = await reports.load(a.store, p)  # one read of orders, touches and costs for both
    countries = await reports.build(a.store, a.settings, p, "country", distinct=False, facts=facts)
    variants = await reports.build(a.store, a.settings, p, "variant", distinct=False, facts=facts)
    country_rows = _rows(countries, p.currency)
    chart = share_bars(
        [(str(r["label"]), r["share"]) for r in country_rows[:CHART_ROWS]],
        title="Share of human clicks by country",
    )
    return render(
        request,
        "reach.html",
        active="portfolio",
        section="reach",
        sections=SECTIONS,
        start=p.start.isoformat(),
        end=p.end.isoformat(),
        model=p.model,
        models=MODEL_LABELS,
        currency=p.currency,
        filters=dict(p.where),
        countries=country_rows
        if request.query_params.get("countries") == "all"
        else country_rows[:TABLE_ROWS],
        country_count=len(country_rows),
        variants=_rows(variants, p.currency),
        chart=chart if country_rows else None,
        snippet_tag=snippet.tag(a.settings),
        snippet_url=a.settings.base_url + snippet.PATH,
        integrity=snippet.integrity(),
        param=a.settings.click_id_param,
        days=a.settings.lookback_click_days,
    )
