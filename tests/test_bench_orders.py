"""``bench/order_statements.py`` must not rot: it counts the statements of each signed
Shopify order and the flags its shopper mixes raise. No timing is asserted."""

from __future__ import annotations

import pytest

from bench.order_statements import run

pytestmark = pytest.mark.anyio


async def test_order_statements_counts_each_mix() -> None:
    lone = await run(12, 4, "no-device")
    device = await run(12, 4, "own-device")
    burst = await run(12, 1, "one-device")  # one creator, one phone
    assert 10 < lone["statements_per_order"] < device["statements_per_order"] < 40
    assert lone["fraud_flags"] == device["fraud_flags"] == 0
    assert burst["fraud_flags"] == 12  # velocity: the fifth flags the first five, then each
    assert lone["by_kind"]["BEGIN"] == 1.0  # one transaction per order (sent one by one)
