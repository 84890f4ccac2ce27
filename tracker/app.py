"""The app factory: ``create_app(settings)`` wires routes, middleware and the lifespan.

Lifespan: open the store (migrating it), warm the link cache, start the click writer; on
shutdown (SIGTERM under uvicorn) drain the writer completely before closing the store.
"""

from __future__ import annotations

import contextlib
import gc
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.types import Receive, Scope, Send

from tracker import guests
from tracker.clicks.orphans import OrphanCounter
from tracker.clicks.reach import reach_job
from tracker.clicks.writer import ClickWriter
from tracker.commissions.ledger import commission_job
from tracker.core.errors import Rejected
from tracker.events.worker import EventWorker
from tracker.http.accesslog import AccessLogMiddleware, redact_server_logs
from tracker.http.connections import AddressGate, InFlightGateMiddleware
from tracker.http.errors import on_rejected, on_starlette_http
from tracker.http.limits import BodyLimitMiddleware, HeaderLimitMiddleware
from tracker.http.ratelimit import RateLimiter, RateLimitMiddleware
from tracker.http.routes import routes as core_routes
from tracker.links.cache import LinkCache
from tracker.links.redirect import RedirectMiddleware
from tracker.orders.rematch import rematch_job
from tracker.retention import RetentionJob
from tracker.settings import Settings
from tracker.state import AppState
from tracker.store import durability, open_store

log = logging.getLogger("tracker")


class _Redirects:
    """Builds the redirect middleware from the live state once the lifespan has filled it."""

    def __init__(self, app: Any, state: AppState) -> None:
        self.app = app
        self.state = state
        self._mw: RedirectMiddleware | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self._mw is None:
            st = self.state
            self._mw = RedirectMiddleware(
                self.app,
                cache=st.cache,
                capture=st.capture,
                writer=st.writer,
                orphans=st.orphans,
                settings=st.settings,
            )
        await self._mw(scope, receive, send)


def _lifespan(
    settings: Settings, state: AppState, *, freeze_heap: bool
) -> Callable[[Starlette], AbstractAsyncContextManager[None]]:
    """Open the store (migrating it), warm the link cache, start the click writer and the
    background jobs; on shutdown stop the jobs and drain the writer completely before
    closing the store."""
    # long: the start and stop order of every background job, in one place to read

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        state.store = await open_store(settings)
        state.cache = LinkCache(state.store, settings)
        try:
            state.durability = durability.check(settings, await state.store.db.pragmas())
            log.info("%s durability: %s", state.store.db.dialect, state.durability)
            warmed = await state.cache.warm(settings.link_cache_size)
        except BaseException:
            # A start-up that fails must let the process exit at once (non-zero under
            # uvicorn): an open store keeps aiosqlite's non-daemon threads alive, and the
            # process would sit there, not listening, with no supervisor restarting it.
            log.exception("start-up failed")
            await state.cache.close()
            await state.store.close()
            raise
        redact_server_logs()
        if freeze_heap:
            gc.collect()
            gc.freeze()
        state.writer = ClickWriter(
            state.store,
            interval_ms=settings.flush_interval_ms,
            max_rows=settings.flush_max_rows,
            max_queue=settings.click_queue_max,
            complete=state.capture.complete_rows,
            complete_stats=state.capture.describer.stats,
        )
        state.writer.start()
        state.orphans = OrphanCounter(state.store)
        state.orphans.start()
        retention = RetentionJob(state.store, settings)
        retention.start()
        state.events = EventWorker(state.store, settings)
        state.events.start()
        commissions = commission_job(state.store, settings)
        commissions.start()
        rematching = rematch_job(state.store, settings)
        rematching.start()
        sealing = reach_job(state.store)
        sealing.start()
        log.info("ready: %d links cached, engine %s", warmed, state.store.db.dialect)
        try:
            yield
        finally:
            await retention.close()
            await commissions.close()
            await state.events.close()
            await rematching.close()
            await sealing.close()
            await state.writer.close()
            await state.orphans.close()
            await state.cache.close()
            log.info("shutdown: %s", state.writer.stats())
            await state.store.close()

    return lifespan


def create_app(
    settings: Settings | None = None, *, freeze_heap: bool = False, access_log: bool = False
) -> Starlette:
    """``freeze_heap`` (``tracker serve`` sets it): once the link cache is warm, move every
    object alive into the collector's permanent generation (``gc.freeze``). The cache holds
    one compiled link per slug (100,000 in the benchmark) that lives as long as the
    process; without this every full collection walked all of them again: about 15% of the
    server's CPU per redirect under load. Objects frozen are still freed by reference
    counting; only cycles among them are never collected, which long-lived caches do not
    form. Off for apps made in tests, which start and stop many apps in one process.

    ``access_log``: one redacted line per request (``tracker.http.accesslog``). Under
    granian, the per-address cap counts requests in flight here (``tracker.http.connections``);
    under uvicorn it counts connections in the server's protocol."""
    settings = settings or Settings.from_env()
    state = AppState(settings)

    lifespan = _lifespan(settings, state, freeze_heap=freeze_heap)
    routes = [*core_routes(), *guests.mounts(guests.load(settings.guests), state)]
    outer: list[Middleware] = []
    if access_log:
        outer.append(Middleware(AccessLogMiddleware))
    if settings.server == "granian" and settings.max_connections_per_ip:
        gate = AddressGate(settings.max_connections_per_ip, settings.trusted_proxies)
        outer.append(Middleware(InFlightGateMiddleware, gate=gate))
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=[
            *outer,
            Middleware(HeaderLimitMiddleware),
            Middleware(_Redirects, state=state),
            Middleware(
                BodyLimitMiddleware,
                max_bytes=settings.max_body_bytes,
                timeout=settings.body_timeout,
            ),
            Middleware(
                RateLimitMiddleware,
                prefix="/api/",
                client_ip=state.capture.client_ip,
                limiter=RateLimiter(settings.api_rate_per_sec, settings.api_rate_burst)
                if settings.api_rate_per_sec
                else None,
            ),
        ],
        exception_handlers={Rejected: on_rejected, HTTPException: on_starlette_http},
    )
    app.state.tracker = state
    return app
