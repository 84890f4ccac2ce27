"""The reach job: seals each closed UTC day's reach roll-up (``click_reach_days``,
migration 0092) from its raw clicks, once; reports then read the day from the roll-up.

A day closes an hour after it ends (``tracker.store.rollups.CLOSE_AFTER``); a run seals
every closed day not sealed yet, newest first: the day counted outside any write
transaction, its rows written in one short one (``Store.seal_reach_day``).
"""

from __future__ import annotations

import logging
from typing import Any

from tracker.core import clock
from tracker.core.periodic import PeriodicJob
from tracker.store.rollups import closed_before

log = logging.getLogger("tracker.clicks")

#: Seconds between runs: a day is sealed within this long of closing.
INTERVAL = 600.0


async def seal_due(store: Any, now: float | None = None) -> int:
    """Seal every closed day that holds raw clicks and is not sealed; the days sealed."""
    closed = closed_before(clock.now() if now is None else now)
    done = 0
    for day in await store.unsealed_reach_days(closed):
        done += bool(await store.seal_reach_day(day))
    return done


def reach_job(store: Any, *, first_delay: float = 20.0) -> PeriodicJob:
    async def run() -> None:
        sealed = await seal_due(store)
        if sealed:
            log.info("reach: %d days sealed", sealed)

    return PeriodicJob("reach", run, INTERVAL, first_delay=first_delay)
