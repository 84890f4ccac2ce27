"""One order's credit under one model: the rule the reports apply at read time and the
ingest stores (``tracker/store/credits.py``), in one home.

``credit_order`` keeps the touches inside the lookbacks, picks a winner again when the
stored one fell out of them, applies the model (``credit.credits``) and splits the order's
net revenue exactly (``credit.split``), one ``Credit`` per kept touch.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tracker.attribution.credit import Credited, credits, split
from tracker.attribution.rules import best_of
from tracker.attribution.touches import within_lookback

if TYPE_CHECKING:  # the store imports this module: no import back at run time
    from tracker.store.engine import Row


#: The 90-day value: a customer's later orders within this many days of the acquiring one.
VALUE_DAYS = 90


@dataclass(frozen=True)
class Basis:
    """The settings an order's credit depends on besides its touches and the model."""

    click_days: int
    fingerprint_days: int
    half_life_days: float
    policy: str

    @property
    def text(self) -> str:
        return (
            f"click_days={self.click_days};fingerprint_days={self.fingerprint_days};"
            f"half_life_days={float(self.half_life_days)!r};policy={self.policy}"
        )


@dataclass
class Credit:
    """One touch's share of one order (share 0: a touch this model gives nothing)."""

    order_id: str
    creator_id: str
    campaign_id: str | None
    link_id: str | None
    share: float
    revenue: int  # reporting currency minor units: the order's net split by largest remainder
    new_customer: bool
    customer_hash: str | None
    placed_at: str
    counted: bool  # the order counts as an order (not cancelled, not fully refunded)
    via_click: bool  # this touch is a click id or a fingerprint match
    country: str | None = None  # of the touch's click (None: a code, or no country)
    variant: str | None = None  # the targeting rule or A/B variant of the touch's click
    method: str = "code"
    code: str | None = None
    collab_id: str | None = None  # split from a collaboration's link or code


def kept_touches(rows: list[Row], basis: Basis) -> list[Row]:
    """The order's touches inside the lookbacks, with a winner among them (none: [])."""
    if not rows:
        return []
    placed = rows[0]["placed_at"]
    days = (basis.click_days, basis.fingerprint_days)
    kept = [r for r in rows if within_lookback(r["method"], r["at"], placed, *days)]
    if kept and not any(r["winner"] for r in kept):  # the stored winner fell out
        best = best_of(kept, basis.policy, lambda r: (r["method"], r["at"]))
        kept = [{**r, "winner": int(r is best)} for r in kept]
    return kept


def credit_order(
    kept: list[Row],
    model: str,
    net: int,
    half_life_days: float,
    weights: Mapping[str, float] | None = None,
) -> list[Credit]:
    """One ``Credit`` per kept touch of one order (``kept_touches``); ``net`` in minor units
    of the currency the report reads (converted and rounded once by the caller)."""
    first = kept[0]
    shares = credits(
        [
            Credited(
                r["creator_id"], r["at"], bool(r["winner"]), r["campaign_id"], r["link_id"],
                r["method"],
            )
            for r in kept
        ],
        model,
        first["placed_at"],
        half_life_days,
        weights,
    )  # fmt: skip
    amounts = split(net, shares)
    counted = bool(first.get("counted", 1))
    return [
        Credit(
            r["order_id"],
            r["creator_id"],
            r["campaign_id"],
            r["link_id"],
            share,
            amount,
            bool(r["new_customer"]),
            r["customer_hash"],
            first["placed_at"],
            counted,
            r["method"] in ("click", "fingerprint"),
            r.get("country"),
            r.get("variant"),
            r["method"],
            r.get("code"),
        )
        for r, share, amount in zip(kept, shares, amounts, strict=True)
    ]
