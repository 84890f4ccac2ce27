"""HTTP endpoints for postbacks: read the capped body, hand it to ``tracker.ingest``, answer.

Every answer is 2xx only after the order is committed; a replay answers 200 with
``"status": "duplicate"`` so the shop stops retrying. Errors: 401 bad signature, 400/422 bad
payload, 404 unknown shop, 413 oversized body, never a 500 for bad input.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import AsyncIterator

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tracker.core.errors import NotFound, Rejected, TooManyRequests
from tracker.http.common import read_body, state
from tracker.http.errors import status_of
from tracker.orders import ingest
from tracker.orders.sources import pixel, woocommerce


@contextlib.asynccontextmanager
async def failures_limited(request: Request) -> AsyncIterator[None]:
    """429 for a client whose recent postbacks were rejected too often; spend on rejection."""
    limiter = state(request).postback_failures
    if limiter is None:
        yield
        return
    ip = state(request).capture.client_ip(request.scope, dict(request.scope["headers"]))
    wait = limiter.exhausted(ip)
    if wait:
        raise TooManyRequests(
            "too many rejected postbacks from this address", retry_after=max(1, math.ceil(wait))
        )
    try:
        yield
    except Rejected as exc:
        if status_of(exc) in (400, 401, 404, 413, 422):
            limiter.take(ip)
        raise


async def signed(request: Request) -> Response:
    async with failures_limited(request):
        return await _signed(request)


async def _signed(request: Request) -> Response:
    st = state(request)
    platform = request.path_params["platform"]
    if platform not in ingest.ADAPTERS:
        raise NotFound(f"no postback source {platform!r}; use shopify, woocommerce or generic")
    slug = request.path_params["shop"]
    body = await read_body(request, st.settings.max_body_bytes)
    if platform == "woocommerce" and woocommerce.is_ping(body, request.headers):
        await ingest.shop_for(st, slug, platform)
        return JSONResponse({"status": "ping"})
    result = await ingest.handle(st, platform, slug, body, request.headers)
    return JSONResponse(result)


async def pixel_hit(request: Request) -> Response:
    async with failures_limited(request):
        return await _pixel_hit(request)


async def _pixel_hit(request: Request) -> Response:
    st = state(request)
    slug = request.path_params["shop"]
    shop = await ingest.shop_for(st, slug, "pixel")
    params = request.query_params
    try:
        pixel.verify(params, shop["pixel_token"])
        event = pixel.parse(
            params,
            params.getlist("code"),
            shop["currency"],
            request.url.query.replace(f"token={params.get('token', '')}", "token=***"),
        )
    except Rejected as exc:
        ingest.remember_rejection(st, shop["slug"], "pixel", f"{status_of(exc)} {exc.reason}")
        raise
    await ingest.apply(st, shop, event)
    return Response(pixel.GIF, media_type="image/gif", headers={"cache-control": "no-store"})


def routes() -> list[Route]:
    return [
        Route("/pixel/{shop:str}", pixel_hit, methods=["GET"]),
        Route("/{platform:str}/{shop:str}", signed, methods=["POST"]),
    ]
