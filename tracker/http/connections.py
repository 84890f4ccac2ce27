"""Connection guards: what a slow or greedy client may hold, on either server.

* ``AddressGate``: at most ``TRACKER_MAX_CONNECTIONS_PER_IP`` at once per peer address;
  peers in ``TRACKER_TRUSTED_PROXIES`` are exempt (a proxy carries many clients), and so are
  127.0.0.1 and ::1, where a reverse proxy on the same host connects from (a remote client
  cannot), so forgetting ``TRACKER_TRUSTED_PROXIES`` there never caps all traffic.
* ``guarded_httptools_protocol(settings)``: uvicorn's httptools protocol with
  - the per-address cap on connections, checked as a connection is accepted (429, close);
  - a request-head read timeout (``TRACKER_HEADER_TIMEOUT``) from the connection's start
    or the previous response, so a client sending a header line every few seconds is
    disconnected (uvicorn has none: its keep-alive timer stops at the first byte);
  - a request-head size cap (``MAX_HEAD_BYTES``, 431 and close): httptools alone holds
    a head of any size in memory.
  uvicorn's own ``limit_concurrency`` is not used: it counts idle and half-sent
  connections, so 4,096 slow sockets made every new request a 503.
* ``InFlightGateMiddleware``: granian accepts and reads heads in Rust, so there the cap
  counts requests in flight per address (429 beyond); slow heads are bounded by granian's
  header read timeout (``TRACKER_HEADER_TIMEOUT``) and never reach Python.
"""

from __future__ import annotations

import asyncio
import ipaddress
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from tracker.http.limits import MAX_HEAD_BYTES, _reply
from tracker.settings import Settings

_REFUSED = (
    b"HTTP/1.1 429 Too Many Requests\r\n"
    b"content-type: text/plain; charset=utf-8\r\n"
    b"retry-after: 1\r\ncontent-length: 26\r\nconnection: close\r\n\r\n"
    b"too many connections (IP)\n"
)
_TOO_LARGE = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
    b"content-type: text/plain; charset=utf-8\r\n"
    b"content-length: 22\r\nconnection: close\r\n\r\nrequest head too large"
)


#: A reverse proxy on the same machine connects from these; never capped.
LOCAL_PROXY = frozenset({"127.0.0.1", "::1"})


class AddressGate:
    """Counts what each peer address holds; ``enter`` says whether one more is allowed."""

    def __init__(self, cap: int, trusted: tuple[Any, ...] = ()) -> None:
        self.cap = cap
        self._trusted = trusted
        self._held: dict[str, int] = {}
        self._exempt: dict[str, bool] = {}
        self.refused = 0

    def _is_exempt(self, ip: str) -> bool:
        if ip in LOCAL_PROXY:
            return True
        known = self._exempt.get(ip)
        if known is None:
            try:
                addr = ipaddress.ip_address(ip)
                known = any(addr in net for net in self._trusted)
            except ValueError:
                known = False
            if len(self._exempt) > 4096:
                self._exempt.clear()
            self._exempt[ip] = known
        return known

    def enter(self, ip: str) -> bool:
        if not self.cap or not ip:
            return True
        held = self._held.get(ip, 0)
        if held >= self.cap and not self._is_exempt(ip):
            self.refused += 1
            return False
        self._held[ip] = held + 1
        return True

    def leave(self, ip: str) -> None:
        if not self.cap or not ip:
            return
        held = self._held.get(ip, 0) - 1
        if held > 0:
            self._held[ip] = held
        else:
            self._held.pop(ip, None)

    def __len__(self) -> int:
        return len(self._held)


def guarded_httptools_protocol(settings: Settings) -> type[Any]:
    """uvicorn's httptools protocol with the three guards above."""
    # long: one class closing over the gate and the timeout; uvicorn imported only to serve
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    gate = AddressGate(settings.max_connections_per_ip, settings.trusted_proxies)
    head_timeout = float(settings.header_timeout)

    class GuardedHttpToolsProtocol(HttpToolsProtocol):
        _head_bytes = 0  # bytes received since the current request began
        _in_body = False
        _heads = 0  # request heads completed on this connection
        _ip = ""
        _admitted = False
        _head_timer: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            peer = transport.get_extra_info("peername")
            ip = peer[0] if isinstance(peer, tuple) and peer else ""
            if not gate.enter(ip):
                self.transport = transport
                transport.write(_REFUSED)
                transport.close()
                return
            self._ip, self._admitted = ip, True
            super().connection_made(transport)
            self._arm_head_timer()

        def connection_lost(self, exc: Exception | None) -> None:
            if not self._admitted:
                return
            self._admitted = False
            gate.leave(self._ip)
            self._cancel_head_timer()
            super().connection_lost(exc)

        def _arm_head_timer(self) -> None:
            self._cancel_head_timer()
            self._head_timer = self.loop.call_later(head_timeout, self._head_timed_out)

        def _cancel_head_timer(self) -> None:
            if self._head_timer is not None:
                self._head_timer.cancel()
                self._head_timer = None

        def _head_timed_out(self) -> None:
            self._head_timer = None
            if not self.transport.is_closing():
                self.transport.close()

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
                self.transport.write(_TOO_LARGE)
                self.transport.close()
                return
            super().data_received(data[room:])

        def on_headers_complete(self) -> None:
            self._cancel_head_timer()
            self._in_body = True
            self._heads += 1
            super().on_headers_complete()

        def on_message_complete(self) -> None:
            self._in_body = False
            self._head_bytes = 0
            super().on_message_complete()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing():
                self._arm_head_timer()

    GuardedHttpToolsProtocol.gate = gate  # type: ignore[attr-defined]
    return GuardedHttpToolsProtocol


class InFlightGateMiddleware:
    """Per-address cap on requests in flight (429): the cap where the server (granian)
    owns the connections."""

    def __init__(self, app: ASGIApp, *, gate: AddressGate) -> None:
        self.app = app
        self.gate = gate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        ip = (scope.get("client") or ("", 0))[0] or ""
        if not self.gate.enter(ip):
            await _reply(send, 429, "too_many_requests", "too many requests in flight (IP)")
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self.gate.leave(ip)
