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
from tracker.orders.model import Delivery, Order, Refund, is_survey_key, query_param
from tracker.orders.sources import (
    MAX_ID,
    Event,
    Fields,
    IgnoredEvent,
    OrderEvent,
    PrivacyEvent,
    RefundEvent,
    body_key,
    header,
    load_json,
    obj,
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


def _money(f: Fields, name: str, currency: str) -> int | None:
    """Prefer the ``*_set.shop_money`` amount (the shop's currency) over the plain string."""
    shop_money = f.obj(f"{name}_set").obj("shop_money")
    if shop_money.data:
        return shop_money.money("amount", currency)
    return f.money(name, currency)


def _refund(f: Fields, currency: str, fallback_at: str) -> Refund | None:
    refund_id = f.ident("id", required=False)
    if refund_id is None:
        return None
    amount = 0
    for tx in f.objects("transactions"):
        if tx.text("kind") == "refund" and tx.data.get("status") in ("success", None):
            tx_currency = tx.currency("currency") if tx.given("currency") else currency
            amount += tx.money("amount", tx_currency) or 0
    return Refund(refund_id[:64], amount, f.timestamp("created_at", "processed_at") or fallback_at)


def parse_order(data: dict[str, Any], click_param: str) -> Order:
    # long: one Shopify field per line into the Order, in the order of Shopify's payload
    f = Fields(data)
    if not f.given("id"):
        raise Unprocessable("id: missing order id")
    external_id = f.ident("id")
    assert external_id is not None
    shop_money = f.obj("total_price_set").obj("shop_money")
    currency = (
        shop_money.currency("currency_code")
        if shop_money.given("currency_code")
        else f.currency("currency")
    )
    placed = f.timestamp("created_at", "processed_at")
    if placed is None:
        raise Unprocessable("created_at: missing timestamp")
    updated = f.timestamp("updated_at") or placed
    total = _money(f, "total_price", currency)
    if total is None:
        raise Unprocessable("total_price: missing")
    codes = [d.text("code", 64) for d in f.objects("discount_codes")]
    codes += [d.text("code", 64) for d in f.objects("discount_applications")]
    landing = f.text("landing_site", 2048)
    clicks = [query_param(landing, click_param)]
    wanted = (click_param.lower(), "click_id", "clickid")
    survey = None
    for attr in f.objects("note_attributes") + f.objects("attributes"):
        if (attr.text("name") or "").lower() in wanted:
            clicks.append(attr.text("value", 64))
        elif survey is None and is_survey_key(attr.text("name", 128)):
            survey = attr.text("value", 500)
    ref = f.text("landing_site_ref", 64)
    if ref and _CLICK_ID.match(ref):
        clicks.append(ref)
    client = f.obj("client_details")
    customer = f.obj("customer")
    orders_count = customer.integer("orders_count")
    cancelled_at = f.timestamp("cancelled_at")
    financial = f.text("financial_status", 32)
    status = "cancelled" if cancelled_at else _STATUS.get(financial or "", "pending")
    refunds = [r for r in (_refund(x, currency, updated) for x in f.objects("refunds")) if r]
    return Order(
        external_id=external_id,
        order_number=f.first_text("name", "order_number", limit=64),
        placed_at=placed,
        updated_at=updated,
        currency=currency,
        total_minor=total,
        subtotal_minor=_money(f, "subtotal_price", currency) or 0,
        discount_minor=_money(f, "total_discounts", currency) or 0,
        current_total_minor=_money(f, "current_total_price", currency),
        financial_status=financial,
        cancelled_at=cancelled_at,
        status=status,
        refunds=refunds,
        codes=[c for c in codes if c],
        click_ids=[c for c in clicks if c],
        ip=f.text("browser_ip", 64) or client.text("browser_ip", 64),
        user_agent=client.text("user_agent", 512),
        accept_language=client.text("accept_language", 128),
        landing_site=landing,
        referring_site=f.text("referring_site", 2048),
        customer_email=customer.text("email", 254)
        or f.first_text("email", "contact_email", limit=254),
        new_customer=(orders_count <= 1) if orders_count is not None else None,
        survey_answer=survey,
    )


def parse(body: bytes, headers: Mapping[str, str], click_param: str) -> Event:
    topic = (header(headers, "X-Shopify-Topic") or "").lower()
    doc = load_json(body)
    data = obj(doc)
    delivery = Delivery("shopify", _keys(headers, topic, body), topic, body.decode(), doc=doc)
    f = Fields(data)
    if topic in PRIVACY_TOPICS:
        ids = f.values("orders_to_redact") or f.values("orders_requested")
        return PrivacyEvent(
            PRIVACY_TOPICS[topic],
            delivery,
            f.obj("customer").text("email", 254),
            [  # an id too long to be stored names no order of ours
                str(i)
                for i in ids
                if isinstance(i, int | str) and not isinstance(i, bool) and len(str(i)) <= MAX_ID
            ],
        )
    if topic == "refunds/create":
        if not f.given("order_id"):
            raise Unprocessable("order_id: missing")
        order_id = f.ident("order_id")
        created = f.timestamp("created_at")
        if created is None:
            raise Unprocessable("created_at: missing timestamp")
        refund = _refund(f, "USD", created)
        if refund is None:
            raise Unprocessable("id: missing refund id")
        return RefundEvent(str(order_id), [refund], None, delivery)
    if topic not in ORDER_TOPICS:
        return IgnoredEvent(f"topic {topic} is not used")
    return OrderEvent(parse_order(data, click_param), delivery)
