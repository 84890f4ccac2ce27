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
from admin.tables import Column, Table, csv_response, format_value
from admin.web import PAGE_SIZE, Page, admin, page_number, quantity, query_with, render
from tracker.core import money

DIMENSION_LABELS = {
    "creator": "Creator",
    "tier": "Tier",
    "campaign": "Campaign",
    "category": "Content category",
    "platform": "Platform",
    "link": "Link",
    "content_type": "Content type",
    "country": "Country",
    "variant": "Rule / variant",
}
MODEL_LABELS = {
    "last": "Last touch",
    "first": "First touch",
    "linear": "Linear",
    "position": "Position-based (40/20/40)",
    "time_decay": "Time decay",
    "data_driven": "Data-driven (Markov removal effect)",
}

#: What the ROI page passes on to ``params_from``: the range, model, lookbacks, filters.
QUERY_KEYS = (
    *("start", "end", "model", "half_life_days", "click_days", "fingerprint_days"),
    *("country", "variant", "link_id"),
)

METRICS = [
    Column("clicks", "Clicks", "int", "All clicks, bots included"),
    Column("human_clicks", "Human clicks", "int", "Bots and link previews excluded"),
    Column("unique_visitors", "Unique visitors", "int", "Distinct visitors per link per day"),
    Column(
        "orders",
        "Orders",
        "count",
        "Credited orders, cancelled and fully refunded ones excluded (fractions under shared models)",
    ),
    Column("revenue_minor", "Revenue", "money", "Attributed net revenue"),
    Column("new_customers", "New customers", "count"),
    Column(
        "conversion_rate",
        "Conv. rate",
        "pct",
        "Orders reached through a click (click id or fingerprint) / human clicks",
    ),
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


def _no_cost_blank(row: dict[str, Any]) -> dict[str, Any]:
    """Without a cost there is no CPA, ROAS or ROI to show (not 0.00)."""
    if row.get("cost_minor"):
        return row
    return {**row, "cpa_minor": None, "roas": None, "roi_pct": None}


def table_for(
    result: dict[str, Any], dimension: str, sort: str = "", descending: bool = True
) -> Table:
    """A report result (``tracker.reports.build``) as the table the page shows."""
    totals = _no_cost_blank(dict(result.get("totals") or {}))
    totals["label"] = "Total"
    notes = []
    currency = str(result.get("currency") or "USD")
    un = result.get("unattributed") or {}
    if un.get("orders"):
        notes.append(
            f"Unattributed: {quantity(un['orders'], 'order')} "
            f"({format_value(un.get('revenue_minor', 0), 'money', currency)} {currency})"
            " credited to no creator; not in the rows above."
        )
    if result.get("unconverted_currencies"):
        notes.append(excluded_note(result))
    dd = result.get("data_driven") or {}
    if dd.get("fallback"):
        notes.append(f"Data-driven: {dd['reason']} (see Portfolio → Journeys).")
    table = Table(
        columns_for(dimension),
        [_no_cost_blank(r) for r in result.get("rows") or []],
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
    query = {k: v for k, v in request.query_params.items() if k in QUERY_KEYS}
    dimension = request.query_params.get("dimension", "creator")
    params = reports.params_from(query, a.settings)
    # the table shows unique visitors, never unique clicks: skip the dearer count (~half)
    result = await reports.build(a.store, a.settings, params, dimension, unique_clicks=False)
    sort = request.query_params.get("sort", "")
    table = table_for(result, dimension, sort, request.query_params.get("dir", "desc") != "asc")
    q = request.query_params.get("q", "").strip()[:100]
    if q:
        needle = q.lower().lstrip("@")
        table.rows = [r for r in table.rows if needle in str(r.get("label") or "").lower()]
        table.totals = None  # the portfolio's totals would not be the found rows' sum
    if request.query_params.get("format") == "csv":
        name = f"roi-{dimension}-{params.model}-{params.start}-{params.end}.csv"
        return csv_response(table, name)
    page = Page(page_number(request), PAGE_SIZE, len(table.rows))
    table.rows = table.rows[page.offset : page.offset + page.size]
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
        csv_url=query_with(request, format="csv", page=""),
        page=page,
        q=q,
    )


async def portfolio(request: Request) -> dict[str, Any] | None:
    """The dashboard's ROI block over the default range (last 30 days, default model), or
    None until the reports module exists."""
    reports = reports_module()
    if reports is None:
        return None
    a = admin(request)
    query = {k: v for k, v in request.query_params.items() if k in ("start", "end", "model")}
    params = reports.params_from(query, a.settings)
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
        [(("order (credited)", "orders (credited)"), [d["orders"] for d in days], "bar-human")],
        unit="orders per day",
        title="Credited orders per day",
    )
    revenue_chart = bar_chart(
        labels,
        [
            (
                currency,
                [d["revenue_minor"] / 10 ** money.exponent(currency) for d in days],
                "bar-human",
            )
        ],
        unit=f"revenue per day ({currency})",
        title=f"Attributed revenue per day ({currency})",
    )
    return {
        "start": params.start.isoformat(),
        "end": params.end.isoformat(),
        "model": MODEL_LABELS.get(params.model, params.model),
        "model_key": params.model,
        "models": MODEL_LABELS,
        "excluded": excluded_note(result),
        "currency": currency,
        "bands": bands,
        "top": list(reversed(ranked[-5:])),
        "bottom": ranked[:5],
        "orders_chart": orders_chart,
        "revenue_chart": revenue_chart,
        **_headline(result),
    }


