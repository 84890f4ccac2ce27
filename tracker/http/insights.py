"""Portfolio insights over HTTP (issue 20): authentic engagement, creator scores and roster
advice, posting times, content types per tier, and the budget forecast.

Each takes the report range (``start``, ``end``, ``model``, lookbacks) like
``/api/v1/reports/{dimension}``; the numbers come from ``tracker/reports/`` (the panel calls
the same functions).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tracker.core.errors import BadRequest
from tracker.http.common import authenticate, query_int, state
from tracker.http.openapi import Op, Param, doc
from tracker.http.reports import REPORT_QUERY
from tracker.reports import build as reports
from tracker.reports import engagement, forecast, scores, timing


@doc(
    get=Op(
        "Authentic engagement: flagged posts with their evidence, creators and tiers with "
        "engagement averages with and without the flagged posts",
        query=REPORT_QUERY,
    )
)
async def engagement_report(request: Request) -> Response:
    await authenticate(request)
    st = state(request)
    p = reports.params_from(dict(request.query_params), st.settings)
    creators = {r["id"]: r for r in await st.store.creators_meta()}
    return JSONResponse(await engagement.report(st.store, p, creators))


@doc(get=Op("Creator scores (parts visible) and roster advice with reasons", query=REPORT_QUERY))
async def score_report(request: Request) -> Response:
    await authenticate(request)
    st = state(request)
    p = reports.params_from(dict(request.query_params), st.settings)
    return JSONResponse(await scores.scorecard(st.store, st.settings, p))


@doc(
    get=Op(
        "Human clicks and conversions by hour of the week, with the best posting windows",
        query=(
            *REPORT_QUERY,
            Param("by", {"type": "string", "enum": ["all", "platform"]}, "one grid per key"),
            Param("creator_id", description="one creator's grid (id or handle)"),
            Param("tz", description="IANA time zone of the grid, default UTC"),
        ),
    )
)
async def posting_times(request: Request) -> Response:
    await authenticate(request)
    st = state(request)
    q = request.query_params
    p = reports.params_from(dict(q), st.settings)
    creator = q.get("creator_id")
    creator_id = (await st.store.get_creator(creator))["id"] if creator else None
    by = q.get("by") or "all"
    if by == "creator" and creator_id is None:
        raise BadRequest("by=creator needs creator_id")
    return JSONResponse(await timing.hours(st.store, p, by, creator_id, q.get("tz") or "UTC"))


@doc(get=Op("Human clicks, orders and conversion by content type per tier", query=REPORT_QUERY))
async def content_types(request: Request) -> Response:
    await authenticate(request)
    st = state(request)
    p = reports.params_from(dict(request.query_params), st.settings)
    return JSONResponse(await timing.content(st.store, st.settings, p))


@doc(
    get=Op(
        "Budget forecast: expected revenue and ROI of a budget split across tiers or "
        "creators, from fitted response curves, against the current split",
        query=(
            *REPORT_QUERY,
            Param("by", {"type": "string", "enum": list(forecast.UNITS)}, "unit of the split"),
            Param(
                "split_minor",
                description="spend per period per unit in minor units, e.g. micro:150000,mid:300000"
                " (creators by id or handle); none: the current total re-allocated",
            ),
            Param("period_days", {"type": "integer", "minimum": 7, "maximum": 92}),
            Param("periods", {"type": "integer", "minimum": 3, "maximum": 24}),
        ),
    )
)
async def budget_forecast(request: Request) -> Response:
    await authenticate(request)
    st = state(request)
    q = request.query_params
    p = reports.params_from(dict(q), st.settings)
    return JSONResponse(
        await forecast.forecast(
            st.store,
            p,
            by=q.get("by") or "tier",
            split=forecast.parse_split(q.get("split_minor")),
            period_days=query_int(request, "period_days", 30, 7, 92),
            periods=query_int(request, "periods", 6, 3, 24),
        )
    )


def routes() -> list[Route]:
    """Before ``/reports/{dimension}`` in the route table."""
    return [
        Route("/reports/engagement", engagement_report, methods=["GET"]),
        Route("/reports/scores", score_report, methods=["GET"]),
        Route("/reports/posting-times", posting_times, methods=["GET"]),
        Route("/reports/content-types", content_types, methods=["GET"]),
        Route("/reports/forecast", budget_forecast, methods=["GET"]),
    ]
