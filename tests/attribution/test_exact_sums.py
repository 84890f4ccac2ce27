"""Exact sums: every model's report rows add up to the attributed revenue to the minor unit.

The property is checked twice: on the pure credit split over a few hundred random multi-touch
orders per example (hypothesis), and end to end over HTTP with 300 random signed generic
orders in three currencies, with refunds and cancellations, in every report dimension and its
CSV, under every model, on both engines.
"""

from __future__ import annotations

import csv
import io
import random
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import make_settings, running
from tests.postback_helpers import dumps, generic_headers
from tracker.attribution.credit import MODELS, split
from tracker.core import clock
from tracker.core.money import convert
from tracker.reports.build import DIMENSIONS, Params, order_credits

RATES = {"EUR": 1.08, "JPY": 0.0067}
CREATORS = [f"cr{i}" for i in range(6)]


@given(
    amount=st.integers(min_value=-(10**12), max_value=10**12),
    shares=st.lists(st.floats(min_value=0, max_value=1), min_size=1, max_size=12),
)
def test_split_is_exact_and_fair(amount: int, shares: list[float]) -> None:
    parts = split(amount, shares)
    if sum(shares) == 0:
        assert parts == [0] * len(shares)
        return
    assert sum(parts) == amount
    total = sum(shares)
    for part, share in zip(parts, shares, strict=True):
        assert abs(part - amount * share / total) < 1 + 1e-6 * abs(amount)


touch = st.fixed_dictionaries(
    {
        "creator_id": st.sampled_from(CREATORS),
        "method": st.sampled_from(["code", "click", "fingerprint"]),
        "age_hours": st.floats(min_value=0, max_value=24 * 40),
        "link_id": st.sampled_from([None, "lk1", "lk2", "lk3"]),
        "campaign_id": st.sampled_from([None, "cp1", "cp2"]),
    }
)
order = st.fixed_dictionaries(
    {
        "net_minor": st.integers(min_value=0, max_value=10**9),
        "currency": st.sampled_from(["USD", "EUR", "JPY"]),
        "touches": st.lists(touch, min_size=1, max_size=6),
        "winner": st.integers(min_value=0, max_value=5),
    }
)