def _headline(result: dict[str, Any]) -> dict[str, Any]:
    """The dashboard's money figures, formatted in the report's currency."""
    totals = result["totals"]
    currency = result["currency"]
    unattributed = result.get("unattributed") or {}
    return {
        "totals": totals,
        "money": {
            k: format_value(totals.get(k), "money", currency)
            for k in ("revenue_minor", "cost_minor", "cpa_minor")
        },
        "roi": format_value(totals.get("roi_pct"), "pct"),
        "unattributed": unattributed,
        "unattributed_revenue": format_value(
            unattributed.get("revenue_minor", 0), "money", currency
        ),
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


async def campaign_money(request: Request, query: dict[str, str]) -> dict[str, Any]:
    """Campaign id -> revenue, spend (costs), orders, ROAS and ROI over the range, as the
    campaign report computes them; plus the range, model and excluded currencies."""
    a = admin(request)
    reports = reports_module()
    assert reports is not None
    params = reports.params_from(query, a.settings)
    result = await reports.build(a.store, a.settings, params, "campaign", distinct=False)
    out: dict[str, Any] = {}
    for r in result["rows"]:
        if not r.get("key"):
            continue
        out[r["key"]] = {
            **r,
            "cost": format_value(r.get("cost_minor"), "money", result["currency"])
            if r.get("cost_minor")
            else "",
            "revenue": format_value(r.get("revenue_minor"), "money", result["currency"]),
            "roi": format_value(r.get("roi_pct"), "pct") if r.get("cost_minor") else "",
            "roas": format_value(r.get("roas"), "ratio") if r.get("cost_minor") else "",
            "orders": format_value(r.get("orders"), "count"),
        }
    return {
        "rows": out,
        "currency": result["currency"],
        "start": params.start.isoformat(),
        "end": params.end.isoformat(),
        "model": params.model,
        "models": MODEL_LABELS,
        "excluded": excluded_note(result),
    }


def excluded_note(result: dict[str, Any]) -> str:
    """Amounts in a currency without a rate are left out of totals: say which, and why."""
    missing = result.get("unconverted_currencies") or []
    if not missing:
        return ""
    return (
        f"Excluded: amounts in {', '.join(missing)} (no exchange rate into "
        f"{result.get('currency', '')}; set TRACKER_FX_RATES, e.g. {missing[0]}=1.08)."
    )


async def creator_money(request: Request, creator_id: str) -> dict[str, Any] | None:
    """One creator's revenue, cost, ROI and orders over the picked range and model (the
    creator report's own row, so it matches the ROI table)."""
    reports = reports_module()
    if reports is None:
        return None
    a = admin(request)
    query = {k: v for k, v in request.query_params.items() if k in ("start", "end", "model")}
    params = reports.params_from(query, a.settings)
    result = await reports.build(a.store, a.settings, params, "creator", distinct=False)
    row: dict[str, Any] = next((r for r in result["rows"] if r.get("key") == creator_id), {})
    currency = result["currency"]
    has_cost = bool(row.get("cost_minor"))
    return {
        "start": params.start.isoformat(),
        "end": params.end.isoformat(),
        "model": params.model,
        "model_label": MODEL_LABELS.get(params.model, params.model),
        "models": MODEL_LABELS,
        "currency": currency,
        "revenue": format_value(row.get("revenue_minor") or 0, "money", currency),
        "cost": format_value(row.get("cost_minor"), "money", currency) if has_cost else "",
        "roi": format_value(row.get("roi_pct"), "pct") if has_cost else "",
        "roas": format_value(row.get("roas"), "ratio") if has_cost else "",
        "band": row.get("band") if has_cost else None,
        "orders": format_value(row.get("orders") or 0, "count"),
        "excluded": excluded_note(result),
    }
