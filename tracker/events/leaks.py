"""``code.leak_flagged``: publish a creator whose codes the code-leak report flags.

The report (``tracker.reports.portfolio.code_leaks``, last 30 days) is computed at read
time, so a periodic run (``commission_job``) publishes each flagged creator at most once per
``REPEAT_DAYS``: the event is the alert, the report the detail.
"""

from __future__ import annotations

from typing import Any

from tracker.core import clock
from tracker.events import payloads
from tracker.reports import portfolio
from tracker.reports.build import params_from
from tracker.settings import Settings

REPEAT_DAYS = 7


async def publish_leaks(store: Any, settings: Settings, *, now: float | None = None) -> int:
    """Append a ``code.leak_flagged`` event per newly flagged creator; return how many."""
    now = clock.now() if now is None else now
    p = params_from({}, settings)
    since = clock.iso(now - REPEAT_DAYS * 86400)
    published = 0
    for row in await portfolio.code_leaks(store, p):
        if not row["flagged"]:
            continue
        data = {
            "creator_id": row["creator_id"],
            "handle": row["label"],
            "codes": row["codes"],
            "redemptions": row["redemptions"],
            "without_click": row["without_click"],
            "without_click_pct": row["without_click_pct"],
            "from_coupon_sites": row["from_coupon_sites"],
            "period": {"start": p.start.isoformat(), "end": p.end.isoformat()},
        }
        subject = f"leak:{row['creator_id']}"
        if await store.append_event_once(payloads.CODE_LEAK_FLAGGED, subject, data, since):
            published += 1
    return published
