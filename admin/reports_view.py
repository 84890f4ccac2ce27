"""ROI tables: any report of ``tracker.reports`` with a model picker, a date range, sortable
columns, coloured ROI bands, a totals row, and a CSV export of exactly what is shown.

The page calls the same ``tracker.reports.build`` as the API, so both show the same
numbers. Until the reports module is installed (issue 4) the page says so instead.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from admin.charts import bar_chart
from admin.tables import Column, Table, format_value
from admin.web import admin, query_with, render

DIMENSION_LABELS = {
    "creator": "Creator",
    "tier": "Tier",
    "campaign": "Campaign",
    "category": "Content category",
    "platform": "Platform",
    "link": "Link",
    "content_type": "Content type",
}
MODEL_LABELS = {
    "last": "Last touch",
    "first": "First touch",
    "linear": "Linear",
    "position": "Position-based (40/20/40)",
    "time_decay": "Time decay",
}

METRICS = [
    Column("clicks", "Clicks", "int", "All clicks, bots included"),
    Column("human_clicks", "Human clicks", "int", "Bots and link previews excluded"),
    Column("unique_visitors", "Unique visitors", "int", "Distinct fingerprints"),
    Column(
        "orders",
        "Orders",
        "ratio",
        "Credited orders, cancelled and fully refunded ones excluded (fractions under shared models)",
    ),
    Column("revenue_minor", "Revenue", "money", "Attributed net revenue"),
    Column("new_customers", "New customers", "ratio"),
    Column(
        "conversion_rate",
        "Conv. rate",
        "pct",
        "Orders reached through a click (click id or fingerprint) / human clicks",
    ),
    Column("code_only_orders", "Code-only orders", "int", "Orders with no click from this row"),
    Column("aov_minor", "AOV", "money", "Average order value"),
    Column("epc_minor", "EPC", "money", "Earnings per human click"),
    Column("cost_minor", "Cost", "money", "Fees, products, commission and labour"),
    Column("cpa_minor", "CPA", "money", "Cost per credited order"),
    Column("roas", "ROAS", "ratio", "Revenue / cost"),
    Column("roi_pct", "ROI", "pct", "(Revenue - cost) / cost"),
    Column("band", "Band", "band", "ROAS >= 5 strong, 3-5 moderate, < 3 poor"),
    Column("engagement_rate", "Engagement", "pct", "(Likes + comments + shares) / followers"),
    Column("value_90d_minor", "90-day value", "money", "Later orders of acquired customers"),
]


def reports_module() -> ModuleType | None:
    try:
        return importlib.import_module("tracker.reports.build")
    except ImportError:
        return None


def columns_for(dimension: str) -> list[Column]:
    cols = [Column("label", DIMENSION_LABELS.get(dimension, dimension.title()))]
    if dimension == "creator":
        cols += [Column("tier", "Tier"), Column("platform", "Platform")]
    return cols + METRICS


def table_for(
    result: dict[str, Any], dimension: str, sort: str = "", descending: bool = True
) -> Table:
    """A report result (``tracker.reports.build``) as the table the page shows."""
    totals = dict(result.get("totals") or {})
    totals["label"] = "Total"
    notes = []
    un = result.get("unattributed") or {}
    if un.get("orders"):
        notes.append(
            f"Unattributed: {un['orders']} orders "
            f"({un.get('revenue_minor', 0) / 100:,.2f} {result.get('currency', '')})"
            " credited to no creator; not in the rows above."
        )
    if result.get("unconverted_currencies"):
        notes.append(
            "No exchange rate for "
            + ", ".join(result["unconverted_currencies"])
            + ": those amounts are left out, not mixed in."
        )
    table = Table(
        columns_for(dimension),
        list(result.get("rows") or []),
        totals,
        currency=str(result.get("currency") or ""),
        notes=notes,
    )
    return table.sorted(sort, descending) if sort else table


async def roi_page(request: Request) -> Response:
    reports = reports_module()
    if reports is None:
        return render(
            request,
            "placeholder.html",
            active="reports",
            title="ROI reports",
            text="ROI tables (model picker, date range, bands, CSV export) appear "
            "here when the reports module is installed (issue 4).",
        )
    a = admin(request)
    query = {
        k: v
        for k, v in request.query_params.items()
        if k in ("start", "end", "model", "half_life_days", "click_days", "fingerprint_days")
    }
    dimension = request.query_params.get("dimension", "creator")
    params = reports.params_from(query, a.settings)
    result = await reports.build(a.store, a.settings, params, dimension)
    sort = request.query_params.get("sort", "")
    table = table_for(result, dimension, sort, request.query_params.get("dir", "desc") != "asc")
    if request.query_params.get("format") == "csv":
        name = f"roi-{dimension}-{params.model}-{params.start}-{params.end}.csv"
        return Response(
            table.to_csv(),
            media_type="text/csv; charset=utf-8",
            headers={"content-disposition": f'attachment; filename="{name}"'},
        )
    models = getattr(reports, "MODELS", None) or tuple(MODEL_LABELS)
    return render(
        request,
        "reports.html",
        active="reports",
        table=table,
        result=result,
        dimension=dimension,
        model=params.model,
        start=params.start.isoformat(),
        end=params.end.isoformat(),
        dimensions=DIMENSION_LABELS,
        models={m: MODEL_LABELS.get(m, m) for m in models},
        query_with=lambda **kw: query_with(request, **kw),
        csv_url=query_with(request, format="csv"),
    )


async def portfolio(request: Request) -> dict[str, Any] | None:
    """The dashboard's ROI block over the default range (last 30 days, default model), or
    None until the reports module exists."""
    reports = reports_module()
    if reports is None:
        return None
    a = admin(request)
    params = reports.params_from({}, a.settings)
    # The block shows neither unique clicks nor clicks per day (the dashboard's own chart
    # has those), so it skips the DISTINCT counts and the daily click scan, and loads the
    # orders and costs once for both calls: ~4 s -> well under 1 s at 1M clicks.
    facts = await reports.load(a.store, params)
    result = await reports.build(
        a.store, a.settings, params, "creator", distinct=False, facts=facts
    )
    rows = [r for r in result["rows"] if r.get("key")]
    bands = {b: sum(1 for r in rows if r.get("band") == b) for b in ("strong", "moderate", "poor")}
    bands["no cost"] = sum(1 for r in rows if r.get("band") is None)
    ranked = sorted((r for r in rows if r.get("roi_pct") is not None), key=lambda r: r["roi_pct"])
    days = await reports.daily(
        a.store, a.settings, params, "creator", None, clicks=False, facts=facts
    )
    labels = [d["day"] for d in days]
    currency = result["currency"]
    orders_chart = bar_chart(
        labels,
        [("orders (credited)", [d["orders"] for d in days], "bar-human")],
        unit="orders per day",
        title="Credited orders per day",
    )
    revenue_chart = bar_chart(
        labels,
        [(currency, [d["revenue_minor"] / 100 for d in days], "bar-human")],
        unit=f"revenue per day ({currency})",
        title=f"Attributed revenue per day ({currency})",
    )
    totals = result["totals"]
    money = {
        k: format_value(totals.get(k), "money")
        for k in ("revenue_minor", "cost_minor", "cpa_minor")
    }
    return {
        "start": params.start.isoformat(),
        "end": params.end.isoformat(),
        "model": MODEL_LABELS.get(params.model, params.model),
        "currency": currency,
        "totals": totals,
        "money": money,
        "roi": format_value(totals.get("roi_pct"), "pct"),
        "bands": bands,
        "top": list(reversed(ranked[-5:])),
        "bottom": ranked[:5],
        "unattributed": result.get("unattributed") or {},
        "unattributed_revenue": format_value(
            (result.get("unattributed") or {}).get("revenue_minor", 0), "money"
        ),
        "orders_chart": orders_chart,
        "revenue_chart": revenue_chart,
    }


BANDS = ("strong", "moderate", "poor", "no cost")


async def creator_bands(request: Request) -> dict[str, str]:
    """Creator id -> ROI band over the default report range and model ('no cost' when the
    creator has no cost), for the creators list's band filter. Unique counts are skipped:
    a band depends only on revenue and cost."""
    reports = reports_module()
    if reports is None:
        return {}
    a = admin(request)
    params = reports.params_from({}, a.settings)
    result = await reports.build(a.store, a.settings, params, "creator", distinct=False)
    return {r["key"]: r.get("band") or "no cost" for r in result["rows"] if r.get("key")}
