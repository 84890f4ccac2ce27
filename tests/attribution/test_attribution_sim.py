"""The simulated world (bench/attribution_sim.py), small and fast, on both engines: the
product must beat the code-only baseline by a wide margin without losing precision.

The world: creators, shoppers with phones and desktops, carrier /24 blocks shared by many
phones, identical iOS user agents, cross-device buyers, Shopify/WooCommerce/generic shops in
USD/EUR/JPY, refunds, cancellations, out-of-order edits, replays, late clicks re-matched.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.attribution_sim import settings_for, simulate

pytestmark = pytest.mark.anyio


async def test_simulated_world_accuracy_and_precision(tmp_path: Path, database_url: str) -> None:
    figures = await simulate(settings_for(tmp_path, database_url), shoppers=400, seed=7)
    print(f"\nsimulated world ({database_url.split(':')[0]}): {figures}")
    product, baseline = figures["product"], figures["code_only_baseline"]
    assert figures["counted_orders"] >= 60
    assert product["accuracy_pct"] >= baseline["accuracy_pct"] + 20
    assert product["recall_pct"] >= 65 and product["recall_pct"] >= baseline["recall_pct"] + 25
    assert product["precision_pct"] >= 88
    assert figures["fingerprint_orders"] >= 5
    assert figures["fingerprint_true_precision_pct"] >= 70
    assert figures["fingerprint_precision_estimate_pct"] is not None
