"""The ``far_from_clicks`` flag (issue 18): a code redemption whose shopper clicked none of
the creator's links in the window, with a second sign that the code travelled (a coupon-site
referrer, or clicks on other creators' links); its evidence; the hold until cleared; the
"all" mode and the off switch. Real clicks through the redirect, signed postbacks, both
engines."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest

from tests.admin.test_admin import logged_in
from tests.conftest import running
from tests.events_helpers import Shop, fast
from tests.fraud.test_fraud import approve, flags, ledger_sum, make, review
from tracker.core import clock
from tracker.fraud import rules
from tracker.settings import Settings

pytestmark = pytest.mark.anyio
AGENTS = [
    line
    for line in (Path(__file__).parents[1] / "fixtures/user-agents/in-app.txt")
    .read_text()
    .splitlines()
    if "iPhone" in line
]
CLIENT_IP = "203.0.113.7"  # the test client's address (no trusted proxy): its /24 is ours


async def click(shop: Shop, slug: str, agent: str) -> None:
    r = await shop.live.client.get(f"/{slug}", headers={"user-agent": agent})
    assert r.status_code == 302, r.text
    await shop.live.flush()


async def buy(shop: Shop, order_id: str, agent: str, **fields: Any) -> str:
    fields.setdefault("discount_codes", ["MAYA10"])
    out = await shop.order(
        order_id, created_at=clock.now_iso(), ip=CLIENT_IP, user_agent=agent, **fields
    )
    return str(out["order_id"])


async def test_far_from_clicks_with_evidence_held_until_cleared(settings: Settings) -> None:
    a, b, c, d = AGENTS[:4]
    async with running(fast(settings)) as live:
        shop = await make(live)
        for handle in ("maya", "bob"):
            r = await live.client.post(
                "/api/v1/links",
                headers=shop.auth,
                json={
                    "destination": "https://shop.example.com/",
                    "slug": handle,
                    "creator_id": handle,
                },
            )
            assert r.status_code == 201, r.text
        await click(shop, "bob", a)  # shopper a clicked bob's link twice...
        await click(shop, "bob", a)
        poached = await buy(shop, "F-1", a)  # ...then used maya's code
        await click(shop, "maya", b)  # shopper b clicked maya's link: not far
        near = await buy(shop, "F-2", b)
        honest = await buy(shop, "F-3", c)  # no click anywhere: a follower typing the code
        leaked = await buy(
            shop, "F-4", d, referring_site="https://www.retailmenot.com/view/shop.example.com"
        )
        # bob's code by shopper b, who clicked maya's link only: far from bob, near maya
        crossed = await buy(shop, "F-5", b, discount_codes=["BOB10"])

        found = {f["order_id"]: f for f in await flags(shop, status="open")}
        assert sorted(found) == sorted([poached, leaked, crossed])
        assert {f["kind"] for f in found.values()} == {"far_from_clicks"}
        ev = found[poached]["evidence"]
        assert ev["codes"] == ["MAYA10"] and ev["window_days"] == 30
        assert ev["other_creators"] == ["bob"] and ev["other_clicks"][0]["clicks"] == 2
        assert ev["coupon_site"] is None and ev["clicks_on_creator_links"] == 0
        assert ev["summary"] == (
            "code MAYA10 redeemed with no click on @maya's links from this device/network in "
            "the 30 days before: this device/network clicked @bob (2 clicks) instead"
        )
        ev = found[leaked]["evidence"]
        assert ev["coupon_site"] == "www.retailmenot.com" and ev["other_creators"] == []
        assert "arrived from the coupon site www.retailmenot.com" in ev["summary"]
        assert found[crossed]["evidence"]["other_creators"] == ["maya"]
        assert found[crossed]["creator_handle"] == "bob"
        # the panel lists them (filtered by kind, paged) and exports exactly those rows
        await logged_in(live)
        page = await live.client.get("/admin/fraud?kind=far_from_clicks")
        assert "1\u20133 of 3" in page.text and "clicked @bob (2 clicks)" in page.text
        rows = list(
            csv.DictReader(
                io.StringIO(
                    (await live.client.get("/admin/fraud?kind=far_from_clicks&format=csv")).text
                )
            )
        )
        assert sorted(r["Order"] for r in rows) == ["F-1", "F-4", "F-5"]
        assert {r["Flag"] for r in rows} == {"far from clicks"}
        none = await live.client.get("/admin/fraud?kind=velocity")
        assert "No open flag." in none.text

        # held: the next approval run (with the window passed) skips the two flagged orders
        later = clock.now() + 31 * 86400
        from tracker.commissions import ledger

        done = await ledger.approve_due(live.store, live.state.settings, now=later)
        assert sorted(e["order_id"] for e in done) == sorted([near, honest])
        assert (await review(shop, found[poached]["id"], "clear")).status_code == 200
        assert (await review(shop, found[leaked]["id"], "confirm")).status_code == 200
        done = await ledger.approve_due(live.store, live.state.settings, now=later)
        assert [e["order_id"] for e in done] == [poached]  # F-5 still held
        assert await ledger_sum(shop, poached, "approved") == 500
        assert await ledger_sum(shop, leaked) == 0  # confirmed: void
        assert await approve(shop) == 0


def test_far_rule_modes_and_signs() -> None:
    signal, every = rules.Policy(), rules.Policy(far_mode="all", far_days=7)
    bob = [{"handle": "bob", "clicks": 1, "last_click_at": "2026-11-29T10:00:00Z"}]
    # a follower who typed the code: no sign, no flag (unless every far redemption is wanted)
    assert (
        rules.far_from_clicks("maya", ["M"], signal, fingerprint=True, others=[], site=None) is None
    )
    ev = rules.far_from_clicks("maya", ["M"], every, fingerprint=True, others=[], site=None)
    assert ev is not None and ev["summary"].endswith("in the 7 days before")
    # no fingerprint: only a coupon site says where the shopper came from
    assert (
        rules.far_from_clicks("maya", ["M"], every, fingerprint=False, others=[], site=None) is None
    )
    ev = rules.far_from_clicks("maya", [], signal, fingerprint=False, others=[], site="honey.com")
    assert ev is not None and ev["clicks_on_creator_links"] is None
    assert ev["summary"] == (
        "a code redeemed with no click id or device known: the shopper arrived from the "
        "coupon site honey.com"
    )
    ev = rules.far_from_clicks("maya", ["M"], signal, fingerprint=True, others=bob, site=None)
    assert ev is not None and ev["other_creators"] == ["bob"]
    assert rules.coupon_site("https://www.RetailMeNot.com/x") == "www.retailmenot.com"
    assert rules.coupon_site("https://www.instagram.com/") is None
    assert rules.coupon_site(None) is None


async def test_far_flag_off(settings: Settings) -> None:
    import dataclasses

    async with running(fast(dataclasses.replace(settings, fraud_far_days=0))) as live:
        shop = await make(live)
        await buy(shop, "O-1", AGENTS[0], referring_site="https://slickdeals.net/f/1")
        assert await flags(shop) == []
