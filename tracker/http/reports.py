"""Reports over HTTP: JSON and CSV of the same rows (``tracker.reports``), plus costs and posts.

``GET /api/v1/reports/{dimension}`` with ``start``, ``end`` (dates, inclusive), ``model``,
``half_life_days``, ``click_days``, ``fingerprint_days``; append ``.csv`` for a CSV of exactly
the rows and totals the JSON carries.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tracker import schemas
from tracker.attribution.credit import MODELS
from tracker.core.errors import BadRequest, NotFound
from tracker.http.common import authenticate, csv_response, page_args, read_body, read_json, state
from tracker.http.openapi import PAGE, Op, Param, doc
from tracker.reports import breakdown, engagement, portfolio
from tracker.reports import build as reports
from tracker.reports.costs import cost_row, import_costs, import_posts, post_row, present_post

_DAYS = {"type": "integer", "minimum": 0, "maximum": 365}
REPORT_QUERY = (
    Param("start", {"type": "string", "format": "date"}, "first day (inclusive)"),
    Param("end", {"type": "string", "format": "date"}, "last day (inclusive), default today"),
    Param("model", {"type": "string", "enum": list(MODELS)}, "attribution model"),
    Param(
        "half_life_days",
        {"type": "number", "minimum": 0, "exclusiveMinimum": True, "maximum": 365},
    ),
    Param("click_days", _DAYS, "click lookback"),
    Param("fingerprint_days", _DAYS, "fingerprint lookback"),
    Param(
        "country",
        {"type": "string", "pattern": "^([A-Za-z]{2}|none)$"},
        "only clicks from this country (ISO 3166-1 alpha-2, or none), and the credit they earned",
    ),
    Param(
        "variant",
        {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9 ._-]{0,39}$"},
        "only clicks sent by this targeting rule or A/B variant (none: by neither)",
    ),
    Param(
        "link_id",
        {"type": "string", "pattern": "^ln_[A-Za-z0-9]{1,40}$"},
        "only this link's clicks and credit (with dimension=variant: its A/B split)",
    ),
)
#: A breakdown's parameters: the reports' dates and link, by what, whose clicks.
BREAKDOWN_QUERY = (
    Param(
        "by", {"type": "string", "enum": list(breakdown.BY)}, "what to break clicks down by", True
    ),
    *(p for p in REPORT_QUERY if p.name in ("start", "end", "link_id")),
    Param("creator_id", description="only this creator's clicks (id or handle)"),
    Param("campaign_id", description="only the clicks of this campaign's links (id or name)"),
)
EXCLUDE_FLAGGED = Param(
    "exclude_flagged",
    {"type": "boolean"},
    "leave the posts flagged by the authentic-engagement rules out of the engagement rate",
)
DIMENSION = Param("dimension", {"type": "string", "enum": list(reports.DIMENSIONS)})
CREATOR_FILTER = Param("creator_id", description="creator id or handle")


def csv_of(report: dict[str, Any]) -> Response:
    name = f"{report['dimension']}-{report['start']}-{report['end']}-{report['model']}.csv"
    return csv_response(reports.CSV_COLUMNS, reports.csv_rows(report), name)


async def _report(request: Request) -> dict[str, Any]:
    """The report of the path's dimension; with ``exclude_flagged``, built without the
    flagged posts, and saying how many it left out (per creator on the creator report)."""
    st = state(request)
    p = reports.params_from(dict(request.query_params), st.settings)
    dimension = request.path_params["dimension"]
    if request.query_params.get("exclude_flagged") not in ("1", "true"):
        return await reports.build(st.store, st.settings, p, dimension)
    if dimension not in reports.DIMENSIONS:
        raise BadRequest(f"dimension: one of {', '.join(reports.DIMENSIONS)}")
    facts = await reports.load(st.store, p)
    dropped = await engagement.drop_flagged(st.store, p, facts)
    report = await reports.build(st.store, st.settings, p, dimension, facts=facts)
    report["flagged_posts_excluded"] = sum(dropped.values())
    if dimension == "creator":
        for row in report["rows"]:
            row["flagged_posts_excluded"] = dropped.get(row["key"] or "", 0)
    return report


@doc(get=Op("ROI report per dimension", query=(*REPORT_QUERY, EXCLUDE_FLAGGED), path=(DIMENSION,)))
async def report(request: Request) -> Response:
    await authenticate(request)
    return JSONResponse(await _report(request))


@doc(
    get=Op(
        "ROI report per dimension as CSV: the rows and totals of the JSON",
        query=(*REPORT_QUERY, EXCLUDE_FLAGGED),
        path=(DIMENSION,),
        media="text/csv",
    )
)
async def report_csv(request: Request) -> Response:
    await authenticate(request)
    return csv_of(await _report(request))


async def _breakdown(request: Request) -> dict[str, Any]:
    await authenticate(request)
    st = state(request)
    b = await breakdown.breakdown_from(st.store, st.settings, dict(request.query_params))
    return await breakdown.build(st.store, b)


@doc(
    get=Op(
        "Clicks by device, OS, browser or referrer host (of a creator, campaign or link)",
        query=BREAKDOWN_QUERY,
    )
)
async def breakdown_report(request: Request) -> Response:
    return JSONResponse(await _breakdown(request))


@doc(
    get=Op(
        "Clicks by device, OS, browser or referrer host as CSV: the rows and totals of the JSON",
        query=BREAKDOWN_QUERY,
        media="text/csv",
    )
)
async def breakdown_csv(request: Request) -> Response:
    report = await _breakdown(request)
    name = f"breakdown-{report['by']}-{report['start']}-{report['end']}.csv"
    return csv_response(breakdown.CSV_COLUMNS, breakdown.csv_rows(report), name)


@doc(
    get=Op(
        "Daily series of a dimension, or of one key in it",
        query=(
            *REPORT_QUERY,
            Param("dimension", {"type": "string", "enum": list(reports.DIMENSIONS)}),
            Param("key", description="one key of the dimension (a creator: id or handle)"),
        ),
    )
)
async def series(request: Request) -> Response:
    await authenticate(request)
    st = state(request)
    p = reports.params_from(dict(request.query_params), st.settings)
    dimension = request.query_params.get("dimension", "creator")
    key = request.query_params.get("key") or None
    if key and dimension == "creator":
        key = (await st.store.get_creator(key))["id"]
    rows = await reports.daily(st.store, st.settings, p, dimension, key)
    return JSONResponse(
        {"dimension": dimension, "key": key, "model": p.model, "currency": p.currency, "days": rows}
    )


@doc(
    get=Op(
        "Portfolio overview: totals and the top creators",
        query=(*REPORT_QUERY, Param("top", {"type": "integer", "minimum": 1, "maximum": 50})),
    )
)
async def overview(request: Request) -> Response:
    await authenticate(request)
    st = state(request)
    p = reports.params_from(dict(request.query_params), st.settings)
    top = (
        int(request.query_params.get("top", "10"))
        if request.query_params.get("top", "10").isdigit()
        else 10
    )
    return JSONResponse(await portfolio.overview(st.store, st.settings, p, min(top, 50)))


@doc(get=Op("Codes used beyond their creator's audience (leaked codes)", query=REPORT_QUERY))
async def leaks(request: Request) -> Response:
    await authenticate(request)
    st = state(request)
    p = reports.params_from(dict(request.query_params), st.settings)
    return JSONResponse({"items": await portfolio.code_leaks(st.store, p)})


@doc(get=Op("Recommendations: whom to keep, grow or drop", query=REPORT_QUERY))
async def advice(request: Request) -> Response:
    await authenticate(request)
    st = state(request)
    p = reports.params_from(dict(request.query_params), st.settings)
    return JSONResponse(await portfolio.recommendations(st.store, st.settings, p))


@doc(
    get=Op("List costs", query=(*PAGE, CREATOR_FILTER)),
    post=Op("Record a cost (fee, product, commission, labor)", body=schemas.CostIn, ok=(201,)),
)
async def costs(request: Request) -> Response:
    await authenticate(request)
    st = state(request)
    if request.method == "POST":
        model = schemas.validate(
            schemas.CostIn, await read_json(request, st.settings.max_body_bytes)
        )
        row = await st.store.add_cost(await cost_row(st.store, model))
        return JSONResponse(row, status_code=201)
    limit, offset = page_args(request)
    creator = request.query_params.get("creator_id")
    creator_id = (await st.store.get_creator(creator))["id"] if creator else None
    return JSONResponse(
        {"items": await st.store.list_costs(creator_id=creator_id, limit=limit, offset=offset)}
    )


@doc(delete=Op("Delete a cost", path=(Param("ref", description="cost id"),)))
async def cost_item(request: Request) -> Response:
    await authenticate(request)
    st = state(request)
    if not await st.store.delete_cost(request.path_params["ref"]):
        raise NotFound("no such cost")
    return JSONResponse({"deleted": request.path_params["ref"]})


@doc(
    get=Op("List content posts", query=(*PAGE, CREATOR_FILTER)),
    post=Op("Record a content post and its engagement", body=schemas.PostIn, ok=(201,)),
)
async def posts(request: Request) -> Response:
    await authenticate(request)
    st = state(request)
    if request.method == "POST":
        model = schemas.validate(
            schemas.PostIn, await read_json(request, st.settings.max_body_bytes)
        )
        made = await st.store.add_posts([await post_row(st.store, model)])
        rows = await st.store.list_posts(limit=1_000_000)
        return JSONResponse(
            present_post(next(r for r in rows if r["id"] == made[0])), status_code=201
        )
    limit, offset = page_args(request)
    creator = request.query_params.get("creator_id")
    creator_id = (await st.store.get_creator(creator))["id"] if creator else None
    rows = await st.store.list_posts(creator_id=creator_id, limit=limit, offset=offset)
    return JSONResponse({"items": [present_post(r) for r in rows]})


@doc(
    post=Op(
        "Import costs or posts from CSV: all rows or none, errors by row number",
        body_media="text/csv",
        query=(Param("dry_run", {"type": "boolean"}, "check only, write nothing"),),
        path=(Param("kind", {"type": "string", "enum": ["costs", "posts"]}),),
        ok=(200, 201),
        description="201 when imported; 200 with the errors by row when nothing was written.",
    )
)
async def csv_import(request: Request) -> Response:
    """POST text/csv to /costs/import or /posts/import: all rows or none, errors by row."""
    await authenticate(request)
    st = state(request)
    body = await read_body(request, st.settings.max_body_bytes)
    kind = request.path_params["kind"]
    if kind not in ("costs", "posts"):
        raise NotFound("CSV import exists for costs and posts")
    dry_run = request.query_params.get("dry_run") in ("1", "true")
    importer = import_costs if kind == "costs" else import_posts
    result = await importer(st.store, body, dry_run=dry_run)
    return JSONResponse(result, status_code=200 if result["errors"] else 201)


def routes() -> list[Route]:
    return [
        Route("/reports/overview", overview, methods=["GET"]),
        Route("/reports/daily", series, methods=["GET"]),
        Route("/reports/code-leaks", leaks, methods=["GET"]),
        Route("/reports/recommendations", advice, methods=["GET"]),
        Route("/reports/breakdown.csv", breakdown_csv, methods=["GET"]),
        Route("/reports/breakdown", breakdown_report, methods=["GET"]),
        Route("/reports/{dimension:str}.csv", report_csv, methods=["GET"]),  # before the JSON one
        Route("/reports/{dimension:str}", report, methods=["GET"]),
        Route("/costs", costs, methods=["GET", "POST"]),
        Route("/costs/{ref:str}", cost_item, methods=["DELETE"]),
        Route("/posts", posts, methods=["GET", "POST"]),
        Route("/{kind:str}/import", csv_import, methods=["POST"]),
    ]
