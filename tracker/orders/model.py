"""The normalised order every postback source produces (money parsing: ``tracker.core.money``)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tracker.core import clock
from tracker.core.errors import Unprocessable
from tracker.core.money import MAX_MINOR

#: How far ahead of the server's clock an order's times may be: a time zone sent as UTC is
#: hours off; a time days ahead is a clock or template gone wrong, and stored it would make
#: every later update of the order (a cancellation) look out of date, so it is refused.
FUTURE_TOLERANCE = timedelta(days=1)


def timestamp(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise Unprocessable(f"{what}: missing timestamp")
    try:
        return clock.to_iso(value)
    except clock.TimeOutOfRange as exc:
        raise Unprocessable(f"{what}: {value!r}: {exc}") from None
    except (ValueError, OverflowError):
        raise Unprocessable(f"{what}: {value!r} is not an ISO-8601 timestamp") from None


def query_param(url: str | None, name: str) -> str | None:
    """A query parameter from a URL or a bare path ('/products/x?cl_cid=...')."""
    if not url or "?" not in url:
        return None
    try:
        values = parse_qs(urlsplit(url).query).get(name)
    except ValueError:
        return None
    return values[0][:64] if values else None


@dataclass
class Refund:
    external_id: str
    amount_minor: int
    at: str


@dataclass
class Order:
    external_id: str
    placed_at: str
    updated_at: str
    currency: str
    total_minor: int
    status: str  # pending | paid | cancelled | refunded | partially_refunded | failed
    order_number: str | None = None
    subtotal_minor: int = 0
    discount_minor: int = 0
    current_total_minor: int | None = None
    financial_status: str | None = None
    cancelled_at: str | None = None
    refunds: list[Refund] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)
    click_ids: list[str] = field(default_factory=list)
    ip: str | None = None
    user_agent: str | None = None
    accept_language: str | None = None
    landing_site: str | None = None
    referring_site: str | None = None
    customer_email: str | None = None
    new_customer: bool | None = None
    survey_answer: str | None = None  # "How did you hear about us?" (``survey_text``)

    def __post_init__(self) -> None:
        """The one check every source's order passes, whatever the platform sent: no
        negative money, and refunds adding up to at most the money cap; NUL (valid JSON,
        but PostgreSQL text cannot hold it) refused in the order's identity (order and
        refund ids, which must match exactly on every replay) and dropped from every other
        text, here rather than in each source."""
        ids = [str(self.external_id), *(r.external_id for r in self.refunds)]
        if any("\x00" in i for i in ids):
            raise Unprocessable("order: ids cannot contain NUL characters")
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, str) and "\x00" in value:
                setattr(self, f.name, value.replace("\x00", ""))
        self.external_id = str(self.external_id)[:128]
        if not self.external_id.strip():
            raise Unprocessable("order id: required")
        for name in ("total_minor", "subtotal_minor", "discount_minor", "current_total_minor"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise Unprocessable(f"{name.removesuffix('_minor')}: must not be negative")
        for r in self.refunds:
            if r.amount_minor < 0:
                raise Unprocessable("refund amount: must not be negative")
        if sum(r.amount_minor for r in self.refunds) > MAX_MINOR:
            raise Unprocessable(f"refunds: add up to more than {MAX_MINOR} minor units")
        limit = clock.shift(clock.now_iso(), FUTURE_TOLERANCE)
        for what, at in (("placed", self.placed_at), ("updated", self.updated_at)):
            if at > limit:
                raise Unprocessable(f"order {what} at {at}: more than a day in the future")
        self.codes = _clean(self.codes)
        self.click_ids = _clean(self.click_ids)
        self.survey_answer = survey_text(self.survey_answer)


_EMAIL = re.compile(r"\S+@\S+\.\S+")
_DIGITS = re.compile(r"\+?\d[\d ()./-]{5,}\d")
#: Survey questions' keys as shops name them (note attributes, meta keys, fields), compared
#: lower-cased with everything but letters and digits removed ("How did you hear about us?",
#: "_hdyhau", "heard-from" all match).
SURVEY_KEYS = frozenset(
    {
        "howdidyouhearaboutus",
        "wheredidyouhearaboutus",
        "howdidyoufindus",
        "hdyhau",
        "heardfrom",
        "referralsource",
        "attributionsurvey",
        "surveyanswer",
        "survey",
    }
)


def is_survey_key(key: str | None) -> bool:
    """Is a note attribute, meta key or field one of the survey's names?"""
    if not key:
        return False
    return "".join(ch for ch in key.lower() if ch.isalnum()) in SURVEY_KEYS


def survey_text(value: str | None) -> str | None:
    """A survey answer as stored: e-mail addresses and phone-like digit runs removed, spaces
    collapsed, at most 120 characters; None when nothing is left."""
    if not value:
        return None
    text = _DIGITS.sub(" ", _EMAIL.sub(" ", value))
    text = " ".join(text.split())[:120]
    return text or None


def _clean(values: list[str]) -> list[str]:
    """Stripped, NUL-free, at most 64 characters, no blanks, no repeats, order kept."""
    out = (v.replace("\x00", "").strip()[:64] for v in values if v)
    return list(dict.fromkeys(v for v in out if v))


@dataclass
class Delivery:
    """How a payload reached us: its idempotency keys, topic and raw body."""

    source: str
    keys: list[str]
    topic: str
    body: str | None
    #: True once ``tracker.orders.scrub`` has removed personal data from ``body``.
    scrubbed: bool = False
    #: ``body`` as the source parsed it (JSON), so the scrub does not parse it again.
    doc: Any = field(default=None, repr=False, compare=False)
