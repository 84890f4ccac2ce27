"""Insight pages (issue 20): authentic engagement, creator scores and roster advice, posting
times as a week heatmap, content types per tier, and the budget what-if.

Every number comes from the functions behind ``/api/v1/reports/engagement``, ``/scores``,
``/posting-times``, ``/content-types`` and ``/forecast``: the panel and the API agree.
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup, escape
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from admin import portfolio_view
from admin.tables import format_value
from admin.web import admin, render
from tracker.core.errors import Unprocessable
from tracker.core.money import major, to_minor
from tracker.reports import engagement, forecast, scores, timing

SECTIONS = (
    ("engagement", "Authentic engagement", "/insights"),
    ("scores", "Scores and advice", "/insights/scores"),
    ("timing", "When to post", "/insights/timing"),
    ("content", "What to post", "/insights/content"),
    ("forecast", "Budget forecast", "/insights/forecast"),
)


def _context(request: Request, section: str, p: Any) -> dict[str, Any]:
    return portfolio_view.section_context(
        request, section, p, SECTIONS, portfolio_sections=portfolio_view.SECTIONS
    )


def money(value: Any, currency: str) -> str:
    return format_value(value, "money", currency)


def week_heatmap(per_week: list[float], *, title: str) -> Markup:
    """7 rows (Monday first) x 24 hours, darker = more human clicks per week."""
    cell_w, cell_h, left, top = 26, 22, 44, 22
    width, height = left + 24 * cell_w + 8, top + 7 * cell_h + 8
    peak = max(per_week, default=0) or 1
    parts = [
        f'<svg class="chart heatmap week" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for hour in range(0, 24, 3):
        parts.append(
            f'<text class="tick" x="{left + hour * cell_w + 2}" y="{top - 6}">{hour:02d}h</text>'
        )
    for day in range(7):
        y = top + day * cell_h
        parts.append(
            f'<text class="tick" x="{left - 6}" y="{y + cell_h / 2 + 4:.1f}" '
            f'text-anchor="end">{timing.DAYS[day]}</text>'
        )
        for hour in range(24):
            value = per_week[day * 24 + hour]
            parts.append(
                f'<rect x="{left + hour * cell_w}" y="{y}" width="{cell_w - 2}" '
                f'height="{cell_h - 2}" fill="#2f5bd3" fill-opacity="{0.04 + 0.96 * value / peak:.2f}">'
                f"<title>{timing.label(day * 24 + hour)}: {value:,.1f} human clicks a week"
                "</title></rect>"
            )
    parts.append("</svg>")
    return Markup("".join(parts))


async def engagement_page(request: Request) -> Response:
    a = admin(request)
    p = portfolio_view.params(request)
    creators = {r["id"]: r for r in await a.store.creators_meta()}
    data = await engagement.report(a.store, p, creators)
    return render(request, "insights.html", **_context(request, "engagement", p), data=data)


async def scores_page(request: Request) -> Response:
    a = admin(request)
    p = portfolio_view.params(request)
    data = await scores.scorecard(a.store, a.settings, p)
    for row in data["creators"]:
        n = row["numbers"]
        n["cost"] = money(n["cost_minor"], p.currency)
        n["revenue"] = money(n["revenue_minor"], p.currency)
    return render(request, "insights.html", **_context(request, "scores", p), data=data)


async def timing_page(request: Request) -> Response:
    a = admin(request)
    p = portfolio_view.params(request)
    q = request.query_params
    by = q.get("by") or "all"
    by = by if by in ("all", "platform") else "all"
    creator = q.get("creator") or None
    creator_id = (await a.store.get_creator(creator))["id"] if creator else None
    data = await timing.hours(a.store, p, by, creator_id, q.get("tz") or "UTC")
    charts = [
        (
            g["key"] or ("@" + creator if creator else "All creators"),
            week_heatmap(
                [h["human_clicks_per_week"] for h in g["hours"]],
                title=f"Human clicks per week by hour ({data['tz']})",
            ),
            g,
        )
        for g in data["groups"]
    ]
    ctx = _context(request, "timing", p)
    return render(
        request,
        "insights.html",
        **ctx,
        data=data,
        charts=charts,
        by=by,
        creator=creator or "",
        tz=data["tz"],
    )


async def content_page(request: Request) -> Response:
    a = admin(request)
    p = portfolio_view.params(request)
    data = await timing.content(a.store, a.settings, p)
    for row in data["rows"]:
        row["revenue"] = money(row["revenue_minor"], p.currency)
        row["epc"] = money(row["epc_minor"], p.currency)
    return render(request, "insights.html", **_context(request, "content", p), data=data)


def _split(request: Request, currency: str) -> dict[str, int]:
    """``spend.KEY`` fields in major units -> minor units per unit (blank: keep current)."""
    out = {}
    for k, v in request.query_params.items():
        if k.startswith("spend.") and v.strip():
            amount = to_minor(v.strip(), currency, exact=True)
            if amount < 0:
                raise Unprocessable(f"spend: {v.strip()[:32]!r} is negative")
            out[k.removeprefix("spend.")] = amount
    return out


async def forecast_page(request: Request) -> Response:
    a = admin(request)
    p = portfolio_view.params(request)
    q = request.query_params
    by = q.get("by") or "tier"
    by = by if by in forecast.UNITS else "tier"
    period_days = int(q["period_days"]) if q.get("period_days", "").isdigit() else 30
    periods = int(q["periods"]) if q.get("periods", "").isdigit() else 6
    data = await forecast.forecast(
        a.store,
        p,
        by=by,
        split=_split(request, p.currency),
        period_days=period_days,
        periods=periods,
    )
    cur = p.currency
    for row in data["units"]:
        for side in ("current", "proposed"):
            s = row[side]
            s["spend"] = major(s["spend_minor"], cur)  # the form's value: plain major units
            s["spend_text"] = money(s["spend_minor"], cur)
            for k in ("revenue", "revenue_low", "revenue_high"):
                s[k] = money(s[f"{k}_minor"], cur)
        c = row["curve"]
        for k in ("baseline", "ceiling", "half_scale", "max_spend"):
            if c.get(f"{k}_minor") is not None:
                c[k] = money(c[f"{k}_minor"], cur)
    for side in ("current", "proposed"):
        s = data[side]
        for k in ("spend", "revenue", "revenue_low", "revenue_high"):
            s[k] = money(s[f"{k}_minor"], cur)
    return render(
        request,
        "insights.html",
        **_context(request, "forecast", p),
        data=data,
        by=by,
        period_days=period_days,
        periods=periods,
    )


def routes(guard: Any) -> list[Route]:
    return [
        Route("/insights", guard(engagement_page), methods=["GET"]),
        Route("/insights/scores", guard(scores_page), methods=["GET"]),
        Route("/insights/timing", guard(timing_page), methods=["GET"]),
        Route("/insights/content", guard(content_page), methods=["GET"]),
        Route("/insights/forecast", guard(forecast_page), methods=["GET"]),
    ]
