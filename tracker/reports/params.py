"""The parameters of every report: dates, attribution model, lookbacks, and the click
filters (country, targeting rule or variant, one link), read from a query string once.

Moved out of ``tracker/reports/build.py`` (issue 17) to make room for the filters; ``build``
re-exports ``Params`` and ``params_from`` for its callers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from tracker.attribution.credit import MODELS
from tracker.core import clock
from tracker.core.errors import BadRequest
from tracker.settings import Settings

#: Dimensions read from the click that reached the order (a code-only order has none).
CLICK_DIMENSIONS = ("country", "variant")
#: ``?country=none`` / ``?variant=none``: clicks (and credit) with no country or variant.
NONE = "none"
_COUNTRY = re.compile(r"^[A-Za-z]{2}$")
_VARIANT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,39}$")
_LINK_ID = re.compile(r"^ln_[A-Za-z0-9]{1,40}$")
#: The longest range a report covers, start to end.
MAX_SPAN_DAYS = 3660
#: The days a report may start or end on: the stored range but its last day, as a report
#: reads up to the midnight after its end.
LAST_DAY = clock.MAX_DATE - timedelta(days=1)
RANGE_TEXT = f"between {clock.MIN_DATE.isoformat()} and {LAST_DAY.isoformat()} (UTC)"


@dataclass(frozen=True)
class Params:
    start: date
    end: date  # inclusive
    model: str
    half_life_days: float
    click_days: int
    fingerprint_days: int
    currency: str
    rates: dict[str, float] = field(default_factory=dict)
    tiers: tuple[tuple[str, int], ...] = ()
    policy: str = "code"  # TRACKER_CONFLICT_POLICY, for the winner fallback
    #: click filters: column -> value ("" for none); clicks and credit keep only matches
    where: tuple[tuple[str, str], ...] = ()
    min_conversions: int = 300  # TRACKER_DATA_DRIVEN_MIN_CONVERSIONS
    survey_credit: str = "off"  # TRACKER_SURVEY_CREDIT
    survey_min_score: int = 85

    @property
    def start_at(self) -> str:
        return f"{self.start.isoformat()}T00:00:00.000000Z"

    @property
    def end_at(self) -> str:
        return f"{(self.end + timedelta(days=1)).isoformat()}T00:00:00.000000Z"

    @property
    def click_span(self) -> tuple[str, str, tuple[tuple[str, int], ...]]:
        """(start, end, tiers): what every click-facts read takes first."""
        return self.start_at, self.end_at, self.tiers

    def keeps(self, touch: Any) -> bool:
        """Whether a credit (or touch row) passes the click filters."""
        for column, value in self.where:
            got = touch.get(column) if isinstance(touch, dict) else getattr(touch, column)
            if (got or "") != value:
                return False
        return True


def filters_from(query: dict[str, str]) -> tuple[tuple[str, str], ...]:
    out = []
    link = (query.get("link_id") or "").strip()
    if link:  # one link's clicks and credit: its variants side by side
        if not _LINK_ID.match(link):
            raise BadRequest("link_id: a link id (ln_...)")
        out.append(("link_id", link))
    for column, pattern in (("country", _COUNTRY), ("variant", _VARIANT)):
        raw = (query.get(column) or "").strip()
        if not raw:
            continue
        if raw.lower() == NONE:
            out.append((column, ""))
        elif pattern.match(raw):
            out.append((column, raw.upper() if column == "country" else raw))
        else:
            what = "two letters (ISO 3166)" if column == "country" else "a rule or variant name"
            raise BadRequest(f"{column}: {what}, or 'none'")
    return tuple(out)


def query_date(query: dict[str, str], name: str) -> date | None:
    raw = (query.get(name) or "").strip()
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        raise BadRequest(f"{name}: expected a date as YYYY-MM-DD, got {raw[:32]!r}") from None
    if not clock.MIN_DATE <= day <= LAST_DAY:  # before any arithmetic on it
        raise BadRequest(f"{name}: must be {RANGE_TEXT}, got {raw[:32]!r}")
    return day


def _number(query: dict[str, str], name: str, kind: type[Any], default: Any) -> Any:
    raw = (query.get(name) or "").strip()
    if not raw:
        return default
    try:
        return kind(raw)
    except (ValueError, OverflowError):
        what = "a whole number" if kind is int else "a number"
        raise BadRequest(f"{name}: expected {what} of days, got {raw[:32]!r}") from None


def start_within(first: date, end: date) -> date:
    """A start derived from the data (a campaign's first day) moved into the range a report
    ending on ``end`` accepts: at most ``MAX_SPAN_DAYS`` before it, never after it."""
    return min(max(first, end - timedelta(days=MAX_SPAN_DAYS), clock.MIN_DATE), end)


def params_from(query: dict[str, str], settings: Settings) -> Params:
    """Query string -> Params, with the settings' defaults; BadRequest with a reason."""
    today = datetime.now(UTC).date()
    end = query_date(query, "end") or today
    start = query_date(query, "start") or end - timedelta(days=29)
    half = _number(query, "half_life_days", float, settings.half_life_days)
    click_days = _number(query, "click_days", int, settings.lookback_click_days)
    fp_days = _number(query, "fingerprint_days", int, settings.lookback_fingerprint_days)
    model = query.get("model") or settings.attribution_model
    if model not in MODELS:
        raise BadRequest(f"model: one of {', '.join(MODELS)}")
    if start < clock.MIN_DATE or end > LAST_DAY:
        raise BadRequest(f"start and end must be {RANGE_TEXT}")
    if start > end or (end - start).days > MAX_SPAN_DAYS:
        raise BadRequest("start must be on or before end, at most 10 years apart")
    if not (0 < half <= 365 and 0 <= click_days <= 365 and 0 <= fp_days <= 365):
        raise BadRequest("half_life_days 1..365, click_days and fingerprint_days 0..365")
    return Params(
        start,
        end,
        model,
        half,
        click_days,
        fp_days,
        settings.reporting_currency,
        settings.fx_rates,
        settings.tiers,
        settings.conflict_policy,
        filters_from(query),
        settings.data_driven_min_conversions,
        settings.survey_credit,
        settings.survey_min_score,
    )
