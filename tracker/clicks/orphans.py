"""Visits to unknown slugs ("orphan visits"), counted per slug per hour, never one row each.

A flood of made-up slugs used to write one clicks row per request (2.0 MB per 10,000).
Now the redirect only bumps an in-memory counter; every ``interval`` seconds the counters
go to ``orphan_visits`` with one upsert per (slug, hour). The store grows by at most
``MAX_SLUGS_PER_HOUR`` rows per hour and node whatever the traffic: slugs beyond that in an
hour, and paths that are not valid slugs, are counted under ``OTHER``. Counts of the last
interval can be lost in a crash (they are a diagnostic, not money).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from tracker.core import clock
from tracker.links.rules import SLUG_RE

log = logging.getLogger("tracker.clicks")

#: Distinct unknown slugs kept per hour (per node); the rest are counted under OTHER.
MAX_SLUGS_PER_HOUR = 1000
OTHER = "(other)"


def hour_of(ts: float) -> str:
    return clock.iso(ts - ts % 3600)[:13] + ":00:00Z"


class OrphanCounter:
    def __init__(self, store: Any, interval: float = 5.0) -> None:
        self._store = store
        self._interval = interval
        self._counts: dict[tuple[str, str], list[Any]] = {}  # -> [visits, bots, first, last]
        self._hour = ""
        self._slugs: set[str] = set()
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self.flushed = 0

    def add(self, slug: str, now: float, is_bot: bool) -> None:
        """No I/O: one dict update per orphan visit."""
        hour = hour_of(now)
        if hour != self._hour:
            self._hour, self._slugs = hour, set()
        if not SLUG_RE.match(slug):
            slug = OTHER
        elif slug not in self._slugs:
            if len(self._slugs) >= MAX_SLUGS_PER_HOUR:
                slug = OTHER
            else:
                self._slugs.add(slug)
        entry = self._counts.get((slug, hour))
        if entry is None:
            self._counts[(slug, hour)] = [1, int(is_bot), now, now]
        else:
            entry[0] += 1
            entry[1] += int(is_bot)
            entry[3] = now

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="orphan-visits")

    async def flush(self) -> None:
        """Write the counters; one flush at a time, so a caller that flushes returns only
        once every visit counted before the call is committed."""
        async with self._lock:
            counts, self._counts = self._counts, {}
            if not counts:
                return
            rows = [
                (slug, hour, v[0], v[1], clock.iso(v[2]), clock.iso(v[3]))
                for (slug, hour), v in counts.items()
            ]
            try:
                await self._store.count_orphan_visits(rows)
                self.flushed += len(rows)
            except Exception:
                log.exception("orphan visits not recorded yet (%d counters)", len(rows))
                for key, v in counts.items():  # kept for the next flush (bounded keys)
                    entry = self._counts.setdefault(key, [0, 0, v[2], v[3]])
                    entry[0] += v[0]
                    entry[1] += v[1]

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            await self.flush()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.flush()
