"""Commission maths, pure: which rule applies to an order and what it earns, exactly.

A rule pays ``rate_bp`` basis points of the order's net revenue (rounded half up to the
minor unit) or ``fixed_minor`` per order in the rule's currency (nothing once the order's
net revenue is 0: refunded in full or cancelled). A campaign rule beats the creator's
general rule; among those, the latest ``effective_from`` on or before the order's date.
Terms are frozen at the first entry of a (creator, order): later rule changes never
rewrite an order already in the ledger.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Terms:
    rate_bp: int | None
    fixed_minor: int | None
    currency: str | None  # of fixed_minor; a rate earns in the order's currency

    def earn(self, net_minor: int, order_currency: str) -> tuple[int, str]:
        if net_minor <= 0:
            return 0, self.currency or order_currency
        if self.fixed_minor is not None:
            return int(self.fixed_minor), self.currency or order_currency
        rate = int(self.rate_bp or 0)
        return (net_minor * rate + 5_000) // 10_000, order_currency


def pick(rules: list[dict[str, Any]], campaign_id: str | None, placed_on: str) -> Terms | None:
    """``rules``: a creator's rules as rows (campaign_id, rate_bp, fixed_minor, currency,
    effective_from as YYYY-MM-DD). None: no rule applies, so no commission."""
    best: tuple[int, str, str] | None = None
    chosen: dict[str, Any] | None = None
    for r in rules:
        if r["effective_from"][:10] > placed_on[:10]:
            continue
        if r["campaign_id"] is not None and r["campaign_id"] != campaign_id:
            continue
        key = (1 if r["campaign_id"] else 0, r["effective_from"][:10], r.get("created_at") or "")
        if best is None or key > best:
            best, chosen = key, r
    if chosen is None:
        return None
    return Terms(
        None if chosen["rate_bp"] is None else int(chosen["rate_bp"]),
        None if chosen["fixed_minor"] is None else int(chosen["fixed_minor"]),
        chosen["currency"],
    )


@dataclass
class Balance:
    """A (creator, currency)'s entries on one order: their sum, the pending part."""

    total: int = 0
    pending: int = 0


def summarise(
    entries: list[dict[str, Any]],
) -> tuple[dict[tuple[str, str], Balance], dict[str, Terms]]:
    """An order's ledger entries -> balance per (creator, currency), and each creator's
    frozen terms (those of their first accrual)."""
    groups: dict[tuple[str, str], Balance] = {}
    frozen: dict[str, Terms] = {}
    for e in entries:
        g = groups.setdefault((e["creator_id"], e["currency"]), Balance())
        g.total += int(e["amount_minor"])
        if e["bucket"] == "pending":
            g.pending += int(e["amount_minor"])
        if e["kind"] == "accrual" and e["creator_id"] not in frozen:
            fixed = e["fixed_minor"]
            currency = e["currency"] if fixed is not None else None
            frozen[e["creator_id"]] = Terms(e["rate_bp"], fixed, currency)
    return groups, frozen
