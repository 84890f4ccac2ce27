"""The OpenAPI document of ``/api/v1``."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tracker import schemas
from tracker.attribution.credit import MODELS
from tracker.http.catalogue import RESOURCES
from tracker.http.common import state


def endpoint(routes: list[Route]) -> Any:
    async def openapi(request: Request) -> Response:
        return JSONResponse(openapi_schema(state(request).settings.base_url))

    return openapi


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
    paths["/api/v1/orders/rematch"] = {
        "post": {
            "summary": "Match unattributed orders again against clicks stored since (one pass)",
            "responses": {"200": ok, **common},
        }
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
