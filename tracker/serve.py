"""``tracker serve``: one process, one worker, on uvicorn or granian (``TRACKER_SERVER``).

Both servers run the same app (``tracker.app.create_app``) with the same lifespan (store
opened and migrated, link cache warmed, click writer started; on SIGTERM or SIGINT the
in-flight requests finish, then the writer drains every queued click), the same settings
and the same logging. What each server owns is set here, to the same figures:

* the listening socket, bound here with ``SO_REUSEPORT`` where the platform has it, so
  several ``tracker serve`` processes can share one port (the kernel spreads connections);
* request head caps (``tracker.http.limits``: bytes, header lines) and the header read
  timeout (``TRACKER_HEADER_TIMEOUT``), which is also how long an idle kept-alive
  connection stays open (granian has one timer for both); the body read timeout
  (``TRACKER_BODY_TIMEOUT``) and the app-level caps are ASGI middleware, the same code on
  both servers;
* the per-address connection cap (``TRACKER_MAX_CONNECTIONS_PER_IP``): in uvicorn's
  protocol (a connection over the cap is closed as it is accepted); granian accepts in
  Rust, so there the cap counts requests in flight per address (ASGI) and slow heads are
  bounded by its header read timeout alone (measured in tests/reliability/test_slow_clients);
* the access log (``--access-log``): our own ASGI middleware on both, one format, tokens
  and client addresses never written (``tracker.http.accesslog``).

Shutdown: uvicorn gives in-flight requests ``GRACEFUL_SECONDS``, then runs the lifespan
shutdown. granian stops accepting and waits for its open connections (a half-sent head at
most ``TRACKER_HEADER_TIMEOUT``, a trickled body at most ``TRACKER_BODY_TIMEOUT``) before the
lifespan shutdown; the click writer keeps flushing during that wait, so a supervisor's
SIGKILL then loses no acknowledged click (tests/reliability/test_serving.py).

Neither server trusts ``X-Forwarded-*`` itself: the client address comes from the app,
which believes forwarding headers only from ``TRACKER_TRUSTED_PROXIES``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import resource
import signal
import socket
import sys
from typing import Any

from tracker.http.connections import guarded_httptools_protocol
from tracker.http.limits import MAX_HEAD_BYTES, MAX_HEADER_COUNT
from tracker.settings import Settings, url_for_address

log = logging.getLogger("tracker")

#: On SIGTERM, in-flight requests get this long; then the click writer drains.
GRACEFUL_SECONDS = 10
#: Pending TCP connections the kernel holds for us.
BACKLOG = 2048
#: Open file descriptors kept free for the store, logs and the admin's uploads.
FD_HEADROOM = 256


def serve(
    settings: Settings,
    *,
    host: str,
    port: int,
    server: str | None = None,
    access_log: bool = False,
) -> int:
    """Run until SIGTERM/SIGINT; return the exit status (non-zero when start-up failed)."""
    if server:
        settings = dataclasses.replace(settings, server=server)
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    fds = raise_open_files_limit()
    # granian listens on a socket of its own: ours only checks the address (never
    # listening, so no connection can queue on it and be reset when it closes).
    sock = bind(host, port, listen=settings.server == "uvicorn")
    _banner(settings, host, sock.getsockname()[1])
    if settings.server == "granian":
        return _granian(settings, sock, access_log, max(1024, fds - FD_HEADROOM))
    return _uvicorn(settings, sock, access_log)


def raise_open_files_limit() -> int:
    """Every connection is a file descriptor: lift the soft limit to the hard one (often
    1,024 -> 1,048,576), so thousands of slow or idle sockets cannot make ``accept`` fail
    for everyone else. Returns the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):  # some containers refuse: keep what we have
            pass
    return soft


