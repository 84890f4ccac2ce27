"""JSON API under ``/api/v1``: bearer tokens, thin handlers, an OpenAPI schema from the models.

Each resource (creators, campaigns, links) has the same five verbs: list, create, get,
update (PATCH) and disable (DELETE keeps the record and its history, sets status=disabled).
Records may be addressed by id or by their natural key (handle, campaign name, slug).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tracker import schemas
from tracker.attribution.rules import MODELS
from tracker.catalogue.creators import DEFAULT_TIERS, tier_for
from tracker.core.errors import BadRequest, PayloadTooLarge, Unauthorized, Unprocessable
from tracker.links import service as catalogue
from tracker.state import AppState
from tracker.store.engine import Row

Handler = Callable[[Request], Awaitable[Response]]


def state(request: Request) -> AppState:
    st: AppState = request.app.state.tracker
    return st


async def authenticate(request: Request) -> Row:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("missing bearer token (create one with: tracker token create NAME)")
    record = await state(request).store.token_by_secret(token.strip())
    if record is None:
        raise Unauthorized("invalid or revoked token")
    return record


async def read_json(request: Request, limit: int) -> dict[str, Any]:
    body = await read_body(request, limit)
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"malformed JSON: {exc}") from None
    if not isinstance(data, dict):
        raise BadRequest("expected a JSON object")
    return data


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"body larger than {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"body larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def validate(model: type[BaseModel], data: dict[str, Any]) -> BaseModel:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = [
            {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()
        ]
        first = errors[0] if errors else {"field": "", "message": "invalid"}
        raise Unprocessable(f"{first['field']}: {first['message']}", details=errors) from None


def _page_args(request: Request) -> tuple[int, int]:
    try:
        limit = int(request.query_params.get("limit", "100"))
        offset = int(request.query_params.get("offset", "0"))
    except ValueError:
        raise BadRequest("limit and offset must be integers") from None
    if not (1 <= limit <= 1000 and 0 <= offset <= 10**9):
        raise BadRequest("limit must be 1..1000 and offset >= 0")
    return limit, offset


# -- presenters -----------------------------------------------------------------------------
def present_creator(row: Row, st: AppState | None) -> Row:
    tiers = st.settings.tiers if st is not None else DEFAULT_TIERS
    return {
        **{k: v for k, v in row.items() if k != "handle_key"},
        "tier": tier_for(int(row["followers"]), tiers),
    }


def present_campaign(row: Row, st: AppState) -> Row:
    return {k: v for k, v in row.items() if k != "name_key"}


def present_link(row: Row, st: AppState) -> Row:
    return {
        **row,
        "utm_override": bool(row["utm_override"]),
        "short_url": f"{st.settings.base_url}/{row['slug']}",
    }


# -- resources ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Resource:
    name: str
    create_model: type[BaseModel]
    patch_model: type[BaseModel]
    present: Callable[[Row, AppState], Row]
    filters: tuple[str, ...] = ()


RESOURCES = (
    Resource("creators", schemas.CreatorIn, schemas.CreatorPatch, present_creator, ("status", "q")),
    Resource("campaigns", schemas.CampaignIn, schemas.CampaignPatch, present_campaign),
    Resource(
        "links",
        schemas.LinkIn,
        schemas.LinkPatch,
        present_link,
        ("creator_id", "campaign_id", "status"),
    ),
)


async def _create(st: AppState, res: Resource, model: BaseModel) -> Row:
    row = schemas.to_row(model)
    if res.name == "creators":
        return await st.store.create_creator(row)
    if res.name == "campaigns":
        return await st.store.create_campaign(row)
    link = await catalogue.create_link(st.store, st.settings, row, model.model_fields_set)
    st.cache.invalidate(link["slug"])
    return link


async def _update(st: AppState, res: Resource, ref: str, fields: dict[str, Any]) -> Row:
    if res.name == "creators":
        return await st.store.update_creator(ref, fields)
    if res.name == "campaigns":
        return await st.store.update_campaign(ref, fields)
    before, after = await catalogue.update_link(st.store, st.settings, ref, fields)
    st.cache.invalidate(before["slug"], after["slug"])
    return after


async def _get(st: AppState, res: Resource, ref: str) -> Row:
    getter = {
        "creators": st.store.get_creator,
        "campaigns": st.store.get_campaign,
        "links": st.store.get_link,
    }[res.name]
    return await getter(ref)


async def _list(st: AppState, res: Resource, request: Request) -> list[Row]:
    limit, offset = _page_args(request)
    filters = {k: request.query_params[k] for k in res.filters if request.query_params.get(k)}
    lister = {
        "creators": st.store.list_creators,
        "campaigns": st.store.list_campaigns,
        "links": st.store.list_links,
    }[res.name]
    if res.name == "links":
        for key, getter in (
            ("creator_id", st.store.get_creator),
            ("campaign_id", st.store.get_campaign),
        ):
            if key in filters:
                filters[key] = (await getter(filters[key]))["id"]
    return await lister(limit=limit, offset=offset, **filters)


def resource_routes(res: Resource) -> list[Route]:
    async def collection(request: Request) -> Response:
        await authenticate(request)
        st = state(request)
        if request.method == "POST":
            model = validate(res.create_model, await read_json(request, st.settings.max_body_bytes))
            row = await _create(st, res, model)
            return JSONResponse(res.present(row, st), status_code=201)
        limit, offset = _page_args(request)
        rows = await _list(st, res, request)
        return JSONResponse(
            {"items": [res.present(r, st) for r in rows], "limit": limit, "offset": offset}
        )

    async def item(request: Request) -> Response:
        await authenticate(request)
        st = state(request)
        ref = request.path_params["ref"]
        if request.method == "GET":
            row = await _get(st, res, ref)
        elif request.method == "PATCH":
            model = validate(res.patch_model, await read_json(request, st.settings.max_body_bytes))
            fields = schemas.to_row(model, only_set=True)
            row = await _update(st, res, ref, fields) if fields else await _get(st, res, ref)
        else:  # DELETE: disable, keep history
            row = await _update(st, res, ref, {"status": "disabled"})
        return JSONResponse(res.present(row, st))

    return [
        Route(f"/{res.name}", collection, methods=["GET", "POST"]),
        Route(f"/{res.name}/{{ref:str}}", item, methods=["GET", "PATCH", "DELETE"]),
    ]


async def link_stats(request: Request) -> Response:
    await authenticate(request)
    st = state(request)
    link = await st.store.get_link(request.path_params["ref"])
    return JSONResponse(
        {"link_id": link["id"], "slug": link["slug"], **await st.store.link_stats(link["id"])}
    )


async def list_clicks(request: Request) -> Response:
    await authenticate(request)
    st = state(request)
    limit, offset = _page_args(request)
    link_ref = request.query_params.get("link")
    link_id = (await st.store.get_link(link_ref))["id"] if link_ref else None
    orphans = request.query_params.get("orphans") in ("1", "true")
    rows = await st.store.list_clicks(link_id=link_id, orphans=orphans, limit=limit, offset=offset)
    return JSONResponse({"items": rows, "limit": limit, "offset": offset})


async def openapi(request: Request) -> Response:
    return JSONResponse(openapi_schema(state(request).settings.base_url))


def openapi_schema(base_url: str) -> dict[str, Any]:
    components: dict[str, Any] = {}
    for res in RESOURCES:
        for model in (res.create_model, res.patch_model):
            schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
            components.update(schema.pop("$defs", {}))
            components[model.__name__] = schema
    components["Error"] = {
        "type": "object",
        "properties": {"error": {"type": "string"}, "detail": {"type": "string"}},
        "required": ["error", "detail"],
    }
    err = {
        "description": "Error",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    ok = {"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}}
    ref_param = {
        "name": "ref",
        "in": "path",
        "required": True,
        "schema": {"type": "string"},
        "description": "id or natural key (handle, campaign name, slug)",
    }
    page = [
        {
            "name": "limit",
            "in": "query",
            "schema": {"type": "integer", "minimum": 1, "maximum": 1000},
        },
        {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0}},
    ]
    paths: dict[str, Any] = {}
    common = {"401": err, "404": err, "422": err, "400": err}

    def body(model: type[BaseModel]) -> dict[str, Any]:
        ref = {"$ref": f"#/components/schemas/{model.__name__}"}
        return {"required": True, "content": {"application/json": {"schema": ref}}}

    for res in RESOURCES:
        paths[f"/api/v1/{res.name}"] = {
            "get": {
                "summary": f"List {res.name}",
                "parameters": page,
                "responses": {"200": ok, **common},
            },
            "post": {
                "summary": f"Create a {res.name[:-1]}",
                "requestBody": body(res.create_model),
                "responses": {"201": ok, "409": err, **common},
            },
        }
        paths[f"/api/v1/{res.name}/{{ref}}"] = {
            "parameters": [ref_param],
            "get": {"summary": f"Get a {res.name[:-1]}", "responses": {"200": ok, **common}},
            "patch": {
                "summary": f"Update a {res.name[:-1]}",
                "requestBody": body(res.patch_model),
                "responses": {"200": ok, "409": err, **common},
            },
            "delete": {
                "summary": f"Disable a {res.name[:-1]} (kept for history)",
                "responses": {"200": ok, **common},
            },
        }
    paths["/api/v1/links/{ref}/stats"] = {
        "parameters": [ref_param],
        "get": {"summary": "Click counts of a link", "responses": {"200": ok, **common}},
    }
    paths["/api/v1/clicks"] = {
        "get": {
            "summary": "Recent clicks",
            "parameters": [
                *page,
                {"name": "link", "in": "query", "schema": {"type": "string"}},
                {"name": "orphans", "in": "query", "schema": {"type": "boolean"}},
            ],
            "responses": {"200": ok, **common},
        }
    }
    extra_bodies = {
        "/api/v1/shops": schemas.ShopIn,
        "/api/v1/codes": schemas.CodeIn,
        "/api/v1/codes/bulk": schemas.CodeBulk,
        "/api/v1/costs": schemas.CostIn,
        "/api/v1/posts": schemas.PostIn,
    }
    for path, model in extra_bodies.items():
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(schema.pop("$defs", {}))
        components[model.__name__] = schema
        paths[path] = {
            "post": {
                "summary": f"Create ({model.__name__})",
                "requestBody": body(model),
                "responses": {"201": ok, "409": err, **common},
            }
        }
        if path != "/api/v1/codes/bulk":
            paths[path]["get"] = {
                "summary": "List",
                "parameters": page,
                "responses": {"200": ok, **common},
            }
    report_params = [
        {"name": "start", "in": "query", "schema": {"type": "string", "format": "date"}},
        {"name": "end", "in": "query", "schema": {"type": "string", "format": "date"}},
        {"name": "model", "in": "query", "schema": {"type": "string", "enum": list(MODELS)}},
        {
            "name": "click_days",
            "in": "query",
            "schema": {"type": "integer", "minimum": 0, "maximum": 365},
        },
        {
            "name": "fingerprint_days",
            "in": "query",
            "schema": {"type": "integer", "minimum": 0, "maximum": 365},
        },
    ]
    paths["/api/v1/reports/{dimension}"] = {
        "get": {
            "summary": "ROI report per dimension (append .csv for CSV)",
            "parameters": [
                {
                    "name": "dimension",
                    "in": "path",
                    "required": True,
                    "schema": {
                        "type": "string",
                        "enum": [
                            "creator",
                            "tier",
                            "campaign",
                            "category",
                            "platform",
                            "link",
                            "content_type",
                        ],
                    },
                },
                *report_params,
            ],
            "responses": {"200": ok, **common},
        }
    }
    for name in ("overview", "daily", "code-leaks", "recommendations"):
        paths[f"/api/v1/reports/{name}"] = {
            "get": {
                "summary": f"Report: {name}",
                "parameters": report_params,
                "responses": {"200": ok, **common},
            }
        }
    paths["/api/v1/orders"] = {
        "get": {"summary": "Orders", "parameters": page, "responses": {"200": ok, **common}}
    }
    paths["/api/v1/orders/{ref}"] = {
        "parameters": [ref_param],
        "get": {
            "summary": "An order: touches, winning signal, credit under every model",
            "responses": {"200": ok, **common},
        },
    }
    return {
        "openapi": "3.0.3",
        "info": {"title": "Creatorlink API", "version": "1"},
        "servers": [{"url": base_url}],
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
        "paths": paths,
    }


def routes() -> list[Route]:
    out: list[Route] = [Route("/openapi.json", openapi, methods=["GET"])]
    for res in RESOURCES:
        out.extend(resource_routes(res))
    out.append(Route("/links/{ref:str}/stats", link_stats, methods=["GET"]))
    out.append(Route("/clicks", list_clicks, methods=["GET"]))
    from tracker.http import reports as api_reports
    from tracker.http import shops as api_shops

    out.extend(api_shops.routes())
    out.extend(api_reports.routes())
    return out
