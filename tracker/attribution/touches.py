"""Touches: which signals on an order point at which creator, decided here as pure rules.

The store only reads candidate rows (``TouchReader``) and writes the result; every decision
lives in this module: the lookback windows (click id, fingerprint), the future-skew guard
(a click stamped slightly after the order still counts), and the fingerprint fallback.
The report-time lookback filter (``within_lookback``) is the same rule, so a report with a
narrower lookback drops exactly the touches ingest would not have found.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from tracker.attribution.rules import Touch
from tracker.core import clock

FUTURE_SKEW = timedelta(hours=1)  # a click stamped slightly after the order still counts
MAX_FINGERPRINT_TOUCHES = 10

Row = dict[str, Any]


@dataclass(frozen=True)
class Matching:
    """How touches are found: lookback windows and the conflict policy."""

    click_days: int = 30
    fingerprint_days: int = 7
    policy: str = "code"


@dataclass(frozen=True)
class OrderSignals:
    """What an order carries that can point at a creator."""

    placed_at: str
    codes: tuple[str, ...] = ()
    click_ids: tuple[str, ...] = ()
    fingerprint: str | None = None


class TouchReader(Protocol):
    """Reads the store does for the rules (inside the delivery's transaction)."""

    async def code(self, code_key: str) -> Row | None:
        """creator_id, campaign_id, status of a code, by its lower-cased key."""

    async def click(self, click_id: str) -> Row | None:
        """id, at, link_id, creator_id, campaign_id of a click."""

    async def fingerprint_clicks(
        self, fingerprint: str, earliest: str, latest: str, limit: int
    ) -> list[Row]:
        """Human clicks with a creator and this fingerprint in [earliest, latest], latest first."""


def _shift(at: str, delta: timedelta) -> str:
    return clock.to_iso(clock.parse(at) + delta)


def earliest(placed_at: str, days: int) -> str:
    """The oldest click time a lookback of ``days`` accepts for an order placed at ``placed_at``."""
    return _shift(placed_at, -timedelta(days=days))


def latest(placed_at: str) -> str:
    """The newest click time accepted: the order time plus the future-skew guard."""
    return _shift(placed_at, FUTURE_SKEW)


def within_lookback(
    method: str, touch_at: str, placed_at: str, click_days: int, fingerprint_days: int
) -> bool:
    """Does a touch of ``method`` at ``touch_at`` fall inside the lookback? Codes always do."""
    if method == "code":
        return True
    days = click_days if method == "click" else fingerprint_days
    return earliest(placed_at, days) <= touch_at <= latest(placed_at)


def code_touch(code: str, row: Row | None, placed_at: str) -> Touch:
    if row is None:
        return Touch("code", placed_at, code=code, matched=False, note="unknown code")
    note = "code disabled" if row["status"] != "active" else ""
    return Touch(
        "code", placed_at, row["creator_id"], None, row["campaign_id"], code=code, note=note
    )


def click_touch(click_id: str, row: Row | None, placed_at: str, m: Matching) -> Touch:
    if row is None:
        return Touch("click", placed_at, click_id=click_id, matched=False, note="unknown click id")
    inside = within_lookback("click", row["at"], placed_at, m.click_days, m.fingerprint_days)
    if not inside:
        matched, note = False, f"click outside the {m.click_days}-day lookback"
    else:
        matched = row["creator_id"] is not None
        note = "" if matched else "link has no creator"
    return Touch(
        "click",
        row["at"],
        row["creator_id"],
        row["link_id"],
        row["campaign_id"],
        click_id=click_id,
        matched=matched,
        note=note,
    )


def fingerprint_touches(rows: list[Row]) -> list[Touch]:
    """Candidate clicks (latest first) -> fingerprint touches, oldest first."""
    return [
        Touch(
            "fingerprint",
            r["at"],
            r["creator_id"],
            r["link_id"],
            r["campaign_id"],
            click_id=r["id"],
            note="fingerprint match",
        )
        for r in reversed(rows)
    ]


async def find(o: OrderSignals, m: Matching, read: TouchReader) -> list[Touch]:
    """Every touch of an order: its codes, its click ids, and (only when neither matched)
    the fingerprint fallback to human clicks within the fingerprint lookback."""
    touches = [code_touch(c, await read.code(c.lower()), o.placed_at) for c in o.codes]
    for click_id in o.click_ids:
        touches.append(click_touch(click_id, await read.click(click_id), o.placed_at, m))
    if o.fingerprint and not any(t.matched for t in touches):
        rows = await read.fingerprint_clicks(
            o.fingerprint,
            earliest(o.placed_at, m.fingerprint_days),
            latest(o.placed_at),
            MAX_FINGERPRINT_TOUCHES,
        )
        touches += fingerprint_touches(rows)
    return touches
