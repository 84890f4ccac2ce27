"""Shopify order webhooks, as Shopify sends them.

Topics: orders/create|updated|paid|cancelled|fulfilled|edited (an order body),
refunds/create (a refund body), and the mandatory privacy topics customers/data_request,
customers/redact and shop/redact. Signature: ``X-Shopify-Hmac-Sha256`` = base64 HMAC-SHA256
of the raw body. Idempotency: ``X-Shopify-Webhook-Id`` (same on every retry) and
``X-Shopify-Event-Id`` per topic.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from tracker.core.errors import Unprocessable
from tracker.core.money import currency_code, to_minor
from tracker.orders.model import (
    Delivery,
    Order,
    Refund,
    query_param,
    timestamp,
)
from tracker.orders.sources import (
    Event,
    IgnoredEvent,
    OrderEvent,
    PrivacyEvent,
    RefundEvent,
    body_key,
    header,
    items,
    load_json,
    mapping,
    obj,
    text,
    verify_base64_hmac,
)

SIGNATURE = "X-Shopify-Hmac-Sha256"
ORDER_TOPICS = {
    "orders/create",
    "orders/updated",
    "orders/paid",
    "orders/cancelled",
    "orders/fulfilled",
    "orders/partially_fulfilled",
    "orders/edited",
    "",
}
PRIVACY_TOPICS = {
    "customers/data_request": "data_request",
    "customers/redact": "customer_redact",
    "shop/redact": "shop_redact",
}
_CLICK_ID = re.compile(r"^[A-Za-z0-9_-]{16}$")
_STATUS = {
    "paid": "paid",
    "partially_paid": "paid",
    "refunded": "refunded",
    "partially_refunded": "partially_refunded",
    "voided": "cancelled",
    "pending": "pending",
    "authorized": "pending",
    "expired": "cancelled",
}


def verify(body: bytes, headers: Mapping[str, str], secrets: list[str]) -> None:
    verify_base64_hmac(body, headers.get(SIGNATURE), secrets, SIGNATURE)


def _keys(headers: Mapping[str, str], topic: str, body: bytes) -> list[str]:
    keys = []
    if webhook_id := header(headers, "X-Shopify-Webhook-Id"):
        keys.append(f"webhook:{webhook_id}")
    if event_id := header(headers, "X-Shopify-Event-Id"):
        keys.append(f"event:{event_id}:{topic}")
    return keys or [body_key(body)]


def _money(data: dict[str, Any], name: str, currency: str) -> int | None:
    """Prefer the ``*_set.shop_money`` amount (the shop's currency) over the plain string."""
    money_set = data.get(f"{name}_set")
    if isinstance(money_set, dict) and isinstance(money_set.get("shop_money"), dict):
        return to_minor(money_set["shop_money"].get("amount"), currency)
    if data.get(name) is not None:
        return to_minor(data.get(name), currency)
    return None


def _refund(data: dict[str, Any], currency: str, fallback_at: str) -> Refund | None:
    if data.get("id") is None:
        return None
    amount = 0
    for tx in items(data.get("transactions")):
        if (
            isinstance(tx, dict)
            and tx.get("kind") == "refund"
            and tx.get("status")
            in (
                "success",
                None,
            )
        ):
            tx_currency = currency_code(tx["currency"]) if tx.get("currency") else currency
            amount += to_minor(tx.get("amount"), tx_currency)
    at = data.get("created_at") or data.get("processed_at")
    return Refund(
        str(data["id"]), amount, timestamp(at, "refund.created_at") if at else fallback_at
    )


def parse_order(data: dict[str, Any], click_param: str) -> Order:
    # long: one Shopify field per line into the Order, in the order of Shopify's payload
    if data.get("id") is None:
        raise Unprocessable("id: missing order id")
    shop_money = mapping(mapping(data.get("total_price_set")).get("shop_money"))
    currency = currency_code(shop_money.get("currency_code") or data.get("currency"))
    placed = timestamp(data.get("created_at") or data.get("processed_at"), "created_at")
    updated = timestamp(data.get("updated_at"), "updated_at") if data.get("updated_at") else placed
    total = _money(data, "total_price", currency)
    if total is None:
        raise Unprocessable("total_price: missing")
    codes = [d.get("code") for d in items(data.get("discount_codes")) if isinstance(d, dict)]
    codes += [
        d.get("code")
        for d in items(data.get("discount_applications"))
        if isinstance(d, dict) and d.get("code")
    ]
    clicks = [query_param(data.get("landing_site"), click_param)]
    for attr in items(data.get("note_attributes")) + items(data.get("attributes")):
        if isinstance(attr, dict) and str(attr.get("name", "")).lower() in (
            click_param.lower(),
            "click_id",
            "clickid",
        ):
            clicks.append(text(attr.get("value"), 64))
    ref = text(data.get("landing_site_ref"), 64)
    if ref and _CLICK_ID.match(ref):
        clicks.append(ref)
    client = mapping(data.get("client_details"))
    customer = mapping(data.get("customer"))
    orders_count = customer.get("orders_count")
    cancelled_at = data.get("cancelled_at")
    financial = text(data.get("financial_status"), 32)
    status = "cancelled" if cancelled_at else _STATUS.get(financial or "", "pending")
    refunds = [
        r
        for r in (
            _refund(x, currency, updated) for x in items(data.get("refunds")) if isinstance(x, dict)
        )
        if r
    ]
    return Order(
        external_id=str(data["id"]),
        order_number=text(data.get("name") or data.get("order_number"), 64),
        placed_at=placed,
        updated_at=updated,
        currency=currency,
        total_minor=total,
        subtotal_minor=_money(data, "subtotal_price", currency) or 0,
        discount_minor=_money(data, "total_discounts", currency) or 0,
        current_total_minor=_money(data, "current_total_price", currency),
        financial_status=financial,
        cancelled_at=timestamp(cancelled_at, "cancelled_at") if cancelled_at else None,
        status=status,
        refunds=refunds,
        codes=[c for c in codes if isinstance(c, str)],
        click_ids=[c for c in clicks if c],
        ip=text(data.get("browser_ip") or client.get("browser_ip"), 64),
        user_agent=text(client.get("user_agent"), 512),
        accept_language=text(client.get("accept_language"), 128),
        landing_site=text(data.get("landing_site"), 2048),
        referring_site=text(data.get("referring_site"), 2048),
        customer_email=text(
            customer.get("email") or data.get("email") or data.get("contact_email"), 254
        ),
        new_customer=(orders_count <= 1) if isinstance(orders_count, int) else None,
    )


def parse(body: bytes, headers: Mapping[str, str], click_param: str) -> Event:
    topic = (header(headers, "X-Shopify-Topic") or "").lower()
    data = obj(load_json(body))
    delivery = Delivery("shopify", _keys(headers, topic, body), topic, body.decode())
    if topic in PRIVACY_TOPICS:
        customer = mapping(data.get("customer"))
        ids = items(data.get("orders_to_redact")) or items(data.get("orders_requested"))
        return PrivacyEvent(
            PRIVACY_TOPICS[topic],
            delivery,
            text(customer.get("email"), 254),
            [str(i) for i in ids if isinstance(i, int | str)],
        )
    if topic == "refunds/create":
        if data.get("order_id") is None:
            raise Unprocessable("order_id: missing")
        refund = _refund(data, "USD", timestamp(data.get("created_at"), "created_at"))
        if refund is None:
            raise Unprocessable("id: missing refund id")
        return RefundEvent(str(data["order_id"]), [refund], None, delivery)
    if topic not in ORDER_TOPICS:
        return IgnoredEvent(f"topic {topic} is not used")
    return OrderEvent(parse_order(data, click_param), delivery)
