"""The retention job: personal data is erased once its configured period has passed.

Each ``Rule`` names what it erases, the setting that holds its period in days (0: keep
forever) and the store call that erases rows older than a cutoff. ``tracker purge`` runs
every rule once; a running server also runs them every
``TRACKER_RETENTION_INTERVAL_MINUTES`` (``RetentionJob``, started by the app's lifespan).

To cover more data (customer hashes, say), append a ``Rule`` to ``RULES`` with its own
``TRACKER_RETENTION_*_DAYS`` setting and a batched store query in
``tracker/store/retention.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from tracker.core import clock
from tracker.core.periodic import PeriodicJob
from tracker.orders.scrub import scrub
from tracker.settings import Settings

log = logging.getLogger("tracker.retention")


@dataclass(frozen=True)
class Rule:
    name: str
    days_setting: str  # attribute of Settings
    purge: Callable[[Any, str], Awaitable[int]]  # (store, cutoff ISO) -> rows changed


RULES: list[Rule] = [
    Rule(
        "click fingerprints and IPs",
        "retention_fingerprint_days",
        lambda store, cutoff: store.purge_click_fingerprints(cutoff),
    ),
    Rule(
        "raw postback bodies",
        "retention_raw_body_days",
        lambda store, cutoff: store.purge_raw_bodies(cutoff),
    ),
    Rule(
        "delivered events and their delivery log",
        "event_retention_days",
        lambda store, cutoff: store.purge_events(cutoff),
    ),
]


async def purge(store: Any, settings: Settings, *, now: float | None = None) -> dict[str, int]:
    """Apply every rule once; return rows changed per rule (rules kept forever are absent)."""
    now = clock.now() if now is None else now
    done: dict[str, int] = {}
    scrubbed = await scrub_stored_bodies(store, settings.secret_key)
    if scrubbed:
        done["personal data in postback bodies stored before scrubbing"] = scrubbed
    for rule in RULES:
        days = int(getattr(settings, rule.days_setting))
        if days <= 0:
            continue
        cutoff = clock.iso(now - days * 86400)
        done[rule.name] = await rule.purge(store, cutoff)
        if done[rule.name]:
            log.info(
                "retention: %s older than %s erased in %d rows", rule.name, cutoff, done[rule.name]
            )
    return done


async def scrub_stored_bodies(store: Any, secret: str, *, batch: int = 500) -> int:
    """The one-time pass over raw bodies stored before they were scrubbed on the way in
    (issue 15): personal data out, in batches; idempotent; returns the rows rewritten."""
    total = 0
    while True:
        rows = await store.unscrubbed_bodies(batch)
        if not rows:
            break
        await store.save_scrubbed_bodies([(r["id"], scrub(r["body"], secret)) for r in rows])
        total += len(rows)
        await asyncio.sleep(0)  # let requests in between batches
    if total:
        log.info("privacy: personal data removed from %d stored postback bodies", total)
    return total


class RetentionJob(PeriodicJob):
    """Runs ``purge`` shortly after start and then every interval, until ``close``; also
    scrubs stored postback bodies once per start."""

    def __init__(self, store: Any, settings: Settings, *, first_delay: float = 60.0) -> None:
        async def run() -> None:
            await purge(store, settings)

        interval = settings.retention_interval_minutes * 60
        super().__init__("retention", run, interval, first_delay=first_delay)
        self._store = store
        self._secret = settings.secret_key
        self._scrub: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._scrub = asyncio.create_task(self._scrub_once(), name="scrub-bodies")
        super().start()

    async def _scrub_once(self) -> None:
        try:
            await scrub_stored_bodies(self._store, self._secret)
        except Exception:
            log.exception("scrubbing stored postback bodies failed; will run at next start")

    async def close(self) -> None:
        """Stop; a purge in progress finishes its current batch (never cut mid-transaction)."""
        if self._scrub is not None:
            self._scrub.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._scrub
            self._scrub = None
        await super().close()
