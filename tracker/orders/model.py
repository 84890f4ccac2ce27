"""The normalised order every postback source produces (money parsing: ``tracker.core.money``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tracker.core import clock
from tracker.core.errors import Unprocessable


def timestamp(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise Unprocessable(f"{what}: missing timestamp")
    try:
        return clock.to_iso(value)
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

    def __post_init__(self) -> None:
        self.external_id = str(self.external_id)[:128]
        self.codes = list(dict.fromkeys(c.strip()[:64] for c in self.codes if c and c.strip()))
        self.click_ids = list(
            dict.fromkeys(c.strip()[:64] for c in self.click_ids if c and c.strip())
        )


@dataclass
class Delivery:
    """How a payload reached us: its idempotency keys, topic and raw body."""

    source: str
    keys: list[str]
    topic: str
    body: str