def bind(host: str, port: int, *, listen: bool = True) -> socket.socket:
    """The listening socket, with ``SO_REUSEPORT`` where the platform has it."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if hasattr(socket, "SO_REUSEPORT"):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    if listen:
        sock.listen(BACKLOG)
    sock.set_inheritable(True)
    return sock


def _banner(settings: Settings, host: str, port: int) -> None:
    base = settings.base_url
    where = settings.database_url.split("@")[-1]
    listen = url_for_address(host, port)
    print(f"Creatorlink serving on {listen}  (server: {settings.server}, database: {where})")
    print(f"  short links:  {base}/SLUG")
    print(
        f"  admin panel:  {base}/admin  "
        "(first user: .venv/bin/tracker admin create --email YOU --role admin)"
    )
    print(f"  JSON API:     {base}/api/v1  (schema: {base}/api/v1/openapi.json)")
    print(
        "  API token:    .venv/bin/tracker token create NAME   (then: Authorization: Bearer TOKEN)"
    )
    sys.stdout.flush()


def _app(settings: Settings, access_log: bool) -> Any:
    from tracker.app import create_app

    return create_app(settings, freeze_heap=True, access_log=access_log)


# -- uvicorn -------------------------------------------------------------------------------
def _uvicorn(settings: Settings, sock: socket.socket, access_log: bool) -> int:
    import uvicorn

    config = uvicorn.Config(
        _app(settings, access_log),
        log_level=settings.log_level,
        loop="uvloop",
        http=guarded_httptools_protocol(settings),
        lifespan="on",
        proxy_headers=False,
        server_header=False,
        date_header=False,
        access_log=False,  # ours, redacted: tracker.http.accesslog
        # h11 (not used by default) refuses a head over this; httptools is capped by the
        # guarded protocol.
        h11_max_incomplete_event_size=MAX_HEAD_BYTES,
        limit_concurrency=None,  # uvicorn's counts idle connections too: see the protocol
        backlog=BACKLOG,
        # granian's header read timeout also bounds an idle kept-alive connection: the same
        # figure here, so both close an idle connection after TRACKER_HEADER_TIMEOUT.
        timeout_keep_alive=settings.header_timeout,
        timeout_graceful_shutdown=GRACEFUL_SECONDS,
    )
    server = uvicorn.Server(config)
    server.run(sockets=[sock])
    if not server.started:
        return 3  # the lifespan failed: uvicorn logged why
    return 0


# -- granian -------------------------------------------------------------------------------
def _granian(settings: Settings, sock: socket.socket, access_log: bool, conns: int) -> int:
    host, port = sock.getsockname()[:2]
    sock.close()
    return run_granian(
        _app(settings, access_log),
        host,
        port,
        header_timeout=settings.header_timeout,
        conns=conns,
        log_level=settings.log_level,
    )


def run_granian(
    app: Any, host: str, port: int, *, header_timeout: int, conns: int, log_level: str
) -> int:
    """Serve ``app`` on granian's embedded server, in this process, on uvloop, until SIGTERM
    or SIGINT (then granian stops accepting, finishes in-flight requests and the lifespan
    shutdown runs). Also how bench/servers.py runs the bare 302 on granian.

    ``conns``: granian's "backpressure" is a count of open connections, not requests
    (measured: with 4,096, the 4,097th connection waited until a slow one timed out), so
    it is set to what the file descriptors allow and slow heads are bounded by time."""
    # long: granian's options, each chosen, and the one workaround (its address probe)
    import uvloop
    from granian._granian import ListenerSpec as SocketSpec
    from granian.constants import HTTPModes, Interfaces
    from granian.http import HTTP1Settings
    from granian.log import LogLevels
    from granian.server.embed import Server

    class _Server(Server):
        def _init_shared_socket(self) -> None:
            # granian 2.x on Linux binds a socket to test the address and drops it: with
            # SO_REUSEPORT the kernel may hand that socket a connection, reset as it
            # closes (measured: one reset per start next to a serving process). The
            # worker binds its own; the address was checked by ``bind`` above.
            if sys.platform != "linux":
                super()._init_shared_socket()
                return
            self._ssp = SocketSpec(self.bind_addr, self.bind_port, self.backlog)  # type: ignore[assignment]

    assert MAX_HEADER_COUNT <= 100  # hyper's fixed limit of header lines
    server = _Server(
        app,
        address=host,
        port=port,
        interface=Interfaces.ASGI,
        http=HTTPModes.http1,
        websockets=False,
        backlog=BACKLOG,
        backpressure=conns,
        http1_settings=HTTP1Settings(
            header_read_timeout=header_timeout * 1000,
            keep_alive=True,
            max_buffer_size=max(8192, MAX_HEAD_BYTES),
        ),
        log_enabled=True,
        log_level=LogLevels(log_level),
        # granian's own lines go through our root handler and format, like uvicorn's
        log_dictconfig={"loggers": {"_granian": {"handlers": [], "propagate": True}}},
        log_access=False,
    )
    # granian calls its embedded server "experimental" at every start; what we rely on
    # (lifespan, SIGTERM drain, timeouts, caps) is tested on it in tests/reliability.
    logging.getLogger("_granian").addFilter(
        lambda record: "experimental" not in record.getMessage()
    )

    async def main() -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, server.stop)
        await server.serve()
        return 3 if server.interrupt_children else 0

    result: int = uvloop.run(main())
    return result
