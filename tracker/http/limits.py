"""Request size limits, chosen deliberately and applied in two places.

* Bodies: ``BodyLimitMiddleware`` refuses a declared ``Content-Length`` over
  ``TRACKER_MAX_BODY_BYTES`` before reading a byte (413), and counts chunked bodies as they
  arrive, raising ``PayloadTooLarge`` inside the handler that reads past the cap, so no
  handler ever holds more than the cap in memory or writes half a request.
  A body must also arrive within ``TRACKER_BODY_TIMEOUT`` of its headers (408 otherwise),
  so a client trickling a body cannot hold a handler forever, on either server.
* Request line and headers: the server stops reading a head at ``MAX_HEAD_BYTES`` (431 and
  close): granian through its buffer size, uvicorn through ``tracker.http.connections``
  (httptools alone holds a head of any size in memory: a 5 MB header was read whole).
  Within that, ``HeaderLimitMiddleware`` refuses headers over ``MAX_HEADER_BYTES`` (431),
  more than ``MAX_HEADER_COUNT`` lines (431) and URLs over ``MAX_URL_BYTES`` (414),
  whichever server runs.
"""

from __future__ import annotations

import asyncio
import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tracker.core.errors import PayloadTooLarge, RequestTimeout

#: Total bytes of request headers (names + values) accepted: browsers send < 4 KiB.
MAX_HEADER_BYTES = 16 * 1024
#: Path + query bytes accepted: a short link with the shopper's own UTM/gclid is < 2 KiB.
MAX_URL_BYTES = 8 * 1024
#: Header lines accepted.
MAX_HEADER_COUNT = 100

#: Bytes of one request head (request line + headers) a connection may send before 431.
MAX_HEAD_BYTES = MAX_HEADER_BYTES + MAX_URL_BYTES + 1024


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
    """Cap every request body at ``max_bytes`` (413) and at ``timeout`` seconds from its
    headers (408): a trickled body cannot hold a handler, on either server."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, timeout: float = 30.0) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.timeout = timeout

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
        timeout = self.timeout
        deadline = asyncio.get_running_loop().time() + timeout

        async def counted() -> Message:
            nonlocal seen
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                raise RequestTimeout(f"request body not received within {timeout:g} s") from None
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise PayloadTooLarge(f"body larger than {limit} bytes")
            return message

        await self.app(scope, counted, send)
