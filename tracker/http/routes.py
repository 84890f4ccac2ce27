"""The route table of the JSON API and the postbacks: the one list the OpenAPI document
is generated from."""

from __future__ import annotations

from starlette.routing import BaseRoute, Mount, Route

from tracker.http import (
    catalogue,
    codes,
    health,
    openapi,
    orders,
    postbacks,
    reports,
    shops,
    snippet,
)
from tracker.http import commissions as commission_routes
from tracker.http import events as event_routes
from tracker.http import fraud as fraud_routes
from tracker.http import insights as insight_routes
from tracker.http import journeys as journey_routes
from tracker.links.snippet import PATH as SNIPPET_PATH


def api_routes() -> list[Route]:
    return [
        *catalogue.routes(),
        *shops.routes(),
        *codes.routes(),
        *orders.routes(),
        *insight_routes.routes(),  # before reports': /reports/{dimension} takes any name
        *journey_routes.routes(),  # /reports/exposure... before /reports/{dimension}
        *reports.routes(),
        *event_routes.routes(),
        *commission_routes.routes(),
        *fraud_routes.routes(),
    ]


def routes() -> list[BaseRoute]:
    api = api_routes()
    return [
        Route("/healthz", health.healthz, methods=["GET", "HEAD"]),
        Route(SNIPPET_PATH, snippet.script, methods=["GET", "HEAD"]),
        Mount("/api/v1", routes=[Route("/openapi.json", openapi.endpoint(api)), *api]),
        Mount("/postbacks", routes=postbacks.routes()),
    ]
