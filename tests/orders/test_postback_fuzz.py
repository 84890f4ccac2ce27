"""Property tests: random and hostile postbacks never produce a 5xx, and change nothing
unless validly signed."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import make_settings, running
from tests.postback_helpers import SHOPIFY_BODY, SHOPIFY_SECRET, WOO_BODY, dumps, shopify_headers

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)
BASES = {"s": json.loads(SHOPIFY_BODY), "w": json.loads(WOO_BODY), "g": json.loads(WOO_BODY)}
PLATFORMS = {"s": "shopify", "w": "woocommerce", "g": "generic"}
FIELDS = [
    "id",
    "created_at",
    "updated_at",
    "currency",
    "total_price",
    "total_price_set",
    "total",
    "discount_codes",
    "coupon_lines",
    "refunds",
    "landing_site",
    "note_attributes",
    "meta_data",
    "customer",
    "client_details",
    "cancelled_at",
    "financial_status",
    "status",
    "current_total_price",
    "date_created_gmt",
    "date_modified_gmt",
    "order_id",
]
Example = tuple[str, bytes, dict[str, str], bool]


def collect_examples(n: int) -> list[Example]:
    examples: list[Example] = []

    @settings(max_examples=n, deadline=None, database=None)
    @given(
        changes=st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=4),
        raw=st.binary(max_size=200),
        topic=st.sampled_from(
            [
                "orders/create",
                "orders/updated",
                "refunds/create",
                "customers/redact",
                "shop/redact",
                "order.updated",
                "x",
            ]
        ),
        sign=st.booleans(),
        target=st.sampled_from(["s", "w", "g"]),
    )
    def collect(changes: dict[str, Any], raw: bytes, topic: str, sign: bool, target: str) -> None:
        body = raw if not changes else dumps({**BASES[target], **changes})
        headers = shopify_headers(body, topic=topic)  # signed with the Shopify shop's secret
        headers["X-WC-Webhook-Signature"] = headers["X-Shopify-Hmac-Sha256"]
        headers["X-WC-Webhook-Topic"] = topic
        headers.update(
            {"webhook-id": "m", "webhook-timestamp": "1", "webhook-signature": "v1,eA=="}
        )
        if not sign:
            headers["X-Shopify-Hmac-Sha256"] = "bm9wZQ=="
        valid = sign and target == "s"  # only the Shopify shop has that secret
        examples.append((f"/postbacks/{PLATFORMS[target]}/{target}", body, headers, valid))

    collect()
    return examples


async def counts(store: Any) -> tuple[int, ...]:
    out = []
    for table in ("orders", "touches", "deliveries", "refunds"):
        row = await store.db.fetch_one(f"SELECT COUNT(*) AS n FROM {table}")
        out.append(int(row["n"]))
    return tuple(out)


async def run_examples(tmp_path: Path, examples: list[Example]) -> int:
    ran = 0
    async with running(
        make_settings(
            tmp_path, f"sqlite:///{tmp_path / 'f.db'}", TRACKER_POSTBACK_FAILURES_PER_MIN="0"
        )
    ) as live:
        auth = await live.token()
        for slug, platform in PLATFORMS.items():
            body = {"slug": slug, "platform": platform}
            if platform == "shopify":
                body["secret"] = SHOPIFY_SECRET
            r = await live.client.post("/api/v1/shops", headers=auth, json=body)
            assert r.status_code == 201
        for url, body, headers, valid in examples:
            before = await counts(live.store)
            r = await live.client.post(url, content=body, headers=headers)
            ran += 1
            assert r.status_code < 500, (url, body[:300], r.text)
            if not valid or r.status_code >= 400:
                assert await counts(live.store) == before, (url, body[:300], r.status_code)
    return ran


def test_random_and_hostile_postbacks(tmp_path: Path) -> None:
    ran = asyncio.run(
        run_examples(
            tmp_path, collect_examples(int(os.environ.get("TRACKER_TEST_FUZZ_EXAMPLES", "300")))
        )
    )
    print(f"fuzzed postbacks: {ran} cases")
    assert ran >= 300
