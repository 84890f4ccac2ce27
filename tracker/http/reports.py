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
from tracker.core.errors import NotFound
from tracker.http.common import authenticate, csv_response, page_args, read_body, read_json, state
from tracker.reports import build as reports
from tracker.reports import portfolio
from tracker.reports.costs import cost_row, import_costs, import_posts, post_row, present_post


def csv_of(report: dict[str, Any]) -> Response:
    name = f"{report['dimension']}-{report['start']}-{report['end']}-{report['model']}.csv"
    return csv_response(reports.CSV_COLUMNS, reports.csv_rows(report), name)


async def report(request: Request) -> Response:
    await authenticate(request)
    st = state(request)
    dimension = request.path_params["dimension"]
    as_csv = dimension.endswith(".csv")
    dimension = dimension.removesuffix(".csv")
    p = reports.params_from(dict(request.query_params), st.settings)
    data = await reports.build(st.store, st.settings, p, dimension)
    return csv_of(data) if as_csv else JSONResponse(data)


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


async def leaks(request: Request) -> Response:
    await authenticate(request)
    st = state(request)
    p = reports.params_from(dict(request.query_params), st.settings)
    return JSONResponse({"items": await portfolio.code_leaks(st.store, p)})


async def advice(request: Request) -> Response:
    await authenticate(request)
    st = state(request)
    p = reports.params_from(dict(request.query_params), st.settings)
    return JSONResponse(await portfolio.recommendations(st.store, st.settings, p))


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


async def cost_item(request: Request) -> Response:
    await authenticate(request)
    st = state(request)
    if not await st.store.delete_cost(request.path_params["ref"]):
        raise NotFound("no such cost")
    return JSONResponse({"deleted": request.path_params["ref"]})


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


async def csv_import(request: Request) -> Response:
    """POST text/csv to /costs.csv or /posts.csv: all rows or none, errors by row number."""
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
        Route("/reports/{dimension:str}", report, methods=["GET"]),
        Route("/costs", costs, methods=["GET", "POST"]),
        Route("/costs/{ref:str}", cost_item, methods=["DELETE"]),
        Route("/posts", posts, methods=["GET", "POST"]),
        Route("/{kind:str}/import", csv_import, methods=["POST"]),
    ]
