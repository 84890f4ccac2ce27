"""Signed deliveries for the demo: each platform's payload and signature, as the shop sends
them (Shopify and WooCommerce: base64 HMAC-SHA256 of the body; generic: Standard Webhooks)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from standardwebhooks import Webhook


def _sign_b64(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def iso(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _money(minor: int) -> str:
    return f"{minor / 100:.2f}"


def delivery(
    platform: str, secret: str, currency: str, param: str, o: dict[str, Any]
) -> tuple[bytes, dict[str, str]]:
    """(body, headers) of one order as ``platform`` would post it."""
    builders = {"shopify": _shopify, "woocommerce": _woocommerce}
    return builders.get(platform, _generic)(secret, currency, param, o)


def _shopify(
    secret: str, currency: str, param: str, o: dict[str, Any]
) -> tuple[bytes, dict[str, str]]:
    v = o["visitor"]
    total = o["total"]
    discount = total * 15 // 100 if o["codes"] else 0
    data: dict[str, Any] = {
        "id": 820982911946154508 + o["n"],
        "name": f"#{o['n']}",
        "created_at": iso(o["placed"]),
        "updated_at": iso(o["placed"] + timedelta(minutes=2)),
        "currency": currency,
        "total_price": _money(total),
        "subtotal_price": _money(total + discount),
        "total_discounts": _money(discount),
        "financial_status": "refunded" if o["refund"] == total else "paid",
        "discount_codes": [
            {"code": c, "amount": _money(discount), "type": "percentage"} for c in o["codes"]
        ],
        "landing_site": f"/products/serum?{param}={o['click_id']}" if o["click_id"] else "/",
        "referring_site": o.get("referrer") or "https://www.instagram.com/",
        "browser_ip": v.ip,
        "client_details": {
            "browser_ip": v.ip,
            "user_agent": v.ua,
            "accept_language": v.lang,
        },
        "customer": {"email": v.email, "orders_count": 1 if o["new"] else 3},
        "note_attributes": [{"name": "How did you hear about us?", "value": o["survey"]}]
        if o.get("survey")
        else [],
        "refunds": [
            {
                "id": 9000 + o["n"],
                "created_at": iso(o["placed"] + timedelta(days=1)),
                "transactions": [
                    {"kind": "refund", "status": "success", "amount": _money(o["refund"])}
                ],
            }
        ]
        if o["refund"]
        else [],
    }
    body = json.dumps(data).encode()
    headers = {
        "content-type": "application/json",
        "x-shopify-topic": "orders/updated",
        "x-shopify-hmac-sha256": _sign_b64(secret, body),
        "x-shopify-shop-domain": "demo.myshopify.com",
        "x-shopify-webhook-id": f"demo-{o['n']}",
    }
    return body, headers


def _woocommerce(
    secret: str, currency: str, param: str, o: dict[str, Any]
) -> tuple[bytes, dict[str, str]]:
    v = o["visitor"]
    total = o["total"]
    discount = total * 15 // 100 if o["codes"] else 0
    data = {
        "id": o["n"],
        "number": str(o["n"]),
        "status": "refunded" if o["refund"] == total else "completed",
        "currency": currency,
        "date_created_gmt": iso(o["placed"]).rstrip("Z"),
        "date_modified_gmt": iso(o["placed"] + timedelta(minutes=2)).rstrip("Z"),
        "total": _money(total),
        "discount_total": _money(discount),
        "shipping_total": "0.00",
        "total_tax": "0.00",
        "coupon_lines": [{"code": c} for c in o["codes"]],
        "meta_data": ([{"key": f"_{param}", "value": o["click_id"]}] if o["click_id"] else [])
        + ([{"key": "hdyhau", "value": o["survey"]}] if o.get("survey") else []),
        "customer_ip_address": v.ip,
        "customer_user_agent": v.ua,
        "billing": {"email": v.email},
        "refunds": [{"id": 9000 + o["n"], "total": f"-{_money(o['refund'])}"}]
        if o["refund"]
        else [],
    }
    body = json.dumps(data).encode()
    headers = {
        "content-type": "application/json",
        "x-wc-webhook-topic": "order.updated",
        "x-wc-webhook-signature": _sign_b64(secret, body),
        "x-wc-webhook-delivery-id": f"demo-{o['n']}",
        "x-wc-webhook-source": "https://shop.example.com/",
    }
    return body, headers


def _generic(
    secret: str, currency: str, param: str, o: dict[str, Any]
) -> tuple[bytes, dict[str, str]]:
    v = o["visitor"]
    total = o["total"]
    discount = total * 15 // 100 if o["codes"] else 0
    payload: dict[str, Any] = {
        "order_id": f"app-{o['n']}",
        "order_number": f"A{o['n']}",
        "created_at": iso(o["placed"]),
        "currency": currency,
        "total_minor": total,
        "discount_minor": discount,
        "status": "refunded" if o["refund"] == total else "paid",
        "discount_codes": o["codes"],
        "click_id": o["click_id"],
        "ip": v.ip,
        "user_agent": v.ua,
        "accept_language": v.lang,
        "customer_email": v.email,
        "new_customer": o["new"],
        "survey_answer": o.get("survey"),
        "refunds": [
            {"id": f"r{o['n']}", "amount_minor": o["refund"], "created_at": iso(o["placed"])}
        ]
        if o["refund"]
        else [],
    }
    body = json.dumps({"type": "order.updated", "data": payload}).encode()
    msg_id = f"msg_demo_{o['n']}"
    at = datetime.now(UTC)
    headers = {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id, at, body.decode()),
    }
    return body, headers
