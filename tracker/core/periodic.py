"""A background job run shortly after start and then every interval, until closed.

The retention purge, the re-match of unattributed orders and the commission approval are each
one ``PeriodicJob``: the loop, its first delay, its error handling (logged, retried at the next
interval) and its orderly stop live here once. ``close`` lets a run in progress finish (a
purge is never cut mid-transaction).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger("tracker.jobs")


class PeriodicJob:
    """Awaits ``run()`` after ``first_delay`` seconds, then every ``interval`` seconds
    (``interval`` 0: never started). ``runs`` counts the runs that returned."""

    def __init__(
        self,
        name: str,
        run: Callable[[], Awaitable[object]],
        interval: float,
        *,
        first_delay: float | None = None,
    ) -> None:
        self.name = name
        self._run_once = run
        self._interval = interval
        self._first_delay = interval if first_delay is None else first_delay
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.runs = 0

    def start(self) -> None:
        if self._interval > 0 and self._task is None:
            self._stop.clear()
            self._task = asyncio.create_task(self._loop(), name=self.name)

    async def _loop(self) -> None:
        delay = self._first_delay
        while True:
            try:
                await asyncio.wait_for(self._stop.wait(), delay)
                return
            except TimeoutError:
                pass
            try:
                await self._run_once()
                self.runs += 1
            except Exception:
                log.exception("%s failed; will retry next interval", self.name)
            delay = self._interval

    async def close(self) -> None:
        self._stop.set()
        if self._task is not None:
            await self._task
            self._task = None
