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
from tracker.core.errors import BadRequest, Unauthorized
from tracker.orders.model import Delivery, Order, Refund


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
    if value is None or isinstance(value, dict | list):
        return None
    out = str(value).strip()
    return out[:limit] or None


def items(value: Any) -> list[Any]:
    """A JSON array as a list; anything else (a hostile object, a string) as empty."""
    return value if isinstance(value, list) else []


def mapping(value: Any) -> dict[str, Any]:
    """A JSON object as a dict; anything else as empty."""
    return value if isinstance(value, dict) else {}


def header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    return value.strip()[:256] if value else None
