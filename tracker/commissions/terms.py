"""Commission maths, pure: which rule applies to an order and what it earns, exactly.

A rule pays ``rate_bp`` basis points of the order's net revenue (rounded half up to the
minor unit) or ``fixed_minor`` per order in the rule's currency (nothing once the order's
net revenue is 0: refunded in full or cancelled).

Which rule: among the rules in force on the order's day (``effective_from`` <= day <=
``effective_until``, both optional ends inclusive), the most specific scope wins:

1. the creator's rule for the order's campaign,
2. the creator's rule (any campaign),
3. the campaign's rule (every creator on it),
4. the tier's rule (every creator of the creator's tier under ``TRACKER_TIERS``);

within one level the latest ``effective_from`` wins (then the latest created). So a
creator's own 15% beats a tier's 10% whatever their dates. Terms are frozen at the first
entry of a (creator, order): later rule changes never rewrite an order already in the
ledger.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tracker.core import money


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


def wording(rate_bp: int | None, fixed_minor: int | None, currency: str | None) -> str:
    """What a rule (or a commission rate entered as a cost) pays, in the words of what
    ``Terms.earn`` computes: a rate of each credited order's net revenue (after refunds;
    a cancelled or fully refunded order earns nothing), or a fixed amount per credited
    order. Not a share of the attributed revenue: the ledger does not follow the model."""
    if fixed_minor is not None:
        return f"{money.major(int(fixed_minor), str(currency))} {currency} per credited order"
    return f"{int(rate_bp or 0) / 100:g}% of each credited order's net revenue"


SCOPES = ("creator", "campaign", "tier")


def level(
    rule: dict[str, Any], creator_id: str | None, campaign_id: str | None, tier: str | None
) -> int:
    """How specific ``rule`` is for this (creator, campaign, tier): 4 creator and campaign,
    3 creator, 2 campaign, 1 tier; 0 when it does not apply. A row without ``scope`` is a
    creator rule the caller already chose for the creator (costs of kind commission)."""
    scope = rule.get("scope") or "creator"
    if scope == "creator":
        if creator_id is not None and rule.get("creator_id") not in (None, creator_id):
            return 0
        if rule["campaign_id"] is None:
            return 3
        return 4 if rule["campaign_id"] == campaign_id else 0
    if scope == "campaign":
        return 2 if campaign_id is not None and rule["campaign_id"] == campaign_id else 0
    if scope == "tier":
        return 1 if tier is not None and rule.get("tier") == tier else 0
    return 0


def in_force(rule: dict[str, Any], day: str) -> bool:
    until = rule.get("effective_until")
    return str(rule["effective_from"])[:10] <= day and (not until or day <= str(until)[:10])


def pick(
    rules: list[dict[str, Any]],
    campaign_id: str | None,
    placed_on: str,
    *,
    creator_id: str | None = None,
    tier: str | None = None,
) -> Terms | None:
    """``rules``: rows (scope, creator_id, campaign_id, tier, rate_bp, fixed_minor, currency,
    effective_from and effective_until as YYYY-MM-DD, created_at). None: no rule applies,
    so no commission."""
    day = placed_on[:10]
    best: tuple[int, str, str] | None = None
    chosen: dict[str, Any] | None = None
    for r in rules:
        lvl = level(r, creator_id, campaign_id, tier)
        if not lvl or not in_force(r, day):
            continue
        key = (lvl, str(r["effective_from"])[:10], str(r.get("created_at") or ""))
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