@settings(
    max_examples=5,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(orders=st.lists(order, min_size=200, max_size=400), model=st.sampled_from(MODELS))
def test_credits_add_up_exactly_per_order_and_per_key(
    orders: list[dict[str, Any]], model: str
) -> None:
    placed = datetime(2026, 6, 1, tzinfo=UTC)
    rows = []
    for n, o in enumerate(orders):
        win = o["winner"] % len(o["touches"])
        for i, t in enumerate(o["touches"]):
            rows.append(
                {
                    "order_id": f"o{n}",
                    "method": t["method"],
                    "creator_id": t["creator_id"],
                    "link_id": t["link_id"],
                    "campaign_id": t["campaign_id"],
                    "at": clock.to_iso(placed - timedelta(hours=t["age_hours"])),
                    "winner": int(i == win),
                    "placed_at": clock.to_iso(placed),
                    "net_minor": o["net_minor"],
                    "currency": o["currency"],
                    "new_customer": 0,
                    "customer_hash": None,
                    "counted": 1,
                }
            )
    p = Params(
        placed.date(), placed.date(), model, 7.0, 30, 7, "USD", RATES, (("nano", 0),), "code"
    )
    credits, missing = order_credits(rows, p)
    assert not missing
    by_order: dict[str, int] = defaultdict(int)
    by_key: dict[str | None, int] = defaultdict(int)
    for c in credits:
        by_order[c.order_id] += c.revenue
        by_key[c.link_id] += c.revenue
    expected = {}
    for n, o in enumerate(orders):
        if any(
            t["method"] == "code" or t["age_hours"] <= 24 * (30 if t["method"] == "click" else 7)
            for t in o["touches"]
        ):
            expected[f"o{n}"] = round(convert(o["net_minor"], o["currency"], "USD", RATES) or 0)
    assert dict(by_order) == {k: v for k, v in expected.items()}
    assert sum(by_key.values()) == sum(expected.values())


# -- end to end ---------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_every_report_and_csv_adds_up_exactly(tmp_path: Path, database_url: str) -> None:
    rng = random.Random(14)
    env = {
        "TRACKER_FX_RATES": "EUR=1.08,JPY=0.0067",
        "TRACKER_TRUSTED_PROXIES": "203.0.113.7/32",
        "TRACKER_REMATCH_INTERVAL_SECONDS": "0",
    }
    async with running(make_settings(tmp_path, database_url, **env)) as live:
        auth = await live.token()
        c = live.client
        camp = (await c.post("/api/v1/campaigns", headers=auth, json={"name": "spring"})).json()
        click_ids = []
        for i in range(6):
            handle = f"c{i}"
            followers = rng.choice([900, 12_000, 150_000, 2_000_000])
            await c.post(
                "/api/v1/creators",
                headers=auth,
                json={"handle": handle, "followers": followers, "category": rng.choice(["a", "b"])},
            )
            await c.post(
                "/api/v1/codes", headers=auth, json={"code": f"C{i}", "creator_id": handle}
            )
            for j in range(2):
                body = {
                    "destination": "https://shop.example.com/",
                    "slug": f"{handle}l{j}",
                    "creator_id": handle,
                    "content_type": rng.choice(["", "reel", "story"]),
                }
                if j:
                    body["campaign_id"] = camp["id"]
                assert (await c.post("/api/v1/links", headers=auth, json=body)).status_code == 201
                for _ in range(2):
                    r = await c.get(
                        f"/{handle}l{j}",
                        headers={
                            "user-agent": "Mozilla/5.0 (iPhone) Safari/604.1",
                            "x-forwarded-for": f"198.51.{i}.{rng.randrange(256)}",
                        },
                    )
                    click_ids.append(r.headers["location"].split("cl_cid=")[1].split("&")[0])
        await live.flush()
        secret = (
            await c.post("/api/v1/shops", headers=auth, json={"slug": "g", "platform": "generic"})
        ).json()["secret"]
        now = datetime.now(UTC)
        for n in range(300):
            currency = rng.choice(["USD", "EUR", "JPY"])
            total = rng.randrange(1, 50_000) if currency != "JPY" else rng.randrange(1, 5_000_000)
            order: dict[str, Any] = {
                "order_id": f"o{n}",
                "created_at": clock.to_iso(now - timedelta(minutes=rng.randrange(60 * 24 * 5))),
                "currency": currency,
                "total_minor": total,
                "discount_codes": rng.sample([f"C{i}" for i in range(6)], rng.randrange(0, 3)),
                "status": rng.choice(["paid"] * 8 + ["cancelled", "partially_refunded"]),
            }
            if rng.random() < 0.7:
                order["click_id"] = rng.choice(click_ids)
            if rng.random() < 0.5:
                order["landing_url"] = f"/p?cl_cid={rng.choice(click_ids)}"
            if order["status"] == "partially_refunded":
                order["refunds"] = [{"id": "r1", "amount_minor": rng.randrange(0, total + 1)}]
            body = dumps(order)
            r = await c.post(
                "/postbacks/generic/g",
                content=body,
                headers=generic_headers(body, secret, f"msg_{uuid.uuid4().hex}"),
            )
            assert r.status_code == 200, r.text
        attributed = await live.store.db.fetch_all(
            "SELECT net_minor, currency FROM orders WHERE creator_id IS NOT NULL"
        )
        expected = sum(
            round(
                convert(int(o["net_minor"]), o["currency"], "USD", {"EUR": 1.08, "JPY": 0.0067})
                or 0
            )
            for o in attributed
        )
        assert expected > 0
        start = (now - timedelta(days=10)).date().isoformat()
        for model in MODELS:
            for dimension in DIMENSIONS:
                q = {"model": model, "start": start}
                data = (await c.get(f"/api/v1/reports/{dimension}", headers=auth, params=q)).json()
                assert sum(r["revenue_minor"] for r in data["rows"]) == expected, (model, dimension)
                assert data["totals"]["revenue_minor"] == expected
                text = (
                    await c.get(f"/api/v1/reports/{dimension}.csv", headers=auth, params=q)
                ).text
                header, *lines = list(csv.reader(io.StringIO(text)))
                col = header.index("revenue_minor")
                *rows, total = lines
                assert sum(int(r[col]) for r in rows) == int(total[col]) == expected
