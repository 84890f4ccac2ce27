"""Fraud flags (issue 18): each flag with its evidence; a flag holds the commission out of
approval until a person clears it (approved next run) or confirms it (voided, clawed back
after approval); on both engines."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import running
from tests.events_helpers import Shop, fast
from tracker.settings import Settings

pytestmark = pytest.mark.anyio
OLD = "2026-09-01T10:00:00Z"
UA = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148 Instagram 309.0"


async def flags(shop: Shop, **q: str) -> list[dict[str, Any]]:
    r = await shop.live.client.get("/api/v1/fraud/flags", headers=shop.auth, params=q)
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


async def ledger_sum(shop: Shop, order_id: str, bucket: str | None = None) -> int:
    r = await shop.live.client.get(
        "/api/v1/commissions", headers=shop.auth, params={"order": order_id}
    )
    return sum(
        e["amount_minor"] for e in r.json()["items"] if bucket is None or e["bucket"] == bucket
    )


async def approve(shop: Shop) -> int:
    r = await shop.live.client.post("/api/v1/commissions/approve", headers=shop.auth)
    n: int = r.json()["approved"]
    return n


async def review(shop: Shop, flag_id: str, decision: str) -> Any:
    return await shop.live.client.post(
        f"/api/v1/fraud/flags/{flag_id}/review",
        headers=shop.auth,
        json={"decision": decision, "note": "checked the order"},
    )


async def make(live: Any) -> Shop:
    shop = await Shop.make(live)
    for handle in ("maya", "bob"):
        r = await live.client.post(
            "/api/v1/commissions/rules",
            headers=shop.auth,
            json={"creator_id": handle, "rate_percent": "10"},
        )
        assert r.status_code == 201
    return shop


async def test_self_referral_is_held_until_cleared(settings: Settings) -> None:
    async with running(fast(settings)) as live:
        shop = await make(live)
        r = await live.client.post(
            "/api/v1/fraud/identities",
            headers=shop.auth,
            json={"creator_id": "maya", "email": "maya.creator@example.com"},
        )
        assert r.status_code == 201
        rows = await live.store.db.fetch_all("SELECT * FROM creator_identities")
        assert "example.com" not in repr(rows)  # only the keyed hash is kept
        own = await shop.order("S-1", created_at=OLD, customer_email="Maya.Creator@Example.com ")
        fine = await shop.order("S-2", created_at=OLD, customer_email="someone@example.org")
        [flag] = await flags(shop)
        assert flag["kind"] == "self_referral" and flag["order_id"] == own["order_id"]
        assert flag["status"] == "open" and flag["creator_handle"] == "maya"
        assert "@maya's own" in flag["evidence"]["summary"]
        assert await approve(shop) == 1  # S-2 only: S-1 is held
        assert await ledger_sum(shop, fine["order_id"], "approved") == 500
        assert await ledger_sum(shop, own["order_id"], "approved") == 0
        assert (await review(shop, flag["id"], "clear")).json()["status"] == "cleared"
        assert (await review(shop, flag["id"], "confirm")).status_code == 409
        assert await approve(shop) == 1
        assert await ledger_sum(shop, own["order_id"], "approved") == 500
        assert (await review(shop, "ff_nope", "clear")).status_code == 404


async def test_velocity_flags_the_whole_burst_and_confirm_claws_back(settings: Settings) -> None:
    async with running(fast(settings)) as live:
        shop = await make(live)
        device = {"ip": "198.51.100.23", "user_agent": UA, "discount_codes": ["BOB10"]}
        ids = []
        for i in range(4):
            at = f"2026-09-01T1{i}:00:00Z"
            ids.append((await shop.order(f"V-{i}", created_at=at, **device))["order_id"])
        other = await shop.order(
            "V-x", created_at=OLD, discount_codes=["BOB10"], ip="203.0.113.9", user_agent=UA
        )
        assert await flags(shop) == []
        assert await approve(shop) == 5  # four from one device, one elsewhere: no flag yet
        ids.append(
            (await shop.order("V-4", created_at="2026-09-01T14:00:00Z", **device))["order_id"]
        )
        found = await flags(shop, status="open")
        assert sorted(f["order_id"] for f in found) == sorted(ids)  # the whole burst
        assert all(f["kind"] == "velocity" for f in found)
        ev = found[0]["evidence"]
        assert ev["orders"] == [f"V-{i}" for i in range(5)]
        assert "5 orders from one device/network fingerprint credited to @bob" in ev["summary"]
        assert await approve(shop) == 0  # V-4 is held
        by_order = {f["order_id"]: f for f in found}
        # confirming an approved order claws its commission back
        r = await review(shop, by_order[ids[0]]["id"], "confirm")
        assert r.json()["status"] == "confirmed"
        assert await ledger_sum(shop, ids[0]) == 0
        assert await ledger_sum(shop, ids[0], "approved") == 0
        events = await live.client.get("/api/v1/events?type=commission.reversed", headers=shop.auth)
        [reversed_] = events.json()["items"]
        assert reversed_["body"]["data"]["amount_minor"] == -500
        assert reversed_["body"]["data"]["order_id"] == ids[0]
        for oid in ids[1:]:
            await review(shop, by_order[oid]["id"], "clear")
        assert await approve(shop) == 1  # V-4
        assert await ledger_sum(shop, ids[4], "approved") == 500
        assert await ledger_sum(shop, other["order_id"]) == 500
        # a confirmed order stays void when it changes again
        await shop.order("V-0", created_at="2026-09-01T10:00:00Z", total_minor=9000, **device)
        assert await ledger_sum(shop, ids[0]) == 0


async def test_duplicate_customer_is_held_until_cleared(settings: Settings) -> None:
    async with running(fast(settings)) as live:
        shop = await make(live)
        first = await shop.order("D-1", created_at=OLD, customer_email="sam@example.net")
        second = await shop.order(
            "D-2",
            created_at="2026-09-05T10:00:00Z",
            customer_email="sam@example.net",
            discount_codes=["BOB10"],
        )
        [flag] = await flags(shop)
        assert flag["kind"] == "duplicate_customer" and flag["order_id"] == second["order_id"]
        assert flag["evidence"]["other_creators"] == ["maya"]
        assert "credited to @maya within 30 days" in flag["evidence"]["summary"]
        assert await approve(shop) == 1  # D-1 (the first credit is not suspect)
        assert await ledger_sum(shop, first["order_id"], "approved") == 500
        await review(shop, flag["id"], "clear")
        assert await approve(shop) == 1
        assert await flags(shop, status="open") == []
        assert len(await flags(shop, status="cleared")) == 1
        bad = await live.client.get("/api/v1/fraud/flags?status=maybe", headers=shop.auth)
        assert bad.status_code == 400
