"""Event types and bodies: what a receiver gets, built from store rows (pure).

Every body is the Standard Webhooks envelope ``{"type", "timestamp", "data"}``; the event id
travels in the ``webhook-id`` header and never changes across retries and replays. Bodies
carry ids, money in minor units and statuses only: no customer hash, email, IP or name.
"""

from __future__ import annotations

from typing import Any

from tracker.store.engine import Row

ORDER_ATTRIBUTED = "order.attributed"
ORDER_UPDATED = "order.updated"
COMMISSION_APPROVED = "commission.approved"
COMMISSION_REVERSED = "commission.reversed"
CODE_LEAK_FLAGGED = "code.leak_flagged"
EVENT_TYPES = (
    ORDER_ATTRIBUTED,
    ORDER_UPDATED,
    COMMISSION_APPROVED,
    COMMISSION_REVERSED,
    CODE_LEAK_FLAGGED,
)


def envelope(event_type: str, data: dict[str, Any], at: str) -> dict[str, Any]:
    return {"type": event_type, "timestamp": at, "data": data}


def order_data(o: Row) -> dict[str, Any]:
    """The order as events show it (``o`` is the store's order snapshot)."""
    creator = {"id": o["creator_id"], "handle": o["creator_handle"]} if o["creator_id"] else None
    return {
        "id": o["id"],
        "shop": o["shop"],
        "external_id": o["external_id"],
        "order_number": o["order_number"],
        "placed_at": o["placed_at"],
        "currency": o["currency"],
        "total_minor": int(o["total_minor"]),
        "refunded_minor": int(o["refunded_minor"]),
        "net_minor": int(o["net_minor"]),
        "status": o["status"],
        "creator": creator,
        "campaign_id": o["campaign_id"],
        "method": o["method"],
    }


def order_change(prev: Row | None, now: Row) -> tuple[str | None, list[str]]:
    """Which event (if any) a change of an order deserves, and why.

    ``prev`` is what was last published about the order (None: nothing yet). An order no
    creator was ever credited with publishes nothing; a replayed postback changes nothing
    and so publishes nothing.
    """
    if prev is None:
        return (ORDER_ATTRIBUTED, []) if now["creator_id"] else (None, [])
    if prev["creator_id"] is None and now["creator_id"] is None:
        return None, []
    reasons: list[str] = []
    if prev["creator_id"] != now["creator_id"]:
        reasons.append("reattribution")
    if now["status"] == "cancelled" and prev["status"] != "cancelled":
        reasons.append("cancellation")
    if int(now["refunded_minor"]) > int(prev["refunded_minor"]):
        reasons.append("refund")
    if not reasons and (
        int(now["net_minor"]) != int(prev["net_minor"]) or now["status"] != prev["status"]
    ):
        reasons.append("update")
    if not reasons:
        return None, []
    if prev["creator_id"] is None:
        return ORDER_ATTRIBUTED, reasons
    return ORDER_UPDATED, reasons


def order_event(o: Row, prev: Row | None, reasons: list[str]) -> dict[str, Any]:
    data: dict[str, Any] = {"order": order_data(o), "reasons": reasons}
    if prev is not None:
        data["previous"] = {
            "creator_id": prev["creator_id"],
            "status": prev["status"],
            "net_minor": int(prev["net_minor"]),
            "refunded_minor": int(prev["refunded_minor"]),
        }
    return data


def commission_data(entry: Row, order_id: str) -> dict[str, Any]:
    return {
        "entry_id": entry["id"],
        "creator_id": entry["creator_id"],
        "order_id": order_id,
        "campaign_id": entry.get("campaign_id"),
        "amount_minor": int(entry["amount_minor"]),
        "currency": entry["currency"],
        "basis_minor": int(entry["basis_minor"]),
        "rate_bp": entry.get("rate_bp"),
        "fixed_minor": entry.get("fixed_minor"),
        "reason": entry.get("reason", ""),
    }
