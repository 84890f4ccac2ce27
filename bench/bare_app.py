"""The ceiling: a bare Starlette app whose only route answers every ``/{slug}`` with a 302.

It does no lookup, no click capture and no write, so its throughput and CPU per request
are what Starlette + uvicorn (uvloop, httptools) cost on this machine; the tracker's
redirect is reported as a ratio to it. Served by ``bench/run.py`` with exactly the same
uvicorn options as ``tracker serve``.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

DESTINATION = "https://shop.example.com/products/serum"


async def redirect(request: Request) -> Response:
    return RedirectResponse(DESTINATION, status_code=302)


app = Starlette(routes=[Route("/{slug}", redirect, methods=["GET", "HEAD"])])
