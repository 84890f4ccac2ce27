"""The OpenAPI document of ``/api/v1``, generated from the route table and the pydantic models.

Each handler declares what it does per HTTP method next to its code::

    @doc(get=Op("List shops", query=PAGE), post=Op("Create a shop", body=schemas.ShopIn, ok=(201,)))
    async def shops(request: Request) -> Response: ...

``openapi_schema(routes, base_url)`` walks the route table (``tracker.http.routes.api_routes``):
every route and every method it accepts becomes an operation, so none can be missing; an
operation whose handler declares nothing has no summary, and ``tests/http`` fails on it.
Request bodies are the pydantic models the handlers validate with (``tracker.schemas``).
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tracker.http.common import MAX_LIMIT, Handler, state

H = TypeVar("H", bound=Callable[..., Any])


@dataclass(frozen=True)
class Param:
    """A query or path parameter: its JSON schema, and whether it must be present."""

    name: str
    schema: dict[str, Any] = field(default_factory=lambda: {"type": "string"})
    description: str = ""
    required: bool = False


@dataclass(frozen=True)
class Op:
    """One operation (a method on a route). ``body`` is the pydantic model of a JSON body, or
    ``body_media`` names a plain-text body (CSV); ``ok`` the success statuses; ``media`` the
    success content type; ``path`` refines path parameters (an enum, a description)."""

    summary: str
    body: type[BaseModel] | None = None
    body_media: str | None = None
    query: Sequence[Param] = ()
    path: Sequence[Param] = ()
    ok: tuple[int, ...] = (200,)
    media: str = "application/json"
    conflict: bool = False  # may answer 409 (a unique natural key, a used code)
    description: str = ""


PAGE = (
    Param("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 100}),
    Param("offset", {"type": "integer", "minimum": 0, "default": 0}),
)
REF = Param("ref", description="id or natural key (handle, campaign name, slug, code, shop slug)")

# handler -> {METHOD: Op}; filled by @doc when a handler is defined, read by openapi_schema.
# Weak keys: handlers made per app (the catalogue's, per resource) leave with their app.
_DOCS: weakref.WeakKeyDictionary[Callable[..., Any], dict[str, Op]] = weakref.WeakKeyDictionary()


def doc(**ops: Op) -> Callable[[H], H]:
    """Declare a handler's operations, one keyword per HTTP method (``get=``, ``post=``...)."""

    def mark(handler: H) -> H:
        _DOCS[handler] = {method.upper(): op for method, op in ops.items()}
        return handler

    return mark


def docs_of(handler: Callable[..., Any]) -> dict[str, Op]:
    return _DOCS.get(handler, {})


_PARAM = re.compile(r"{([A-Za-z_][A-Za-z0-9_]*)(?::[A-Za-z_]+)?}")
_ERROR = {
    "description": "Error",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}
_REASONS = {
    400: "Bad request",
    401: "Missing or invalid bearer token",
    404: "Not found",
    409: "Conflict",
    413: "Body too large",
    422: "Invalid input",
    429: "Too many requests",
}


def template(route_path: str) -> tuple[str, list[str]]:
    """``/codes/{ref:str}`` -> (``/codes/{ref}``, ``["ref"]``): Starlette's to OpenAPI's form."""
    return _PARAM.sub(r"{\1}", route_path), _PARAM.findall(route_path)


def _add_model(components: dict[str, Any], model: type[BaseModel]) -> dict[str, str]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(schema.pop("$defs", {}))
    components[model.__name__] = schema
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _operation(op: Op, path_params: list[str], components: dict[str, Any]) -> dict[str, Any]:
    refined = {p.name: p for p in op.path}
    params: list[dict[str, Any]] = []
    for name in path_params:
        p = refined.get(name, REF if name == "ref" else Param(name))
        params.append({"name": name, "in": "path", "required": True, "schema": p.schema})
        if p.description:
            params[-1]["description"] = p.description
    for p in op.query:
        params.append({"name": p.name, "in": "query", "required": p.required, "schema": p.schema})
        if p.description:
            params[-1]["description"] = p.description
    body_schema = {"type": "object"} if op.media == "application/json" else {"type": "string"}
    ok = {"description": "OK", "content": {op.media: {"schema": body_schema}}}
    errors = [400, 401, 404, 422, 429]
    out: dict[str, Any] = {"summary": op.summary, "parameters": params}
    if op.description:
        out["description"] = op.description
    if op.body is not None:
        ref = _add_model(components, op.body)
        out["requestBody"] = {"required": True, "content": {"application/json": {"schema": ref}}}
    elif op.body_media:
        text = {"schema": {"type": "string"}}
        out["requestBody"] = {"required": True, "content": {op.body_media: text}}
    if op.body is not None or op.body_media:
        errors.append(413)
    if op.conflict:
        errors.append(409)
    out["responses"] = {
        **{str(s): ok for s in op.ok},
        **{str(s): {**_ERROR, "description": _REASONS[s]} for s in sorted(errors)},
    }
    return out


def openapi_schema(routes: Sequence[Route], base_url: str) -> dict[str, Any]:
    """The document for ``routes`` (mounted under ``/api/v1``). HEAD, which Starlette adds
    beside every GET, is left out as OpenAPI tools expect."""
    components: dict[str, Any] = {
        "Error": {
            "type": "object",
            "properties": {"error": {"type": "string"}, "detail": {"type": "string"}},
            "required": ["error", "detail"],
        }
    }
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        path, names = template(route.path)
        declared = docs_of(route.endpoint)
        item = paths.setdefault(f"/api/v1{path}", {})
        for method in sorted((route.methods or set()) - {"HEAD"}):
            op = declared.get(method, Op(""))
            item[method.lower()] = _operation(op, names, components)
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


def endpoint(routes: Sequence[Route]) -> Handler:
    """``GET /api/v1/openapi.json``: built once per base URL (the routes never change)."""
    cache: dict[str, dict[str, Any]] = {}

    async def openapi(request: Request) -> Response:
        base = state(request).settings.base_url
        if base not in cache:
            cache[base] = openapi_schema(routes, base)
        return JSONResponse(cache[base])

    return openapi
