"""Request size limits, chosen deliberately and applied in two places.

* Bodies: ``BodyLimitMiddleware`` refuses a declared ``Content-Length`` over
  ``TRACKER_MAX_BODY_BYTES`` before reading a byte (413), and counts chunked bodies as they
  arrive, raising ``PayloadTooLarge`` inside the handler that reads past the cap, so no
  handler ever holds more than the cap in memory or writes half a request.
* Request line and headers: ``UVICORN_LIMITS`` are passed to uvicorn by ``tracker serve``;
  ``HeaderLimitMiddleware`` then refuses requests whose headers or URL exceed
  ``MAX_HEADER_BYTES`` / ``MAX_URL_BYTES`` with 431 / 414, whichever HTTP parser uvicorn runs
  (httptools has no header-size option of its own; h11 stops at
  ``h11_max_incomplete_event_size``).
"""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tracker.errors import PayloadTooLarge

#: Total bytes of request headers (names + values) accepted: browsers send < 4 KiB.
MAX_HEADER_BYTES = 16 * 1024
#: Path + query bytes accepted: a short link with the shopper's own UTM/gclid is < 2 KiB.
MAX_URL_BYTES = 8 * 1024
#: Header lines accepted.
MAX_HEADER_COUNT = 100

#: Keyword arguments for ``uvicorn.run`` (see ``tracker serve``), each chosen on purpose.
UVICORN_LIMITS: dict[str, Any] = {
    # h11 refuses a request line + headers larger than this (400) before the app sees it.
    "h11_max_incomplete_event_size": MAX_HEADER_BYTES + MAX_URL_BYTES,
    # Connections beyond this get 503 instead of queueing without bound in memory.
    "limit_concurrency": 4096,
    # Pending TCP connections the kernel holds for us.
    "backlog": 2048,
    # Idle keep-alive connections are closed after this many seconds.
    "timeout_keep_alive": 5,
    # On SIGTERM, in-flight requests get this long; then the click writer drains.
    "timeout_graceful_shutdown": 10,
}


async def _reply(send: Send, status: int, code: str, detail: str) -> None:
    body = json.dumps({"error": code, "detail": detail}).encode()
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
        (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


class HeaderLimitMiddleware:
    """431 for oversized or too many headers, 414 for an oversized URL."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = scope["headers"]
            if (len(headers) > MAX_HEADER_COUNT
                    or sum(len(k) + len(v) for k, v in headers) > MAX_HEADER_BYTES):
                await _reply(send, 431, "headers_too_large",
                             f"request headers over {MAX_HEADER_BYTES} bytes or "
                             f"{MAX_HEADER_COUNT} lines")
                return
            if len(scope.get("raw_path") or b"") + len(scope.get("query_string", b"")) > \
                    MAX_URL_BYTES:
                await _reply(send, 414, "uri_too_long", f"URL over {MAX_URL_BYTES} bytes")
                return
        await self.app(scope, receive, send)


class BodyLimitMiddleware:
    """Cap every request body at ``max_bytes`` (413)."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length":
                if value.isdigit() and int(value) > self.max_bytes:
                    await _reply(send, 413, "payload_too_large",
                                 f"body larger than {self.max_bytes} bytes")
                    return
                break
        seen = 0
        limit = self.max_bytes

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise PayloadTooLarge(f"body larger than {limit} bytes")
            return message

        await self.app(scope, counted, send)
