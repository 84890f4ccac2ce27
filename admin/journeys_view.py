"""Journeys: how customers came to buy, beyond one winner per order (issue 20).

Four pages over the functions behind the API (so the panel and ``/api/v1`` agree):
data-driven credit (``/reports/data-driven``), cumulative exposure (``/reports/exposure``),
collaborations (``/collabs``, ``/reports/collabs``) and survey answers (``/reports/survey``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from admin.charts import bar_chart, share_bars
from admin.portfolio_view import params, section_context
from admin.tables import format_value
from admin.web import admin, read_form, redirect, render
from tracker.core.errors import Rejected, Unprocessable
from tracker.reports import build as reports
from tracker.reports import collabs, exposure, paths, survey

Handler = Callable[[Request], Awaitable[Response]]
SECTIONS = (
    ("back", "← Portfolio", "/portfolio"),
    ("data-driven", "Data-driven credit", "/journeys"),
    ("exposure", "Exposure", "/journeys/exposure"),
    ("collabs", "Collaborations", "/journeys/collabs"),
    ("survey", "Survey answers", "/journeys/survey"),
)


def _money(value: Any, currency: str) -> str:
    return format_value(value, "money", currency)


async def data_driven_page(request: Request) -> Response:
    a = admin(request)
    p = replace(params(request), model="data_driven")
    found, creators = await reports.data_driven_fit(a.store, p)
    labels = {k: str(v.get("handle", k)) for k, v in creators.items()}
    fit = paths.describe(found, labels, top=50)
    chart = share_bars(
        [(f"@{e['label']}", e["share"] * 100) for e in fit["removal_effects"][:10]],
        title="Share of data-driven credit (normalised removal effect), top 10 creators",
    )
    return render(
        request,
        "journeys.html",
        **section_context(request, "data-driven", p, SECTIONS),
        fit=fit,
        chart=chart if fit["removal_effects"] else None,
    )


async def exposure_page(request: Request) -> Response:
    a = admin(request)
    p = params(request)
    data = await exposure.report(a.store, p)
    for block in (data["portfolio"], *data["tiers"].values()):
        for pt in block["by_creators"] + block["by_clicks"]:
            pt["revenue_per_visitor"] = _money(pt["revenue_per_visitor_minor"], p.currency)
            pt["rate"] = format_value((pt["conversion_rate"] or 0) * 100, "pct")
    curve = data["portfolio"]["by_creators"]
    chart = bar_chart(
        [pt["label"] for pt in curve],
        [("conversion %", [(pt["conversion_rate"] or 0) * 100 for pt in curve], "bar-human")],
        unit="conversion rate (%)",
        title="Conversion rate by the number of creators a visitor met",
    )
    return render(
        request,
        "journeys.html",
        **section_context(request, "exposure", p, SECTIONS),
        data=data,
        blocks=[("Portfolio", data["portfolio"])]
        + [(f"Tier: {t}", b) for t, b in data["tiers"].items()],
        chart=chart if curve else None,
    )


async def collabs_page(
    request: Request, *, form_error: Rejected | None = None, status: int = 200
) -> Response:
    a = admin(request)
    p = params(request)
    data = await collabs.report(a.store, a.settings, p)
    for row in data["rows"]:
        row["revenue"] = _money(row["revenue_minor"], p.currency)
        for m in row["members"]:
            m["revenue"] = _money(m["revenue_minor"], p.currency)
            m["pct"] = format_value(m["share_bp"] / 100, "pct")
    return render(
        request,
        "journeys.html",
        status=status,
        **section_context(request, "collabs", p, SECTIONS),
        data=data,
        form_error=form_error,
    )


def parse_shares(text: str) -> list[tuple[str, int]]:
    """'@maya 60, bob 40' (one 'handle percent' per comma or line) -> basis points."""
    out = []
    for part in text.replace("\n", ",").split(","):
        if not part.strip():
            continue
        bits = part.replace("%", " ").replace(":", " ").split()
        if len(bits) != 2:
            raise Unprocessable(f"shares: {part.strip()!r} is not 'handle percent'")
        try:
            bp = round(float(bits[1]) * 100)
        except ValueError:
            raise Unprocessable(f"shares: {bits[1]!r} is not a percentage") from None
        out.append((bits[0][:200], bp))
    return out


async def create_collab(request: Request) -> Response:
    a = admin(request)
    form = await read_form(request)
    target = str(form.get("target") or "").strip()
    kind = str(form.get("kind") or "link")
    try:
        await collabs.create(
            a.store,
            str(form.get("name") or "").strip()[:200] or target,
            target[:200] if kind == "link" else None,
            target[:200] if kind == "code" else None,
            parse_shares(str(form.get("shares") or "")[:5000]),
        )
    except Rejected as exc:
        return await collabs_page(request, form_error=exc, status=422)
    return redirect(request, "/journeys/collabs", msg="saved")


async def delete_collab(request: Request) -> Response:
    await collabs.delete(admin(request).store, request.path_params["ref"])
    return redirect(request, "/journeys/collabs", msg="deleted")


async def survey_page(request: Request) -> Response:
    a = admin(request)
    p = params(request)
    data = await survey.report(a.store, p, a.settings.survey_min_score)
    for r in data["rows"]:
        r["claimed_revenue"] = _money(r["claimed_revenue_minor"], p.currency)
        r["halo_revenue"] = _money(r["halo_revenue_minor"], p.currency)
    return render(
        request, "journeys.html", **section_context(request, "survey", p, SECTIONS), data=data
    )


def routes(guard: Callable[[Handler], Handler]) -> list[Route]:
    G = guard
    return [
        Route("/journeys", G(data_driven_page), methods=["GET"]),
        Route("/journeys/exposure", G(exposure_page), methods=["GET"]),
        Route("/journeys/collabs", G(collabs_page), methods=["GET"]),
        Route("/journeys/collabs", G(create_collab), methods=["POST"]),
        Route("/journeys/collabs/{ref:str}/delete", G(delete_collab), methods=["POST"]),
        Route("/journeys/survey", G(survey_page), methods=["GET"]),
    ]
