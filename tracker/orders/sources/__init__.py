"""Postback adapters: one per source, each turning a signed request into one event.

An adapter has two pure functions: ``verify(body, headers, secrets)`` raises ``Unauthorized``
unless a signature matches one of the shop's secrets (current or previous, for rotation),
compared in constant time; ``parse(body, headers, click_param)`` returns an ``Event``
or raises ``BadRequest``/``Unprocessable`` with a short reason. Nothing here touches the store.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tracker.core import jsondoc
from tracker.core.errors import BadRequest, Unauthorized, Unprocessable
from tracker.core.money import currency_code, to_minor
from tracker.orders.model import Delivery, Order, Refund, timestamp


@dataclass
class OrderEvent:
    order: Order
    delivery: Delivery


@dataclass
class RefundEvent:
    order_external_id: str
    refunds: list[Refund]
    currency: str | None
    delivery: Delivery


@dataclass
class PrivacyEvent:
    kind: str  # data_request | customer_redact | shop_redact
    delivery: Delivery
    customer_email: str | None = None
    order_external_ids: list[str] = field(default_factory=list)


@dataclass
class CancelEvent:
    """An order deleted at the shop (WooCommerce order.deleted carries only the id)."""

    order_external_id: str
    delivery: Delivery


@dataclass
class IgnoredEvent:
    reason: str


Event = OrderEvent | RefundEvent | PrivacyEvent | CancelEvent | IgnoredEvent


def verify_base64_hmac(body: bytes, signature: str | None, secrets: list[str], header: str) -> None:
    """Shopify and WooCommerce: base64(HMAC-SHA256(secret, raw body)) in one header."""
    if not signature:
        raise Unauthorized(f"missing {header} signature")
    given = signature.strip().encode("ascii", "replace")
    for secret in secrets:
        digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
        if hmac.compare_digest(base64.b64encode(digest), given):
            return
    raise Unauthorized(f"{header} signature does not match")


def body_key(body: bytes) -> str:
    """A delivery key for senders that give none: identical bodies are the same delivery."""
    return "sha256:" + hashlib.sha256(body).hexdigest()


def load_json(body: bytes) -> Any:
    """The bounded JSON rule of ``tracker.core.jsondoc`` (orjson, depth capped: 400)."""
    return jsondoc.loads(body)


def obj(data: Any, what: str = "body") -> dict[str, Any]:
    if not isinstance(data, dict):
        raise BadRequest(f"{what}: expected a JSON object")
    return data


def text(value: Any, limit: int = 512) -> str | None:
    """A JSON string (or a number, as its digits), stripped and cropped; anything else
    (null, true, a list, an object) as None."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    out = str(value).strip()
    return out[:limit] or None


#: The longest platform id (order, refund, customer) kept: a longer one is refused, never
#: cut (two long ids sharing their first 128 characters would become one order).
MAX_ID = 128


def checked_id(value: str, name: str) -> str:
    if len(value) > MAX_ID:
        raise Unprocessable(f"{name}: an id of at most {MAX_ID} characters")
    return value


def items(value: Any) -> list[Any]:
    """A JSON array as a list; anything else (a hostile object, a string) as empty."""
    return value if isinstance(value, list) else []


class Fields:
    """The one tolerant reader of a JSON object a shop sent: every typed field of every
    source is read through it, so a number, list, object or null where another type is
    expected is either ignored (text, lists, objects) or a 422 naming the field (ids,
    amounts, timestamps), never a TypeError and a 500 that the shop would retry for days.

    ``where`` prefixes field names in error messages (``refunds.0.amount: ...``).
    """

    __slots__ = ("data", "where")

    def __init__(self, data: Any, where: str = "") -> None:
        self.data: dict[str, Any] = data if isinstance(data, dict) else {}
        self.where = where

    def given(self, name: str) -> bool:
        """The field is present and neither null nor an empty string."""
        return self.data.get(name) not in (None, "")

    def text(self, name: str, limit: int = 512) -> str | None:
        return text(self.data.get(name), limit)

    def first_text(self, *names: str, limit: int = 512) -> str | None:
        """The first of ``names`` that holds text (Shopify's created_at or processed_at...)."""
        for name in names:
            if (value := self.text(name, limit)) is not None:
                return value
        return None

    def ident(self, name: str, required: bool = True) -> str | None:
        """A platform id: a JSON string or integer, as text (``checked_id``)."""
        value = self.data.get(name)
        if isinstance(value, str | int) and not isinstance(value, bool) and str(value).strip():
            return checked_id(str(value).strip(), f"{self.where}{name}")
        if value is None and not required:
            return None
        raise Unprocessable(f"{self.where}{name}: expected an id (a string or an integer)")

    def integer(self, name: str) -> int | None:
        value = self.data.get(name)
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    def obj(self, name: str) -> Fields:
        """A nested object (anything else reads as an empty one)."""
        return Fields(self.data.get(name), f"{self.where}{name}.")

    def objects(self, name: str) -> list[Fields]:
        """The objects of a JSON array (a non-array, and non-object items, are ignored)."""
        return [
            Fields(item, f"{self.where}{name}.{i}.")
            for i, item in enumerate(items(self.data.get(name)))
            if isinstance(item, dict)
        ]

    def values(self, name: str) -> list[Any]:
        return items(self.data.get(name))

    def money(self, name: str, currency: str) -> int | None:
        """Minor units of an amount given as a decimal string or a JSON number; None when
        absent; 422 for anything else (a list, an object, true, "12 EUR")."""
        value = self.data.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise Unprocessable(f"{self.where}{name}: expected an amount")
        try:
            return to_minor(value, currency)
        except Unprocessable as exc:
            raise Unprocessable(
                f"{self.where}{name}: {exc.reason.removeprefix('amount: ')}"
            ) from None

    def timestamp(self, *names: str) -> str | None:
        """The first of ``names`` given, as a UTC timestamp; None when none is; 422 when it
        is not an ISO-8601 string."""
        for name in names:
            if self.given(name):
                return timestamp(self.data[name], f"{self.where}{name}")
        return None

    def currency(self, *names: str) -> str:
        """The first of ``names`` given, as an ISO 4217 code (422 otherwise)."""
        for name in names:
            if self.given(name):
                return currency_code(self.text(name, 8))
        return currency_code(None)


def header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    return value.strip()[:256] if value else None
