"""Request size limits, chosen deliberately and applied in two places.

* Bodies: ``BodyLimitMiddleware`` refuses a declared ``Content-Length`` over
  ``TRACKER_MAX_BODY_BYTES`` before reading a byte (413), and counts chunked bodies as they
  arrive, raising ``PayloadTooLarge`` inside the handler that reads past the cap, so no
  handler ever holds more than the cap in memory or writes half a request.
* Request line and headers: ``UVICORN_LIMITS`` are passed to uvicorn by ``tracker serve``.
  uvicorn's httptools parser has no size option and holds a request head of any size in
  memory (measured: a 5 MB header was read whole), so ``serve`` runs
  ``bounded_httptools_protocol()``, which closes the connection with 431 once a request
  head passes ``MAX_HEAD_BYTES``; h11 stops at ``h11_max_incomplete_event_size``. Within
  that, ``HeaderLimitMiddleware`` refuses headers over ``MAX_HEADER_BYTES`` (431) and URLs
  over ``MAX_URL_BYTES`` (414) whichever parser runs.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tracker.core.errors import PayloadTooLarge

#: Total bytes of request headers (names + values) accepted: browsers send < 4 KiB.
MAX_HEADER_BYTES = 16 * 1024
#: Path + query bytes accepted: a short link with the shopper's own UTM/gclid is < 2 KiB.
MAX_URL_BYTES = 8 * 1024
#: Header lines accepted.
MAX_HEADER_COUNT = 100

#: Bytes of one request head (request line + headers) a connection may send before 431.
MAX_HEAD_BYTES = MAX_HEADER_BYTES + MAX_URL_BYTES + 1024

#: Keyword arguments for ``uvicorn.run`` (see ``tracker serve``), each chosen on purpose.
UVICORN_LIMITS: dict[str, Any] = {
    # h11 refuses a request line + headers larger than this (400) before the app sees it.
    "h11_max_incomplete_event_size": MAX_HEAD_BYTES,
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
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class HeaderLimitMiddleware:
    """431 for oversized or too many headers, 414 for an oversized URL, 400 for a NUL byte
    in the path or query."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = scope["headers"]
            if (
                len(headers) > MAX_HEADER_COUNT
                or sum(len(k) + len(v) for k, v in headers) > MAX_HEADER_BYTES
            ):
                await _reply(
                    send,
                    431,
                    "headers_too_large",
                    f"request headers over {MAX_HEADER_BYTES} bytes or {MAX_HEADER_COUNT} lines",
                )
                return
            query = scope.get("query_string", b"")
            if len(scope.get("raw_path") or b"") + len(query) > MAX_URL_BYTES:
                await _reply(send, 414, "uri_too_long", f"URL over {MAX_URL_BYTES} bytes")
                return
            if "\x00" in scope["path"] or b"%00" in query or b"\x00" in query:
                # PostgreSQL text cannot hold NUL: refused here, it never reaches a query
                # (or a click batch, where one such row would fail the whole batch).
                await _reply(send, 400, "bad_request", "NUL byte in the URL")
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
                    await _reply(
                        send, 413, "payload_too_large", f"body larger than {self.max_bytes} bytes"
                    )
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


def bounded_httptools_protocol() -> type[Any]:
    """uvicorn's httptools protocol, with request heads capped at ``MAX_HEAD_BYTES``."""
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    class BoundedHttpToolsProtocol(HttpToolsProtocol):  # type: ignore[misc]
        _head_bytes = 0  # bytes received since the current request began
        _in_body = False
        _heads = 0  # request heads completed on this connection

        def data_received(self, data: bytes) -> None:
            if self._in_body:
                super().data_received(data)
                return
            room = MAX_HEAD_BYTES - self._head_bytes
            if len(data) <= room:
                self._head_bytes += len(data)
                super().data_received(data)
                return
            heads = self._heads
            super().data_received(data[:room])  # the head may end inside this slice
            if self.transport.is_closing():
                return
            if self._heads == heads:
                msg = b"request head too large"
                self.transport.write(
                    b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
                    b"content-type: text/plain; charset=utf-8\r\n"
                    b"content-length: " + str(len(msg)).encode() + b"\r\n"
                    b"connection: close\r\n\r\n" + msg
                )
                self.transport.close()
                return
            super().data_received(data[room:])

        def on_headers_complete(self) -> None:
            self._in_body = True
            self._heads += 1
            super().on_headers_complete()

        def on_message_complete(self) -> None:
            self._in_body = False
            self._head_bytes = 0
            super().on_message_complete()

    return BoundedHttpToolsProtocol
