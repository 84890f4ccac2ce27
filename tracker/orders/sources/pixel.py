"""The image/URL postback for shops that can only fire a URL on their thank-you page.

``GET /postbacks/pixel/{shop}?token=...&order_id=...&amount=12.34&currency=EUR&click_id=...
&code=...`` authenticated by the shop's pixel token (compared in constant time). A repeat of
the same order id and amount is the same delivery; a different amount updates the order.
"""

from __future__ import annotations

import hashlib
import hmac
from collections import Counter
from collections.abc import Mapping
from urllib.parse import parse_qsl, urlencode

from tracker.core import clock
from tracker.core.errors import Unauthorized, Unprocessable
from tracker.core.money import currency_code, to_minor
from tracker.orders.model import Delivery, Order
from tracker.orders.sources import Event, OrderEvent, checked_id

#: A transparent 1x1 GIF, answered to every accepted pixel.
GIF = bytes.fromhex(
    "47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b"
)
_STATUSES = ("paid", "pending", "cancelled", "refunded")
DIGEST = "sha256:"


def token_digest(token: str) -> str:
    """How a pixel token is stored: its SHA-256 (a random 192-bit token needs no slow
    hash), so the shops table holds no usable token, like the API's."""
    return DIGEST + hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


def verify(params: Mapping[str, str], stored: str) -> None:
    """``stored`` is the shop's pixel token digest ('' when the shop has no pixel, the
    default for Shopify and WooCommerce shops: then every request is refused; a token
    stored in clear before digests still verifies until it is rotated)."""
    if not stored:
        raise Unauthorized("this shop does not accept the pixel (turn it on for the shop)")
    given = params.get("token", "")
    if stored.startswith(DIGEST):
        given = token_digest(given)
    if not params.get("token") or not hmac.compare_digest(
        given.encode("utf-8", "surrogateescape"), stored.encode()
    ):
        raise Unauthorized("pixel token missing or wrong")


def stored_query(raw_query: str) -> str:
    """The request's query as kept for audit: parsed, so its ``token`` is masked however
    the shop encoded it (``%5F`` for ``_`` is the same token to the parser)."""
    pairs = parse_qsl(raw_query, keep_blank_values=True)
    return urlencode([(k, "***" if k == "token" else v) for k, v in pairs], safe="*:")[:4096]


def parse(
    params: Mapping[str, str], codes: list[str], default_currency: str, raw_query: str
) -> Event:
    counts = Counter(k for k, _ in parse_qsl(raw_query, keep_blank_values=True))
    twice = sorted(k for k, n in counts.items() if n > 1 and k != "code")
    if twice:  # which one the shop meant is not ours to guess (only codes may repeat)
        raise Unprocessable(f"{twice[0]}: given more than once")
    order_id = (params.get("order_id") or "").strip()
    if not order_id:
        raise Unprocessable("order_id: required")
    checked_id(order_id, "order_id")
    if params.get("amount") in (None, ""):
        raise Unprocessable("amount: required")
    currency = currency_code(params.get("currency") or default_currency)
    amount = to_minor(params.get("amount"), currency)
    if amount < 0:
        raise Unprocessable("amount: must not be negative")
    status = (params.get("status") or "paid").lower()
    if status not in _STATUSES:
        raise Unprocessable(f"status: one of {', '.join(_STATUSES)}")
    now = clock.now_iso()
    order = Order(
        external_id=order_id,
        placed_at=now,
        updated_at=now,
        currency=currency,
        total_minor=amount,
        subtotal_minor=amount,
        status=status,
        financial_status=status,
        cancelled_at=now if status == "cancelled" else None,
        codes=codes,
        click_ids=[params["click_id"]] if params.get("click_id") else [],
    )
    key = f"pixel:{order_id}:{amount}:{currency}:{status}"
    return OrderEvent(order, Delivery("pixel", [key], "pixel", stored_query(raw_query)))
