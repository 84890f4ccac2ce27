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

#: Answers that mean "not proven to come from the shop": no or a wrong signature or token, an
#: unknown shop, an oversized body. Only these count against (shop, address); a delivery
#: whose signature verifies is never counted and never refused by the limit.
_UNVERIFIED = (401, 404, 413)


@contextlib.asynccontextmanager
async def failures_limited(request: Request) -> AsyncIterator[None]:
    """Count unverified postbacks per (shop, client address); once a pair is over the limit
    its unverified postbacks get 429 instead of their 4xx. The check runs *after* the
    signature check, so a correctly signed delivery is processed whatever the count: neither
    a forger behind the same proxy nor one hammering another shop can block it."""
    st = state(request)
    limiter = st.postback_failures
    if limiter is None:
        yield
        return
    ip = st.capture.client_ip(request.scope, dict(request.scope["headers"]))
    key = f"{request.path_params.get('shop', '')[:64]}\x00{ip}"
    try:
        yield
    except Rejected as exc:
        if status_of(exc) not in _UNVERIFIED:
            raise
        wait = limiter.take(key)
        if wait:
            raise TooManyRequests(
                "too many rejected postbacks from this address for this shop",
                retry_after=max(1, math.ceil(wait)),
            ) from None
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
        pixel.verify(params, shop.get("pixel_token") or "")
        event = pixel.parse(
            params,
            params.getlist("code"),
            shop["currency"],
            request.url.query,
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
