"""Signing postbacks exactly as each platform does, for tests (and the benchmark)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from standardwebhooks import Webhook

FIXTURES = Path(__file__).parent / "fixtures"
SHOPIFY_BODY = (FIXTURES / "shopify-order-1001.json").read_bytes()
WOO_BODY = (FIXTURES / "woocommerce-order-727.json").read_bytes()
SHOPIFY_SECRET = "shpss_test_0123456789abcdef"


def b64hmac(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def shopify_headers(
    body: bytes,
    secret: str = SHOPIFY_SECRET,
    topic: str = "orders/create",
    webhook_id: str | None = None,
) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": b64hmac(secret, body),
        "X-Shopify-Shop-Domain": "demo.myshopify.com",
        "X-Shopify-Webhook-Id": webhook_id or hashlib.md5(body + topic.encode()).hexdigest(),
        "X-Shopify-API-Version": "2023-01",
    }


def woo_headers(body: bytes, secret: str, topic: str = "order.updated") -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-WC-Webhook-Topic": topic,
        "X-WC-Webhook-Signature": b64hmac(secret, body),
        "X-WC-Webhook-Delivery-ID": str(time.time_ns()),  # changes on every send, as WooCommerce's
        "X-WC-Webhook-Source": "https://shop.example.com/",
    }


def generic_headers(
    body: bytes,
    secret: str,
    msg_id: str,
    at: datetime | None = None,
    extra_secrets: tuple[str, ...] = (),
) -> dict[str, str]:
    at = at or datetime.now(UTC)
    sigs = [Webhook(s).sign(msg_id, at, body.decode()) for s in (secret, *extra_secrets)]
    return {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": " ".join(sigs),
    }


def shopify_order(**changes: Any) -> dict[str, Any]:
    """The documented order #1001 with some fields changed (for variants the docs lack)."""
    data: dict[str, Any] = json.loads(SHOPIFY_BODY)
    data.update(changes)
    return data


def dumps(data: Any) -> bytes:
    return json.dumps(data).encode()


async def post_generic_order(client: Any, secret: str, oid: str, total: int, **extra: Any) -> None:
    """A signed generic postback of one USD order placed now (shop slug ``gen``); 200."""
    body = dumps(
        {
            "order_id": oid,
            "created_at": datetime.now(UTC).isoformat(),
            "currency": "USD",
            "total_minor": total,
            **extra,
        }
    )
    r = await client.post(
        "/postbacks/generic/gen", content=body, headers=generic_headers(body, secret, f"m-{oid}")
    )
    assert r.status_code == 200, r.text
