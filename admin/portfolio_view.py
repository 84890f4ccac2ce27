"""Portfolio pages: overview (revenue concentration, bands, top and bottom), audience
overlap of the top creators as a heatmap, code leaks with their evidence, and
recommendations with their numbers and a link to act.

Every number comes from ``tracker.reports.portfolio``, the functions behind
``/api/v1/reports/overview``, ``/code-leaks`` and ``/recommendations``: the panel and the
API cannot disagree.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from admin.charts import heatmap, share_bars
from admin.reports_view import MODEL_LABELS
from admin.tables import format_value
from admin.web import admin, render
from tracker.reports import portfolio
from tracker.reports.build import Params, params_from

TOP_N = 10
SECTIONS = (
    ("overview", "Overview", "/portfolio"),
    ("overlap", "Audience overlap", "/portfolio/overlap"),
    ("leaks", "Code leaks", "/portfolio/leaks"),
    ("advice", "Recommendations", "/portfolio/advice"),
    ("reach", "Reach", "/reach"),
    ("audience", "Audience", "/audience"),  # admin/audience_view.py
    ("insights", "Insights", "/insights"),  # admin/insights_view.py (issue 20)
    ("journeys", "Journeys", "/journeys"),  # admin/journeys_view.py (issue 20)
)


KEEP = ("start", "end", "model")


def params(request: Request) -> Params:
    """The report parameters a portfolio section reads (date range and model)."""
    query = {k: v for k, v in request.query_params.items() if k in KEEP}
    return params_from(query, admin(request).settings)


def section_context(
    request: Request,
    section: str,
    p: Params,
    sections: tuple[tuple[str, str, str], ...] = SECTIONS,
    **extra: Any,
) -> dict[str, Any]:
    """What every page under Portfolio renders with (Portfolio, Insights, Journeys): its
    section navigation, which keeps the date range and model across sections, and pickers."""
    keep = "&".join(f"{k}={v}" for k, v in request.query_params.items() if k in KEEP)
    return {
        "active": "portfolio",  # under Portfolio: the main navigation is full at 1366 px
        "section": section,
        "sections": sections,
        "keep": f"?{keep}" if keep else "",
        "start": p.start.isoformat(),
        "end": p.end.isoformat(),
        "model": p.model,
        "models": MODEL_LABELS,
        "currency": p.currency,
        **extra,
    }


def _money(value: Any, currency: str) -> str:
    return format_value(value, "money", currency)


async def overview_page(request: Request) -> Response:
    a = admin(request)
    p = params(request)
    data = await portfolio.overview(a.store, a.settings, p, TOP_N, distinct=False)
    conc = data["concentration_pct"]
    chart = share_bars(
        [("Top creator", conc["top_1"]), ("Top 5", conc["top_5"]), ("Top 10", conc["top_10"])],
        title="Share of attributed revenue earned by the top creators",
    )
    rows = data["top"] + data["bottom"]
    for r in rows:
        r["revenue"] = _money(r["revenue_minor"], p.currency)
        r["cost"] = _money(r["cost_minor"], p.currency) if r.get("cost_minor") else ""
        r["roi"] = format_value(r["roi_pct"], "pct") if r.get("cost_minor") else ""
    excluded = data["unconverted_currencies"]
    return render(
        request,
        "portfolio.html",
        **section_context(request, "overview", p),
        data=data,
        chart=chart,
        bands=[(b, data["bands"].get(b, 0)) for b in ("strong", "moderate", "poor", "no cost")],
        totals={
            "revenue": _money(data["totals"]["revenue_minor"], p.currency),
            "cost": _money(data["totals"]["cost_minor"], p.currency),
            "roi": format_value(data["totals"]["roi_pct"], "pct"),
            "unattributed": _money(data["unattributed"].get("revenue_minor", 0), p.currency),
        },
        excluded=", ".join(excluded),
    )


async def overlap_page(request: Request) -> Response:
    a = admin(request)
    p = params(request)
    data = await portfolio.overview(a.store, a.settings, p, TOP_N, distinct=False)
    ov = data["overlap"]
    return render(
        request,
        "portfolio.html",
        **section_context(request, "overlap", p),
        overlap=ov,
        visitors=heatmap(
            ov["creators"], ov["visitors"], title="Visitors who clicked both creators' links"
        )
        if ov["creators"]
        else None,
        customers=heatmap(
            ov["creators"], ov["customers"], title="Customers credited to both creators"
        )
        if ov["creators"]
        else None,
    )


async def leaks_page(request: Request) -> Response:
    a = admin(request)
    p = params(request)
    rows = await portfolio.code_leaks(a.store, p)
    return render(
        request,
        "portfolio.html",
        **section_context(request, "leaks", p),
        leaks=rows,
        flagged=sum(1 for r in rows if r["flagged"]),
    )


async def advice_page(request: Request) -> Response:
    a = admin(request)
    p = params(request)
    data = await portfolio.recommendations(a.store, a.settings, p, distinct=False)
    by_handle = {r["handle"]: r["id"] for r in await a.store.creators_meta()}
    cur = p.currency
    rising = [
        {
            **r,
            "id": by_handle.get(r["creator"], ""),
            "cpa": _money(r["cpa_minor"], cur),
            "previous": _money(r["previous_cpa_minor"], cur),
            "median": _money(r["portfolio_median_cpa_minor"], cur),
        }
        for r in data["rising_cpa"]
    ]
    scale = [
        {
            **r,
            "id": by_handle.get(r["creator"], ""),
            "roi": format_value(r["roi_pct"], "pct"),
            "cost": _money(r["cost_minor"], cur),
            "median": _money(r["portfolio_median_cost_minor"], cur),
        }
        for r in data["scale"]
    ]
    realloc = data["reallocate"]
    if realloc:
        realloc = {
            **realloc,
            "budget": _money(realloc["budget_minor"], cur),
            "extra": _money(realloc["expected_extra_revenue_minor"], cur),
            "from_ids": [(h, by_handle.get(h, "")) for h in realloc["from"]],
            "to_ids": [(h, by_handle.get(h, "")) for h in realloc["to"]],
        }
    return render(
        request,
        "portfolio.html",
        **section_context(request, "advice", p),
        advice=data,
        rising=rising,
        scale=scale,
        realloc=realloc,
    )
