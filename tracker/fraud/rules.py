"""Fraud rules, pure: thresholds and the evidence each flag explains itself with.

- ``self_referral``: the order's customer (keyed email hash) is one of the credited
  creator's own identities (registered with ``POST /api/v1/fraud/identities``).
- ``velocity``: at least ``velocity_orders`` orders credited to the same creator from one
  device/network fingerprint, or one customer, within ``velocity_hours``.
- ``duplicate_customer``: the same customer's orders were credited to other creators within
  ``duplicate_days``.

A flag holds the order's commission out of approval until a person reviews it: ``clear``
lets it be approved, ``confirm`` voids it (the ledger writes the reversing entries).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tracker.settings import Settings

KINDS = ("self_referral", "velocity", "duplicate_customer")
DECISIONS = {"clear": "cleared", "confirm": "confirmed"}


@dataclass(frozen=True)
class Policy:
    velocity_orders: int = 5
    velocity_hours: int = 24
    duplicate_days: int = 30

    @classmethod
    def from_settings(cls, s: Settings) -> Policy:
        return cls(s.fraud_velocity_orders, s.fraud_velocity_hours, s.fraud_duplicate_days)


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
