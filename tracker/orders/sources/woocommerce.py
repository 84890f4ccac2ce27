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
from tracker.core.money import currency_code, to_minor
from tracker.orders.model import Delivery, Order, Refund, timestamp
from tracker.orders.sources import (
    CancelEvent,
    Event,
    IgnoredEvent,
    OrderEvent,
    header,
    items,
    load_json,
    mapping,
    obj,
    text,
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


def _gmt(data: dict[str, Any], name: str) -> str | None:
    value = data.get(f"{name}_gmt") or data.get(name)
    return timestamp(value, name) if value else None


def parse_order(data: dict[str, Any], click_param: str) -> Order:
    if data.get("id") is None:
        raise Unprocessable("id: missing order id")
    currency = currency_code(data.get("currency"))
    placed = _gmt(data, "date_created")
    if placed is None:
        raise Unprocessable("date_created_gmt: missing")
    updated = _gmt(data, "date_modified") or placed
    raw_status = text(data.get("status"), 32) or "pending"
    total = to_minor(data.get("total"), currency)
    discount = to_minor(data.get("discount_total"), currency)
    shipping = to_minor(data.get("shipping_total"), currency)
    tax = to_minor(data.get("total_tax"), currency)
    refunds = [
        Refund(str(r["id"]), abs(to_minor(r.get("total"), currency)), updated)
        for r in items(data.get("refunds"))
        if isinstance(r, dict) and r.get("id") is not None
    ]
    clicks = []
    names = {click_param.lower(), f"_{click_param.lower()}", "click_id", "_click_id"}
    for meta in items(data.get("meta_data")):
        if isinstance(meta, dict) and str(meta.get("key", "")).lower() in names:
            clicks.append(text(meta.get("value"), 64))
    billing = mapping(data.get("billing"))
    return Order(
        external_id=str(data["id"]),
        order_number=text(data.get("number"), 64),
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
        codes=[
            c["code"]
            for c in items(data.get("coupon_lines"))
            if isinstance(c, dict) and isinstance(c.get("code"), str)
        ],
        click_ids=[c for c in clicks if c],
        ip=text(data.get("customer_ip_address"), 64),
        user_agent=text(data.get("customer_user_agent"), 512),
        customer_email=text(billing.get("email"), 254),
    )


def parse(body: bytes, headers: Mapping[str, str], click_param: str) -> Event:
    topic = (header(headers, "X-WC-Webhook-Topic") or "").lower()
    if topic and not topic.startswith("order."):
        return IgnoredEvent(f"topic {topic} is not used")
    data = obj(load_json(body))
    if topic == "order.deleted" and data.get("id") is not None and not data.get("currency"):
        key = f"deleted:{data['id']}"
        return CancelEvent(str(data["id"]), Delivery("woocommerce", [key], topic, body.decode()))
    order = parse_order(data, click_param)
    if topic == "order.deleted":
        order.status, order.cancelled_at = "cancelled", order.updated_at
    key = f"order:{order.external_id}:{order.updated_at}:{order.financial_status}:{topic}"
    return OrderEvent(order, Delivery("woocommerce", [key], topic, body.decode()))
