"""Fraud rules, pure: thresholds and the evidence each flag explains itself with.

- ``self_referral``: the order's customer (keyed email hash) is one of the credited
  creator's own identities (registered with ``POST /api/v1/fraud/identities``).
- ``velocity``: at least ``velocity_orders`` orders credited to the same creator from one
  device/network fingerprint, or one customer, within ``velocity_hours``.
- ``duplicate_customer``: the same customer's orders were credited to other creators within
  ``duplicate_days``.
- ``far_from_clicks``: an order credited by the creator's code alone whose shopper (device
  and /24 network fingerprint) made no human click on any of the creator's links within
  ``far_days`` before it. Most honest code redemptions look like that (a follower types the
  code they heard), so by default (``far_mode = "signal"``) the flag also needs a second
  sign that the code travelled: the shopper arrived from a coupon site, or clicked other
  creators' links in that window (and not this creator's). ``far_mode = "all"`` flags every
  far redemption with a known fingerprint. Without a fingerprint only the coupon-site sign
  counts. The country of the order against the clicks' countries is not compared yet.

A flag holds the order's commission out of approval until a person reviews it: ``clear``
lets it be approved, ``confirm`` voids it (the ledger writes the reversing entries).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tracker.settings import Settings

KINDS = ("self_referral", "velocity", "duplicate_customer", "far_from_clicks")
#: Referrer hosts of coupon and cash-back sites (a code found there has escaped its creator).
COUPON_SITES = (
    "retailmenot",
    "honey",
    "joinhoney",
    "coupons.com",
    "couponfollow",
    "dealspotr",
    "slickdeals",
    "groupon",
    "wethrift",
    "knoji",
    "couponcabin",
    "capitaloneshopping",
    "rakuten",
    "couponbirds",
    "promocodes",
    "vouchercodes",
    "savings.com",
)
DECISIONS = {"clear": "cleared", "confirm": "confirmed"}


@dataclass(frozen=True)
class Policy:
    velocity_orders: int = 5
    velocity_hours: int = 24
    duplicate_days: int = 30
    far_days: int = 30
    far_mode: str = "signal"  # or "all"

    @classmethod
    def from_settings(cls, s: Settings) -> Policy:
        return cls(
            s.fraud_velocity_orders,
            s.fraud_velocity_hours,
            s.fraud_duplicate_days,
            s.fraud_far_days,
            s.fraud_far_mode,
        )


def coupon_site(referring_site: str | None) -> str | None:
    """The coupon site a referrer belongs to (its host as given), or None."""
    site = (referring_site or "").strip().lower()
    if site and any(s in site for s in COUPON_SITES):
        host = site.split("://", 1)[-1].split("/", 1)[0]
        return host[:200] or site[:200]
    return None


def self_referral(handle: str, registered_at: str) -> dict[str, Any]:
    return {
        "summary": f"the customer's email hash is @{handle}'s own (registered {registered_at[:10]})",
    }


def velocity(handle: str, what: str, orders: list[str], hours: int) -> dict[str, Any]:
    return {
        "summary": f"{len(orders)} orders from one {what} credited to @{handle} within {hours} h",
        "orders": orders,
    }


def duplicate_customer(others: list[str], days: int) -> dict[str, Any]:
    names = ", ".join(f"@{h}" for h in others)
    return {
        "summary": f"the same customer's orders were credited to {names} within {days} days",
        "other_creators": others,
    }


def far_from_clicks(
    handle: str,
    codes: list[str],
    policy: Policy,
    *,
    fingerprint: bool,
    others: list[dict[str, Any]],
    site: str | None,
) -> dict[str, Any] | None:
    """Evidence of a code redemption far from the creator's clicks, or None (no flag).
    ``others``: other creators whose links this shopper clicked in the window (handle,
    clicks, last_click_at); ``site``: the coupon site the shopper arrived from."""
    if not fingerprint and site is None:
        return None  # nothing says where the shopper was
    if policy.far_mode != "all" and site is None and not others:
        return None
    code = f"code {', '.join(codes)}" if codes else "a code"
    if fingerprint:
        head = (
            f"{code} redeemed with no click on @{handle}'s links from this "
            f"device/network in the {policy.far_days} days before"
        )
    else:
        head = f"{code} redeemed with no click id or device known"
    why = []
    if site:
        why.append(f"the shopper arrived from the coupon site {site}")
    if others:
        names = ", ".join(f"@{o['handle']} ({o['clicks']} clicks)" for o in others[:5])
        why.append(f"this device/network clicked {names} instead")
    return {
        "summary": head + (": " + "; ".join(why) if why else ""),
        "codes": codes,
        "window_days": policy.far_days,
        "clicks_on_creator_links": 0 if fingerprint else None,
        "coupon_site": site,
        "other_creators": [o["handle"] for o in others],
        "other_clicks": others,
    }
