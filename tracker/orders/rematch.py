"""Re-match unattributed orders once the clicks that explain them are committed.

``rematch`` runs one pass (``tracker rematch``, ``POST /api/v1/orders/rematch``);
``rematch_job`` runs it every ``TRACKER_REMATCH_INTERVAL_SECONDS`` in a serving process.
The rules are the ingest rules (``tracker.attribution``); the store makes each rewrite
idempotent and safe when several nodes run the job at once (``tracker.store.rematch``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from tracker.attribution.touches import Matching
from tracker.core import clock
from tracker.core.periodic import PeriodicJob
from tracker.settings import Settings

log = logging.getLogger("tracker.rematch")

BATCH = 500  # candidates per pass; the rest wait for the next one


async def rematch(
    store: Any,
    settings: Settings,
    *,
    now: float | None = None,
    say: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """One pass over the unattributed orders still inside a lookback window; ``say`` gets a
    one-line summary (the CLI prints it)."""
    m = Matching.from_settings(settings)
    now = clock.now() if now is None else now
    days = max(m.click_days, m.fingerprint_days)
    placed_since = clock.shift(clock.iso(now), -timedelta(days=days))
    clicks_since = clock.shift(placed_since, -timedelta(days=m.fingerprint_days))
    candidates = await store.rematch_candidates(placed_since, clicks_since, BATCH)
    changed = []
    for row in candidates:
        result = await store.rematch_unattributed(row, m)
        if result is not None:
            changed.append(result)
    if changed:
        log.info("re-match: %d of %d candidate orders attributed", len(changed), len(candidates))
    if say is not None:
        say(f"{len(candidates)} unattributed orders checked, {len(changed)} re-matched")
    return {"checked": len(candidates), "rematched": len(changed), "orders": changed}


def rematch_job(store: Any, settings: Settings) -> PeriodicJob:
    """``rematch`` every ``TRACKER_REMATCH_INTERVAL_SECONDS`` (0: never)."""

    async def run() -> None:
        await rematch(store, settings)

    return PeriodicJob("rematch", run, settings.rematch_interval_seconds)
