"""Touches: which signals on an order point at which creator, decided here as pure rules.

The store only reads candidate rows (``TouchReader``) and writes the result; every decision
lives in this module: the lookback windows (click id, fingerprint), the future-skew guard
(a click stamped slightly after the order still counts), and the fingerprint fallback.
The report-time lookback filter (``within_lookback``) is the same rule, so a report with a
narrower lookback drops exactly the touches ingest would not have found.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from tracker.attribution.rules import Touch, best_of
from tracker.core import clock

if TYPE_CHECKING:
    from tracker.settings import Settings

_MIN_TEXT = "1970-01-01T00:00:00.000000Z"  # clock.MIN, stored form
FUTURE_SKEW = timedelta(hours=1)  # a click stamped slightly after the order still counts
_SKEW_TEXT = "1 hour"
MAX_FINGERPRINT_TOUCHES = 10  # kept as touches (the latest ones)
MAX_CANDIDATES = 50  # read, to count the distinct addresses behind one fingerprint

Row = dict[str, Any]


@dataclass(frozen=True)
class Matching:
    """How touches are found: lookback windows, the conflict policy, and the minimum
    confidence a fingerprint touch needs to win credit."""

    click_days: int = 30
    fingerprint_days: int = 7
    policy: str = "code"
    min_confidence: float = 0.3

    @classmethod
    def from_settings(cls, settings: Settings) -> Matching:
        return cls(
            settings.lookback_click_days,
            settings.lookback_fingerprint_days,
            settings.conflict_policy,
            settings.fingerprint_min_confidence,
        )


@dataclass(frozen=True)
class Fingerprint:
    """An order's fingerprint as ``tracker.clicks.capture`` computes a click's (see there)."""

    key: str
    ip_tag: str | None = None
    lang_tag: str | None = None
    legacy: str | None = None


@dataclass(frozen=True)
class OrderSignals:
    """What an order carries that can point at a creator. ``fingerprint`` is the keyed MAC of
    the truncated address and user agent; ``ip_tag`` and ``lang_tag`` are the 16-bit keyed
    tags of the exact address and the accept-language (None when the source sent none);
    ``legacy_fingerprint`` matches clicks stored before 0.4 (language inside the MAC)."""

    placed_at: str
    codes: tuple[str, ...] = ()
    click_ids: tuple[str, ...] = ()
    fingerprint: str | None = None
    ip_tag: str | None = None
    lang_tag: str | None = None
    legacy_fingerprint: str | None = None

    @classmethod
    def of(
        cls, placed_at: str, codes: list[str], click_ids: list[str], fp: Fingerprint | None
    ) -> OrderSignals:
        if fp is None:
            return cls(placed_at, tuple(codes), tuple(click_ids))
        return cls(
            placed_at, tuple(codes), tuple(click_ids), fp.key, fp.ip_tag, fp.lang_tag, fp.legacy
        )


@dataclass(frozen=True)
class Found:
    """The touches of an order, and the fingerprint check behind the precision estimate:
    for an order whose click id matched, which creator the fingerprint alone would have
    picked ('same' or 'other', None when it picked nobody) and with what confidence."""

    touches: list[Touch]
    fp_check: str | None = None
    fp_check_confidence: float | None = None


class TouchReader(Protocol):
    """Reads the store does for the rules (inside the delivery's transaction)."""

    async def codes(self, code_keys: list[str]) -> dict[str, Row]:
        """creator_id, campaign_id, status of each known code, by its lower-cased key."""

    async def click(self, click_id: str) -> Row | None:
        """id, at, link_id, creator_id, campaign_id of a click."""

    async def fingerprint_clicks(
        self, fingerprints: tuple[str, ...], earliest: str, latest: str, limit: int
    ) -> list[Row]:
        """Human clicks with a creator and one of these fingerprints in [earliest, latest],
        latest first: id, at, link_id, creator_id, campaign_id, fingerprint, ip_tag, lang_tag."""


def _shift(at: str, delta: timedelta) -> str:
    return clock.shift(at, delta)  # saturates at the ends of the time range


def earliest(placed_at: str, days: int) -> str:
    """The oldest click time a lookback of ``days`` accepts for an order placed at ``placed_at``.

    Whole days back from a stored time (27 characters, UTC) move only its date: shifted on
    the date alone, several times faster than parsing and formatting the whole time (the
    reports check every touch of every order); anything else goes through ``clock.shift``."""
    if len(placed_at) == 27 and placed_at[26] == "Z":
        try:
            day = date.fromisoformat(placed_at[:10]) - timedelta(days=days)
        except (ValueError, OverflowError):
            return _shift(placed_at, -timedelta(days=days))
        return day.isoformat() + placed_at[10:] if day >= clock.MIN_DATE else _MIN_TEXT
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
    if touch_at > placed_at and touch_at > latest(placed_at):  # the skew guard, seldom needed
        return False
    return earliest(placed_at, days) <= touch_at


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
    if not inside and row["at"] > latest(placed_at):
        matched, note = False, f"click made more than {_SKEW_TEXT} after the order"
    elif not inside:
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


#: Confidence of a fingerprint touch by what matched, before crowding: the exact address
#: (its tag) or only the /24 (/64) block, with or without the same accept-language.
CONFIDENCE = {
    (True, True): 0.95,
    (True, False): 0.85,
    (False, True): 0.6,
    (False, False): 0.45,
}


def confidence(exact: bool, same_language: bool, addresses_in_block: int) -> float:
    """How much a fingerprint touch is trusted, 0..1. A block match is divided by the number
    of distinct addresses that clicked with this fingerprint in the window: a carrier /24
    shared by several phones with one user agent (every iPhone on an iOS version sends the
    same one) makes a block match that much less likely to be the same person."""
    base = CONFIDENCE[(exact, same_language)]
    if exact:
        return base
    return round(base / max(1, addresses_in_block), 4)


def fingerprint_touches(o: OrderSignals, rows: list[Row], min_confidence: float) -> list[Touch]:
    """Candidate clicks (latest first) -> fingerprint touches, oldest first.

    A click whose language tag differs from the order's is another browser set-up, not a
    match. Exact-address matches are preferred: when any exists, only they are kept. Every
    touch carries its confidence; one below ``min_confidence`` is kept unmatched (no credit).
    """
    usable: list[tuple[Row, bool, bool]] = []
    for r in rows:
        legacy = o.legacy_fingerprint is not None and r["fingerprint"] == o.legacy_fingerprint
        if not legacy and o.lang_tag and r["lang_tag"] and r["lang_tag"] != o.lang_tag:
            continue
        same_language = legacy or (o.lang_tag is not None and r["lang_tag"] == o.lang_tag)
        exact = o.ip_tag is not None and r["ip_tag"] == o.ip_tag
        usable.append((r, exact, same_language))
    exact_only = [u for u in usable if u[1]]
    chosen = exact_only or usable
    crowd = len({r["ip_tag"] for r, _, _ in usable if r["ip_tag"]})
    out = []
    for r, exact, same_language in reversed(chosen):
        conf = confidence(exact, same_language, crowd)
        what = "exact address" if exact else "same /24 block"
        what += ", same language" if same_language else ""
        ok = conf >= min_confidence
        note = f"fingerprint match ({what}), confidence {conf:.2f}"
        if not ok:
            note += f" below the minimum {min_confidence:.2f}"
        out.append(
            Touch(
                "fingerprint",
                r["at"],
                r["creator_id"],
                r["link_id"],
                r["campaign_id"],
                click_id=r["id"],
                matched=ok,
                note=note,
                confidence=conf,
            )
        )
    return out


async def find(o: OrderSignals, m: Matching, read: TouchReader) -> Found:
    """Every touch of an order: its codes, its click ids, and (only when neither matched)
    the fingerprint fallback to human clicks within the fingerprint lookback.

    When a click id matched and the order has a fingerprint, the fingerprint is looked up
    anyway (not as a touch) to record whether it alone would have picked the same creator.
    """
    known = await read.codes(sorted({c.lower() for c in o.codes})) if o.codes else {}
    touches = [code_touch(c, known.get(c.lower()), o.placed_at) for c in o.codes]
    for click_id in o.click_ids:
        touches.append(click_touch(click_id, await read.click(click_id), o.placed_at, m))
    if not o.fingerprint:
        return Found(touches)
    click_won = [t for t in touches if t.method == "click" and t.matched]
    if any(t.matched for t in touches) and not click_won:
        return Found(touches)
    keys = tuple(k for k in (o.fingerprint, o.legacy_fingerprint) if k)
    rows = await read.fingerprint_clicks(
        keys, earliest(o.placed_at, m.fingerprint_days), latest(o.placed_at), MAX_CANDIDATES
    )
    by_fingerprint = fingerprint_touches(o, rows, m.min_confidence)
    if not click_won:
        return Found(touches + by_fingerprint[-MAX_FINGERPRINT_TOUCHES:])
    picked = [t for t in by_fingerprint if t.matched]
    if not picked:
        return Found(touches)
    pick = best_of(picked, m.policy, lambda t: (t.method, t.at))
    truth = best_of(click_won, m.policy, lambda t: (t.method, t.at))
    same = "same" if pick.creator_id == truth.creator_id else "other"
    return Found(touches, same, pick.confidence)
