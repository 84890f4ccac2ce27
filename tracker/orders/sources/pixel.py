"""The image/URL postback for shops that can only fire a URL on their thank-you page.

``GET /postbacks/pixel/{shop}?token=...&order_id=...&amount=12.34&currency=EUR&click_id=...
&code=...`` authenticated by the shop's pixel token (compared in constant time). A repeat of
the same order id and amount is the same delivery; a different amount updates the order.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping

from tracker.core import clock
from tracker.core.errors import Unauthorized, Unprocessable
from tracker.core.money import currency_code, to_minor
from tracker.orders.model import Delivery, Order
from tracker.orders.sources import Event, OrderEvent

#: A transparent 1x1 GIF, answered to every accepted pixel.
GIF = bytes.fromhex(
    "47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b"
)
_STATUSES = ("paid", "pending", "cancelled", "refunded")


def verify(params: Mapping[str, str], token: str) -> None:
    given = params.get("token", "")
    if not given or not hmac.compare_digest(given.encode(), token.encode()):
        raise Unauthorized("pixel token missing or wrong")


def parse(
    params: Mapping[str, str], codes: list[str], default_currency: str, raw_query: str
) -> Event:
    order_id = (params.get("order_id") or "").strip()[:128]
    if not order_id:
        raise Unprocessable("order_id: required")
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
    return OrderEvent(order, Delivery("pixel", [key], "pixel", raw_query[:4096]))
