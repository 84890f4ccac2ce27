"""The normalised order every postback adapter produces, and money parsing.

Money is integer minor units with an ISO 4217 currency; a decimal string from a shop
("598.94") is converted exactly (Decimal, never float), with the currency's own exponent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tracker.core import clock
from tracker.core.errors import Unprocessable

#: Currencies whose minor unit is not 1/100 (ISO 4217); everything else has two decimals.
_EXPONENTS = {
    **dict.fromkeys(
        [
            "BIF",
            "CLP",
            "DJF",
            "GNF",
            "ISK",
            "JPY",
            "KMF",
            "KRW",
            "PYG",
            "RWF",
            "UGX",
            "UYI",
            "VND",
            "VUV",
            "XAF",
            "XOF",
            "XPF",
        ],
        0,
    ),
    **dict.fromkeys(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"], 3),
}
_CURRENCY = re.compile(r"^[A-Z]{3}$")
MAX_MINOR = 10**15


def currency_code(value: Any) -> str:
    code = str(value or "").strip().upper()
    if not _CURRENCY.match(code):
        raise Unprocessable(f"currency: {value!r} is not an ISO 4217 code")
    return code


def to_minor(amount: Any, currency: str) -> int:
    """'598.94' USD -> 59894; '1500' JPY -> 1500. Rejects NaN, inf and absurd values."""
    if amount is None or amount == "":
        return 0
    if isinstance(amount, bool):
        raise Unprocessable(f"amount: {amount!r} is not a number")
    try:
        value = Decimal(str(amount).strip())
    except InvalidOperation:
        raise Unprocessable(f"amount: {amount!r} is not a number") from None
    if not value.is_finite():
        raise Unprocessable(f"amount: {amount!r} is not a number")
    exp = _EXPONENTS.get(currency, 2)
    minor = int((value * (10**exp)).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))
    if abs(minor) > MAX_MINOR:
        raise Unprocessable(f"amount: {amount!r} is out of range")
    return minor


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
