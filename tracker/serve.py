"""``tracker serve``: the server that runs the app, with its limits. The CLI calls ``run``.

Today one server, uvicorn on uvloop + httptools. ``UVICORN_LIMITS`` are its options, each
chosen on purpose; uvicorn's httptools parser has no size option and would hold a request
head of any size in memory (measured: a 5 MB header was read whole), so ``run`` gives it
``bounded_httptools_protocol()``, which closes the connection with 431 once a request head
passes ``MAX_HEAD_BYTES`` (the in-app header and URL caps are in ``tracker.http.limits``).
"""

from __future__ import annotations

from typing import Any

from tracker.http.limits import MAX_HEAD_BYTES
from tracker.settings import Settings

#: Keyword arguments for ``uvicorn.run``, each chosen on purpose.
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


def run(settings: Settings, *, host: str, port: int, access_log: bool) -> None:
    """Serve the app until SIGTERM / SIGINT (uvicorn's graceful shutdown, then the lifespan
    drains the click writer)."""
    # Imported here, not at the top: every other CLI command imports this module through
    # tracker.cli, and the app and the server double its start time (0.2 s -> 0.45 s).
    import uvicorn

    from tracker.app import create_app

    uvicorn.run(
        create_app(settings, freeze_heap=True),
        host=host,
        port=port,
        log_level=settings.log_level,
        loop="uvloop",
        http=bounded_httptools_protocol(),
        proxy_headers=False,
        server_header=False,
        date_header=False,
        access_log=access_log,
        **UVICORN_LIMITS,
    )


def bounded_httptools_protocol() -> type[Any]:
    """uvicorn's httptools protocol, with request heads capped at ``MAX_HEAD_BYTES``."""
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    class BoundedHttpToolsProtocol(HttpToolsProtocol):
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
