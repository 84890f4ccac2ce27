"""Triage: give an unknown discount code to a creator and re-attribute the orders that
carried it (the panel's orders page; the same service would back an API or CLI action).

A shop often makes codes the tracker was never told about (``WELCOME10``); orders that
carried one are stored with an unmatched code touch and, unless a click explains them, no
creator. Assigning the code creates it like any other code, then every order that carried
it is matched again with the ingest's own rules, so its touches, winner and explanation are
what a fresh delivery would now produce (a click id still beats nothing, a code still beats
a fingerprint, per ``TRACKER_CONFLICT_POLICY``).
"""

from __future__ import annotations

from typing import Any

from tracker import schemas
from tracker.catalogue import codes
from tracker.schemas import validate
from tracker.settings import Settings
from tracker.store import Store
from tracker.store.orders import Matching


def matching(settings: Settings) -> Matching:
    """The lookbacks and conflict policy the ingest uses."""
    return Matching(
        settings.lookback_click_days, settings.lookback_fingerprint_days, settings.conflict_policy
    )


async def reattribute(store: Store, settings: Settings, order_ids: list[str]) -> dict[str, int]:
    """Match these orders again; count how many now have a creator."""
    m = matching(settings)
    attributed = 0
    for order_id in order_ids:
        result = await store.rematch_order(order_id, m)
        attributed += result["creator_id"] is not None
    return {"orders": len(order_ids), "attributed": attributed}


async def assign_code(store: Store, settings: Settings, fields: dict[str, Any]) -> dict[str, Any]:
    """Create ``fields['code']`` for ``fields['creator_id']`` (id or handle; campaign and
    value optional, validated as any new code) and re-attribute the orders that carried it."""
    model = validate(schemas.CodeIn, fields)
    code = await codes.create_code(store, schemas.to_row(model))
    counts = await reattribute(store, settings, await store.orders_with_code(code["code"]))
    return {"code": code, **counts}
