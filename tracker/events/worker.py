"""The delivery worker: leases due deliveries, posts them signed, logs every attempt.

Runs in every node's lifespan. Each round it leases up to ``BATCH`` due deliveries (see
``tracker/store/events.py``: one node per delivery, an order's events in order), posts them
concurrently, and records the outcome: a 2xx answer delivers; anything else (another
status, a timeout, a refused connection, a non-public address) schedules the next attempt
after ``retry_delay`` (exponential: base, 2 x base, 4 x base ... capped), or marks the
delivery failed once its attempts are spent. The lease outlasts the request timeout, so a
node killed mid-request leaves the delivery to be claimed again when the lease runs out:
at least once, never lost. Redirects are not followed (an endpoint answers itself).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx

from tracker.core import clock
from tracker.events import signing
from tracker.events.endpoints import resolve
from tracker.settings import Settings
from tracker.store.engine import Row
from tracker.store.events import Outcome

log = logging.getLogger("tracker.events")

BATCH = 20
LEASE_MARGIN = 5.0  # seconds a lease outlasts the whole attempt (its total deadline)


def retry_delay(attempt: int, base: float, cap: float) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
    return float(min(cap, base * 2 ** min(attempt - 1, 40)))


def schedule(settings: Settings) -> list[float]:
    """The waits between attempts with these settings (README: events out)."""
    base, cap = settings.webhook_retry_base_seconds, settings.webhook_retry_max_seconds
    return [retry_delay(n, base, cap) for n in range(1, settings.webhook_max_attempts)]


class EventWorker:
    def __init__(
        self,
        store: Any,
        settings: Settings,
        *,
        node: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        now: Callable[[], float] = clock.now,
    ) -> None:
        self.store = store
        self.settings = settings
        self.node = node or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self.now = now
        self._client = httpx.AsyncClient(
            transport=transport,
            timeout=settings.webhook_timeout_seconds,
            follow_redirects=False,
            trust_env=False,
        )
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.attempts = 0
        self.delivered = 0

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="event-worker")

    async def _run(self) -> None:
        poll = self.settings.webhook_poll_ms / 1000
        while not self._stop.is_set():
            try:
                done = await self.run_once()
            except Exception:
                log.exception("event delivery round failed; retrying")
                done = 0
            if done:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), poll)

    async def run_once(self) -> int:
        """One round: lease due deliveries, attempt them all; returns the attempts made."""
        now = self.now()
        lease = now + self.settings.webhook_timeout_seconds + LEASE_MARGIN
        batch = await self.store.claim_deliveries(
            self.node, clock.iso(now), clock.iso(lease), BATCH
        )
        if batch:
            results = await asyncio.gather(
                *(self._attempt(d) for d in batch), return_exceptions=True
            )
            for r in results:  # one failed write (an endpoint deleted meanwhile) spares the rest
                if isinstance(r, Exception):
                    log.error("recording a webhook attempt failed: %r", r)
        return len(batch)

    async def _post(
        self, urls: tuple[str, ...], body: bytes, headers: dict[str, str], sni: Any
    ) -> httpx.Response:
        """POST to each address in turn while the connection is refused or unreachable."""
        for url in urls[:-1]:
            try:
                return await self._client.post(url, content=body, headers=headers, extensions=sni)
            except httpx.ConnectError:
                continue
        return await self._client.post(urls[-1], content=body, headers=headers, extensions=sni)

    async def _attempt(self, d: Row) -> None:
        started = time.perf_counter()
        code: int | None = None
        error = ""
        target = await resolve(d["url"], allow_private=self.settings.webhook_allow_private)
        if isinstance(target, str):
            error = f"refused: {target}"
        else:
            body = d["payload"]
            headers = signing.headers(
                d["secret"], d["event_id"], body, datetime.fromtimestamp(self.now(), UTC)
            )
            headers["Host"] = target.host
            sni = {"sni_hostname": target.sni} if target.sni else None
            try:
                # One deadline for the whole attempt (httpx's timeout is per read), so a
                # slow-dripping receiver can never outlive the lease. The checked address
                # itself is connected to (endpoints.resolve: no second lookup).
                r = await asyncio.wait_for(
                    self._post(target.urls, body.encode(), headers, sni),
                    self.settings.webhook_timeout_seconds,
                )
                code = r.status_code
                if not 200 <= code < 300:
                    error = f"HTTP {code}"
            except (httpx.TimeoutException, TimeoutError):
                error = "timeout"
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"[:300] or type(exc).__name__
        attempt = int(d["attempts"]) + 1
        next_at: str | None = None
        if error and attempt < self.settings.webhook_max_attempts:
            delay = retry_delay(
                attempt,
                self.settings.webhook_retry_base_seconds,
                self.settings.webhook_retry_max_seconds,
            )
            next_at = clock.iso(self.now() + delay)
        duration = int((time.perf_counter() - started) * 1000)
        outcome = Outcome(code, error, duration, next_at)
        await self.store.finish_delivery(d, self.node, outcome, self.settings.webhook_disable_after)
        self.attempts += 1
        if not error:
            self.delivered += 1
        else:
            log.info("webhook %s to %s: %s", d["event_id"], d["endpoint_id"], error)

    async def close(self) -> None:
        """Stop after the round under way (its attempts are logged, leases released)."""
        self._stop.set()
        if self._task is not None:
            await self._task
            self._task = None
        await self._client.aclose()
