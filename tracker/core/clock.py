"""UTC time as the store keeps it: fixed-width ISO-8601 text that sorts as it compares."""

from __future__ import annotations

import time
from datetime import UTC, datetime

_FMT = "%Y-%m-%dT%H:%M:%S.%fZ"


def now() -> float:
    return time.time()


def iso(ts: float) -> str:
    """Epoch seconds -> '2026-11-23T10:36:52.123456Z'."""
    return datetime.fromtimestamp(ts, UTC).strftime(_FMT)


def now_iso() -> str:
    return iso(time.time())


def parse(value: str) -> datetime:
    """Any ISO-8601 timestamp (offset or Z; naive means UTC) -> aware UTC datetime."""
    dt = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def to_iso(value: str | datetime) -> str:
    """Normalise any ISO-8601 input to the stored form."""
    if isinstance(value, str):
        dt = parse(value)
    else:
        dt = (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
    return dt.strftime(_FMT)


def epoch(value: str) -> float:
    return parse(value).timestamp()
