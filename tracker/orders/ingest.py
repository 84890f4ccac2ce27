"""From a signed request to a committed order: find the shop, verify, parse, store.

The HTTP handlers in ``tracker/postbacks/routes.py`` only read the body and answer; this
module holds the steps between, so the same path serves Shopify, WooCommerce, the generic
Standard Webhooks postback and the pixel. Rejections are logged (never with secrets or
bodies) and kept in a small in-memory ring per shop for the admin's "recent deliveries".
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

from tracker.attribution.touches import Fingerprint, Matching
from tracker.catalogue.shops import verifying_secrets
from tracker.core import clock
from tracker.core.errors import NotFound, Rejected, Unprocessable
from tracker.orders import scrub
from tracker.orders.model import Delivery, Order
from tracker.orders.sources import (
    CancelEvent,
    Event,
    IgnoredEvent,
    OrderEvent,
    PrivacyEvent,
    RefundEvent,
    generic,
    shopify,
    woocommerce,
)
from tracker.state import AppState
from tracker.store.engine import Row

log = logging.getLogger("tracker.orders.sources")

Verify = Callable[[bytes, Mapping[str, str], list[str]], None]
Parse = Callable[[bytes, Mapping[str, str], str], Event]
ADAPTERS: dict[str, tuple[Verify, Parse]] = {
    "shopify": (shopify.verify, shopify.parse),
    "woocommerce": (woocommerce.verify, woocommerce.parse),
    "generic": (generic.verify, generic.parse),
}


def customer_hash(secret: str, email: str | None) -> str | None:
    """Customer emails are only ever kept as a keyed hash (for new-customer and LTV maths)."""
    if not email or "@" not in email:
        return None
    return scrub.email_hash(secret, email)


def remember_rejection(state: AppState, shop: str, source: str, reason: str) -> None:
    ring = state.rejections.setdefault(shop, deque(maxlen=50))
    ring.appendleft(
        {"received_at": clock.now_iso(), "source": source, "outcome": "rejected", "reason": reason}
    )


async def shop_for(state: AppState, slug: str, platform: str) -> Row:
    shop = await state.store.shop_secrets(slug[:64])
    if shop is None:
        raise NotFound(f"no active shop {slug!r}")
    if shop["platform"] != platform and not (platform == "pixel"):
        raise NotFound(
            f"shop {slug!r} is a {shop['platform']} shop; post to "
            f"/postbacks/{shop['platform']}/{slug}"
        )
    return shop


def secrets_of(shop: Row, grace_hours: int) -> list[str]:
    return verifying_secrets(shop, grace_hours)


async def handle(
    state: AppState, platform: str, slug: str, body: bytes, headers: Mapping[str, str]
) -> dict[str, Any]:
    """Verify and apply one delivery; raises Rejected (4xx) on anything we refuse."""
    verify, parse = ADAPTERS[platform]
    shop = await shop_for(state, slug, platform)
    try:
        verify(body, headers, secrets_of(shop, state.settings.secret_grace_hours))
        event = parse(body, headers, state.settings.click_id_param)
    except Rejected as exc:
        remember_rejection(state, shop["slug"], platform, f"{exc.code}: {exc.reason}")
        log.warning(
            "postback rejected: shop=%s source=%s error=%s reason=%s",
            shop["slug"],
            platform,
            exc.code,
            exc.reason,
        )
        raise
    except UnicodeDecodeError:
        remember_rejection(state, shop["slug"], platform, "unprocessable: body is not UTF-8")
        raise Unprocessable("body is not UTF-8") from None
    return await apply(state, shop, event)


def scrub_delivery(delivery: Delivery, secret: str) -> None:
    """Personal data out of the raw body before it is written (the order's fingerprint and
    customer hash were already derived from the parsed values)."""
    if not delivery.scrubbed:
        delivery.body = scrub.scrub(delivery.body, secret, delivery.doc)
        delivery.scrubbed, delivery.doc = True, None


async def apply(state: AppState, shop: Row, event: Event) -> dict[str, Any]:
    store, settings = state.store, state.settings
    if isinstance(event, IgnoredEvent):
        return {"status": "ignored", "detail": event.reason}
    ext = getattr(event, "order_external_id", None)
    if isinstance(ext, str) and ("\x00" in ext or not ext.strip()):
        raise Unprocessable("order id: required, without NUL characters")
    delivery = getattr(event, "delivery", None)
    if isinstance(delivery, Delivery):
        scrub_delivery(delivery, settings.secret_key)
    if isinstance(event, OrderEvent):
        return await store.ingest_order(
            shop,
            event.order,
            event.delivery,
            fingerprint=order_fingerprint(state, event.order),
            customer_hash=customer_hash(settings.secret_key, event.order.customer_email),
            matching=Matching.from_settings(settings),
        )
    if isinstance(event, RefundEvent):
        return await store.ingest_refunds(
            shop, event.order_external_id, event.refunds, event.delivery
        )
    if isinstance(event, CancelEvent):
        return await store.cancel_order(shop, event.order_external_id, event.delivery)
    assert isinstance(event, PrivacyEvent)
    chash = customer_hash(settings.secret_key, event.customer_email)
    if event.kind == "data_request":
        orders = await store.customer_orders(shop["id"], chash, event.order_external_ids)
        log.info("data request for shop %s: %d orders held", shop["slug"], len(orders))
        return {"status": "ok", "orders_held": orders}
    return await store.redact(
        shop,
        event.delivery,
        customer_hash=chash,
        order_external_ids=event.order_external_ids,
        whole_shop=event.kind == "shop_redact",
    )


def order_fingerprint(state: AppState, order: Order) -> Fingerprint | None:
    """The same keyed fingerprint and tags as a click's, when the shop gave us the shopper's
    IP and user agent; the language tag only when the source sent a language (WooCommerce
    does not: its orders then match clicks on address and user agent alone)."""
    if not order.ip or not order.user_agent or order.ip in ("0.0.0.0", "::"):
        return None
    cap, ua = state.capture, order.user_agent[:512]
    lang = (order.accept_language or "")[:128]
    return Fingerprint(
        cap.fingerprint(order.ip, ua),
        cap.ip_tag(order.ip),
        cap.lang_tag(lang),
        cap.legacy_fingerprint(order.ip, ua, lang) if lang else None,
    )
