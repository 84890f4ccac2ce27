"""``GET /static/creatorlink-v1.js``: the storefront snippet (``tracker.links.snippet``),
cacheable, readable cross-origin so the shop's page can check its integrity hash."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from tracker.links import snippet


async def script(request: Request) -> Response:
    return Response(
        snippet.body(),
        media_type="text/javascript; charset=utf-8",
        headers={
            "cache-control": "public, max-age=86400",
            "access-control-allow-origin": "*",
            "cross-origin-resource-policy": "cross-origin",
            "x-content-type-options": "nosniff",
        },
    )
