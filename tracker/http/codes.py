"""JSON API for discount codes: one by one, in bulk, and as CSV."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tracker import schemas
from tracker.catalogue import codes
from tracker.http.common import authenticate, csv_response, page_args, read_json, state
from tracker.http.openapi import PAGE, Op, Param, doc
from tracker.state import AppState

CODE_FILTERS = (
    Param("status", {"type": "string", "enum": ["active", "disabled"]}),
    Param("creator_id", description="creator id or handle"),
    Param("campaign_id", description="campaign id or name"),
)


@doc(
    get=Op("List discount codes", query=(*PAGE, *CODE_FILTERS)),
    post=Op("Create a discount code for a creator", body=schemas.CodeIn, ok=(201,), conflict=True),
)
async def code_list(request: Request) -> Response:
    await authenticate(request)
    st = state(request)
    if request.method == "POST":
        model = schemas.validate(
            schemas.CodeIn, await read_json(request, st.settings.max_body_bytes)
        )
        row = await codes.create_code(st.store, schemas.to_row(model))
        return JSONResponse(codes.present(row), status_code=201)
    limit, offset = page_args(request)
    filters = await _code_filters(st, request)
    rows = await st.store.list_codes(limit=limit, offset=offset, **filters)
    return JSONResponse(
        {"items": [codes.present(r) for r in rows], "limit": limit, "offset": offset}
    )


async def _code_filters(st: AppState, request: Request) -> dict[str, Any]:
    q = request.query_params
    out: dict[str, Any] = {"status": q.get("status") or None}
    if q.get("creator_id"):
        out["creator_id"] = (await st.store.get_creator(q["creator_id"]))["id"]
    if q.get("campaign_id"):
        out["campaign_id"] = (await st.store.get_campaign(q["campaign_id"]))["id"]
    return out


@doc(
    get=Op("A discount code"),
    patch=Op("Update a discount code", body=schemas.CodePatch),
    delete=Op("Disable a discount code (kept for history)"),
)
async def code_item(request: Request) -> Response:
    await authenticate(request)
    st = state(request)
    ref = request.path_params["ref"]
    if request.method == "GET":
        return JSONResponse(codes.present(await st.store.get_code(ref)))
    if request.method == "DELETE":
        fields: dict[str, Any] = {"status": "disabled"}
    else:
        model = schemas.validate(
            schemas.CodePatch, await read_json(request, st.settings.max_body_bytes)
        )
        fields = await st.store.resolve_creator_campaign(schemas.to_row(model, only_set=True))
    return JSONResponse(codes.present(await st.store.update_code(ref, fields)))


@doc(
    post=Op(
        "Generate codes for many creators at once", body=schemas.CodeBulk, ok=(201,), conflict=True
    )
)
async def code_bulk(request: Request) -> Response:
    await authenticate(request)
    st = state(request)
    model = schemas.validate(schemas.CodeBulk, await read_json(request, st.settings.max_body_bytes))
    rows = await codes.bulk_generate(st.store, model.model_dump())
    return JSONResponse(
        {"items": [codes.present(r) for r in rows], "created": len(rows)}, status_code=201
    )


@doc(get=Op("Discount codes as CSV", query=CODE_FILTERS, media="text/csv"))
async def code_csv(request: Request) -> Response:
    await authenticate(request)
    st = state(request)
    rows = await st.store.list_codes(limit=1_000_000, **await _code_filters(st, request))
    return csv_response(codes.CSV_COLUMNS, codes.csv_rows(rows), "codes.csv")


def routes() -> list[Route]:
    return [
        Route("/codes", code_list, methods=["GET", "POST"]),
        Route("/codes.csv", code_csv, methods=["GET"]),
        Route("/codes/bulk", code_bulk, methods=["POST"]),
        Route("/codes/{ref:str}", code_item, methods=["GET", "PATCH", "DELETE"]),
    ]
