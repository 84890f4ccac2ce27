"""UTC time as the store keeps it: fixed-width ISO-8601 text that sorts as it compares.

The one rule for time values at every boundary (API, CLI, panel, postbacks): a time must
fall in ``[1970-01-01T00:00:00Z, 9999-12-31T23:59:59.999999Z]`` *after* conversion to UTC.
Inside that range the stored text is always 27 characters (four-digit year), so it sorts
and parses back; outside it, ``to_iso``/``parse`` raise ``TimeOutOfRange`` (a
``ValueError``) and every boundary answers 422. Arithmetic on stored times (lookback
windows, horizons) goes through ``shift``, which saturates at the ends of the range instead
of overflowing.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta

_FMT = "%Y-%m-%dT%H:%M:%S.%fZ"
#: The range every stored time must fall in (UTC). Year 1970: nothing this product counts
#: happened before it, and epoch seconds stay non-negative; year 9999: Python's datetime.
MIN = datetime(1970, 1, 1, tzinfo=UTC)
MAX = datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
MIN_DATE = MIN.date()
MAX_DATE = MAX.date()
RANGE_TEXT = "between 1970-01-01 and 9999-12-31 (UTC)"


class TimeOutOfRange(ValueError):
    """A time that parses but falls outside ``MIN``..``MAX`` once in UTC."""


def now() -> float:
    return time.time()


def iso(ts: float) -> str:
    """Epoch seconds -> '2026-11-23T10:36:52.123456Z' (clamped to the stored range)."""
    try:
        dt = datetime.fromtimestamp(ts, UTC)
    except (OverflowError, OSError, ValueError):
        dt = MIN if ts < 0 else MAX
    return _fmt(min(max(dt, MIN), MAX))


def now_iso() -> str:
    return iso(time.time())


def _fmt(dt: datetime) -> str:
    # The same text as strftime(_FMT) for an aware UTC time in range (four-digit years),
    # several times faster: reports shift every order's time once or twice (issue 19).
    return f"{dt.isoformat(timespec='microseconds')[:26]}Z"


def in_range(dt: datetime) -> datetime:
    """Aware or naive (naive means UTC) -> aware UTC, or ``TimeOutOfRange``."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    try:
        dt = dt.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:59:59-01:00 is year 10000 in UTC
        raise TimeOutOfRange(f"time must be {RANGE_TEXT}") from None
    if not MIN <= dt <= MAX:
        raise TimeOutOfRange(f"time must be {RANGE_TEXT}")
    return dt


def check_date(d: date) -> date:
    """The date form of the same rule (campaign dates, cost dates)."""
    if isinstance(d, datetime):
        return in_range(d)
    if not MIN_DATE <= d <= MAX_DATE:
        raise TimeOutOfRange(f"date must be {RANGE_TEXT}")
    return d


def parse(value: str) -> datetime:
    """Any ISO-8601 timestamp (offset or Z; naive means UTC) -> aware UTC datetime in range.

    Raises ``ValueError`` (``TimeOutOfRange`` for a valid time outside the range)."""
    try:
        dt = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except OverflowError:
        raise TimeOutOfRange(f"time must be {RANGE_TEXT}") from None
    return in_range(dt)


def to_iso(value: str | datetime) -> str:
    """Normalise any ISO-8601 input to the stored form (in range, or ``ValueError``)."""
    return _fmt(parse(value) if isinstance(value, str) else in_range(value))


def shift(value: str | datetime, delta: timedelta) -> str:
    """``value + delta`` in the stored form, saturating at ``MIN``/``MAX`` (never overflows)."""
    dt = parse(value) if isinstance(value, str) else in_range(value)
    try:
        out = dt + delta
    except OverflowError:
        out = MAX if delta > timedelta(0) else MIN
    return _fmt(min(max(out, MIN), MAX))


def epoch(value: str) -> float:
    return parse(value).timestamp()
