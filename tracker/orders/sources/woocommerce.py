"""WooCommerce order webhooks (order.created / order.updated / order.deleted / order.restored).

Signature: ``X-WC-Webhook-Signature`` = base64 HMAC-SHA256 of the raw body. WooCommerce's
``X-WC-Webhook-Delivery-ID`` changes on every send, so a delivery is keyed on
order id + ``date_modified_gmt`` + status instead. When a webhook is created WooCommerce
pings the URL with a form-encoded ``webhook_id=N`` body; that is answered 200, changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tracker.core.errors import Unprocessable
from tracker.orders.model import Delivery, Order, Refund, is_survey_key
from tracker.orders.sources import (
    CancelEvent,
    Event,
    Fields,
    IgnoredEvent,
    OrderEvent,
    header,
    load_json,
    obj,
    verify_base64_hmac,
)

SIGNATURE = "X-WC-Webhook-Signature"
_STATUS = {
    "pending": "pending",
    "on-hold": "pending",
    "processing": "paid",
    "completed": "paid",
    "cancelled": "cancelled",
    "failed": "cancelled",
    "trash": "cancelled",
    "refunded": "refunded",
    "checkout-draft": "pending",
}


def is_ping(body: bytes, headers: Mapping[str, str]) -> bool:
    ctype = (headers.get("content-type") or "").lower()
    return body.startswith(b"webhook_id=") and (not ctype or "json" not in ctype)


def verify(body: bytes, headers: Mapping[str, str], secrets: list[str]) -> None:
    verify_base64_hmac(body, headers.get(SIGNATURE), secrets, SIGNATURE)


def _gmt(f: Fields, name: str) -> str | None:
    return f.timestamp(f"{name}_gmt", name)


def parse_order(data: dict[str, Any], click_param: str) -> Order:
    f = Fields(data)
    if not f.given("id"):
        raise Unprocessable("id: missing order id")
    external_id = f.ident("id")
    assert external_id is not None
    currency = f.currency("currency")
    placed = _gmt(f, "date_created")
    if placed is None:
        raise Unprocessable("date_created_gmt: missing")
    updated = _gmt(f, "date_modified") or placed
    raw_status = f.text("status", 32) or "pending"
    total = f.money("total", currency) or 0
    discount = f.money("discount_total", currency) or 0
    shipping = f.money("shipping_total", currency) or 0
    tax = f.money("total_tax", currency) or 0
    refunds = [
        Refund(refund_id[:64], abs(r.money("total", currency) or 0), updated)
        for r in f.objects("refunds")
        if (refund_id := r.ident("id", required=False)) is not None
    ]
    clicks = []
    names = {click_param.lower(), f"_{click_param.lower()}", "click_id", "_click_id"}
    survey = None
    for meta in f.objects("meta_data"):
        if (meta.text("key") or "").lower() in names:
            clicks.append(meta.text("value", 64))
        elif survey is None and is_survey_key(meta.text("key", 128)):
            survey = meta.text("value", 500)
    return Order(
        external_id=external_id,
        order_number=f.text("number", 64),
        placed_at=placed,
        updated_at=updated,
        currency=currency,
        total_minor=total,
        subtotal_minor=max(0, total - shipping - tax + discount),
        discount_minor=discount,
        financial_status=raw_status,
        status=_STATUS.get(raw_status, "pending"),
        cancelled_at=updated if _STATUS.get(raw_status) == "cancelled" else None,
        refunds=refunds,
        codes=[c for c in (line.text("code", 64) for line in f.objects("coupon_lines")) if c],
        click_ids=[c for c in clicks if c],
        ip=f.text("customer_ip_address", 64),
        user_agent=f.text("customer_user_agent", 512),
        customer_email=f.obj("billing").text("email", 254),
        survey_answer=survey,
    )


def parse(body: bytes, headers: Mapping[str, str], click_param: str) -> Event:
    topic = (header(headers, "X-WC-Webhook-Topic") or "").lower()
    if topic and not topic.startswith("order."):
        return IgnoredEvent(f"topic {topic} is not used")
    doc = load_json(body)
    data = obj(doc)
    f = Fields(data)
    if topic == "order.deleted" and f.given("id") and not f.given("currency"):
        order_id = f.ident("id")
        key = f"deleted:{order_id}"
        return CancelEvent(
            str(order_id), Delivery("woocommerce", [key], topic, body.decode(), doc=doc)
        )
    order = parse_order(data, click_param)
    if topic == "order.deleted":
        order.status, order.cancelled_at = "cancelled", order.updated_at
    key = f"order:{order.external_id}:{order.updated_at}:{order.financial_status}:{topic}"
    return OrderEvent(order, Delivery("woocommerce", [key], topic, body.decode(), doc=doc))
