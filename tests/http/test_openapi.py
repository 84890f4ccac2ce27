"""The OpenAPI document is generated from the route table: every route and method is in it,
each with a summary, its path parameters and its body model (issue 12)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.conftest import Running
from tracker.http.openapi import Op, doc, docs_of, openapi_schema, template
from tracker.http.routes import api_routes


def problems(routes: Sequence[Route], document: dict[str, Any]) -> list[str]:
    """What the document lacks against the route table: operations, summaries, path params;
    and declarations for a method the route does not accept (a stale doc)."""
    out = []
    for route in routes:
        path, names = template(route.path)
        item = document["paths"].get(f"/api/v1{path}", {})
        methods = (route.methods or set()) - {"HEAD"}
        for method in sorted(methods):
            op = item.get(method.lower())
            if op is None:
                out.append(f"{method} {path}: missing")
                continue
            if not op.get("summary"):
                out.append(f"{method} {path}: no summary")
            declared = {p["name"] for p in op["parameters"] if p["in"] == "path"}
            if declared != set(names):
                out.append(f"{method} {path}: path parameters {declared} != {names}")
        for method in set(docs_of(route.endpoint)) - methods:
            out.append(f"{method} {path}: documented but not routed")
    return out


def test_every_route_and_method_is_documented() -> None:
    routes = api_routes()
    assert problems(routes, openapi_schema(routes, "http://x")) == []
    # the groups the hand-written document of v0.3.0 missed
    paths = openapi_schema(routes, "http://x")["paths"]
    for path in (
        "/api/v1/codes.csv",
        "/api/v1/shops/{ref}",
        "/api/v1/codes/{ref}",
        "/api/v1/costs/{ref}",
        "/api/v1/{kind}/import",
        "/api/v1/reports/{dimension}.csv",
        "/api/v1/orders/{ref}",
    ):
        assert paths[path], path


def test_the_check_fails_on_an_undocumented_route() -> None:
    """The check above can fail: a route whose handler declares nothing, or declares a
    method it is not routed for, is reported."""

    async def bare(request: Request) -> Response:
        return Response()

    @doc(get=Op("Half documented"), delete=Op("Not routed"))
    async def half(request: Request) -> Response:
        return Response()

    routes = [*api_routes(), Route("/bare/{ref:str}", bare), Route("/half", half)]
    found = problems(routes, openapi_schema(routes, "http://x"))
    assert found == ["GET /bare/{ref}: no summary", "DELETE /half: documented but not routed"]
    # and a document that lost an operation is reported too
    document = openapi_schema(api_routes(), "http://x")
    del document["paths"]["/api/v1/codes.csv"]["get"]
    assert problems(api_routes(), document) == ["GET /codes.csv: missing"]


def test_bodies_are_the_validated_models() -> None:
    document = openapi_schema(api_routes(), "http://x")
    schemas = document["components"]["schemas"]
    for name in ("CreatorIn", "LinkPatch", "ShopIn", "ShopPatch", "CodePatch", "CostIn", "PostIn"):
        assert schemas[name]["type"] == "object", name
    body = document["paths"]["/api/v1/shops/{ref}"]["patch"]["requestBody"]
    assert body["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ShopPatch"
    }
    imp = document["paths"]["/api/v1/{kind}/import"]["post"]
    assert "text/csv" in imp["requestBody"]["content"] and {"200", "201"} <= set(imp["responses"])
    csv = document["paths"]["/api/v1/reports/{dimension}.csv"]["get"]["responses"]["200"]
    assert "text/csv" in csv["content"]


@pytest.mark.anyio
async def test_served_document_is_the_generated_one(live: Running, auth: dict[str, str]) -> None:
    r = await live.client.get("/api/v1/openapi.json")
    assert r.status_code == 200
    assert r.json() == openapi_schema(api_routes(), live.state.settings.base_url)
    # the .csv route answers CSV as declared, the JSON one JSON (the .csv route comes first)
    as_csv = await live.client.get("/api/v1/reports/creator.csv", headers=auth)
    as_json = await live.client.get("/api/v1/reports/creator", headers=auth)
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    assert as_json.status_code == 200 and as_json.json()["dimension"] == "creator"
