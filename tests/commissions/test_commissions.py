"""The commissions ledger (issue 18): hand-computed cases, clawbacks after approval, the
refund window, statements (JSON = CSV), payouts, and a few hundred generated orders whose
ledger always sums to the commission on their current net revenue; on both engines."""

from __future__ import annotations

import csv
import io
import random
from typing import Any

import pytest

from tests.conftest import running
from tests.events_helpers import Shop, fast
from tracker.commissions import ledger
from tracker.commissions.terms import Terms, pick
from tracker.core import clock
from tracker.settings import Settings

pytestmark = pytest.mark.anyio
OLD = "2026-09-01T10:00:00Z"  # well past the 30-day window
LATER = clock.parse("2026-11-20T10:00:00Z").timestamp() + 31 * 86400  # after Nov 20's window


def test_terms_round_half_up_and_pick_the_most_specific_latest_rule() -> None:
    assert Terms(1000, None, None).earn(4999, "EUR") == (500, "EUR")  # 499.9
    assert Terms(500, None, None).earn(3333, "EUR") == (167, "EUR")  # 166.65
    assert Terms(500, None, None).earn(3330, "EUR") == (167, "EUR")  # 166.5 -> half up
    assert Terms(500, None, None).earn(3329, "EUR") == (166, "EUR")  # 166.45
    assert Terms(None, 250, "USD").earn(1, "EUR") == (250, "USD")
    assert Terms(None, 250, "USD").earn(0, "EUR") == (0, "USD")
    rules = [
        {
            "campaign_id": None,
            "rate_bp": 1000,
            "fixed_minor": None,
            "currency": None,
            "effective_from": "2026-01-01",
        },
        {
            "campaign_id": None,
            "rate_bp": 2000,
            "fixed_minor": None,
            "currency": None,
            "effective_from": "2026-11-01",
        },
        {
            "campaign_id": "cp1",
            "rate_bp": None,
            "fixed_minor": 250,
            "currency": "EUR",
            "effective_from": "2026-01-01",
        },
    ]
    assert pick(rules, None, "2026-10-31T23:00:00Z") == Terms(1000, None, None)
    assert pick(rules, None, "2026-11-01T00:00:00Z") == Terms(2000, None, None)
    assert pick(rules, "cp1", "2026-11-05T00:00:00Z") == Terms(None, 250, "EUR")
    assert pick(rules, "cp2", "2026-11-05T00:00:00Z") == Terms(2000, None, None)
    assert pick(rules, None, "2025-12-31T00:00:00Z") is None


async def entries(live: Any, auth: dict[str, str], **q: str) -> list[dict[str, Any]]:
    """The whole ledger (or an order's), page by page."""
    out: list[dict[str, Any]] = []
    while True:
        params = {"limit": 1000, "offset": len(out), **q}
        r = await live.client.get("/api/v1/commissions", headers=auth, params=params)
        assert r.status_code == 200, r.text
        out += r.json()["items"]
        if len(r.json()["items"]) < 1000:
            return out


def kinds(rows: list[dict[str, Any]]) -> list[tuple[str, str, int]]:
    return [(e["kind"], e["bucket"], e["amount_minor"]) for e in rows]


async def test_ledger_hand_computed(settings: Settings) -> None:
    async with running(fast(settings)) as live:
        shop = await Shop.make(live)
        c, auth = live.client, shop.auth
        r = await c.post("/api/v1/campaigns", headers=auth, json={"name": "spring"})
        assert r.status_code == 201, r.text
        r = await c.post(
            "/api/v1/codes",
            headers=auth,
            json={"code": "BOBSPRING", "creator_id": "bob", "campaign_id": "spring"},
        )
        assert r.status_code == 201, r.text
        for rule in (
            {"creator_id": "maya", "rate_percent": "10", "effective_from": "2026-01-01"},
            {"creator_id": "maya", "rate_percent": "20", "effective_from": "2026-11-01"},
            {"creator_id": "bob", "rate_percent": "5"},
            {"creator_id": "bob", "campaign_id": "spring", "fixed_minor": 250, "currency": "EUR"},
        ):
            r = await c.post("/api/v1/commissions/rules", headers=auth, json=rule)
            assert r.status_code == 201, r.text
        bad = await c.post(
            "/api/v1/commissions/rules",
            headers=auth,
            json={"creator_id": "maya", "rate_percent": "10", "fixed_minor": 5, "currency": "EUR"},
        )
        assert bad.status_code == 422

        m1 = (await shop.order("M-1", created_at=OLD))["order_id"]  # 10% of 49.99
        m2 = (await shop.order("M-2", total_minor=10000))["order_id"]  # Nov 20: 20%
        b1 = (
            await shop.order("B-1", created_at=OLD, total_minor=1000, discount_codes=["BOBSPRING"])
        )["order_id"]
        b2 = (await shop.order("B-2", created_at=OLD, total_minor=3333, discount_codes=["BOB10"]))[
            "order_id"
        ]
        await shop.order("U-1", created_at=OLD, discount_codes=[])  # no creator: no entry
        assert kinds(await entries(live, auth, order=m1)) == [("accrual", "pending", 500)]
        assert kinds(await entries(live, auth, order=m2)) == [("accrual", "pending", 2000)]
        assert kinds(await entries(live, auth, order=b1)) == [("accrual", "pending", 250)]
        assert kinds(await entries(live, auth, order=b2)) == [("accrual", "pending", 167)]
        assert len(await entries(live, auth)) == 4

        # a refund inside the window: a pending adjustment (20% of 25.00 back)
        await shop.order("M-2", total_minor=10000, refunds=[{"id": "r1", "amount_minor": 2500}])
        assert kinds(await entries(live, auth, order=m2))[-1] == ("adjustment", "pending", -500)

        # approval: the three old orders now, M-2 only after its window
        r = await c.post("/api/v1/commissions/approve", headers=auth)
        assert r.json()["approved"] == 3
        assert kinds(await entries(live, auth, order=m1)) == [
            ("accrual", "pending", 500),
            ("approval", "pending", -500),
            ("approval", "approved", 500),
        ]
        assert (await c.post("/api/v1/commissions/approve", headers=auth)).json()["approved"] == 0
        done = await ledger.approve_due(live.store, live.state.settings, now=LATER)
        assert [(e["order_id"], e["amount_minor"]) for e in done] == [(m2, 1500)]

        # after approval: refund of 19.99 -> clawback of 200; cancellation -> the other 300
        await shop.order("M-1", created_at=OLD, refunds=[{"id": "r1", "amount_minor": 1999}])
        assert kinds(await entries(live, auth, order=m1))[-1] == ("reversal", "approved", -200)
        await shop.order(
            "M-1", created_at=OLD, status="cancelled", refunds=[{"id": "r1", "amount_minor": 1999}]
        )
        assert kinds(await entries(live, auth, order=m1))[-1] == ("reversal", "approved", -300)
        assert sum(e["amount_minor"] for e in await entries(live, auth, order=m1)) == 0

        # re-attribution after approval: bob's 250 is clawed back, maya accrues 10% of 10.00
        await shop.order(
            "B-1",
            created_at=OLD,
            total_minor=1000,
            discount_codes=["MAYA10"],
            updated_at="2026-09-02T00:00:00Z",
        )
        b1_rows = await entries(live, auth, order=b1)
        assert [
            (e["creator_handle"], *k)
            for e, k in zip(b1_rows[-2:], kinds(b1_rows[-2:]), strict=True)
        ] == [
            ("bob", "reversal", "approved", -250),
            ("maya", "accrual", "pending", 100),
        ] or [
            (e["creator_handle"], *k)
            for e, k in zip(b1_rows[-2:], kinds(b1_rows[-2:]), strict=True)
        ] == [
            ("maya", "accrual", "pending", 100),
            ("bob", "reversal", "approved", -250),
        ]

        # events: approvals and clawbacks are in the outbox
        ev = (await c.get("/api/v1/events?type=commission.reversed", headers=auth)).json()["items"]
        assert sorted(e["body"]["data"]["amount_minor"] for e in ev) == [-300, -250, -200]
        ev = (await c.get("/api/v1/events?type=commission.approved", headers=auth)).json()["items"]
        assert sorted(e["body"]["data"]["amount_minor"] for e in ev) == [167, 250, 500, 1500]

        # statement: maya approved 500 + 1500, clawed back 500, pending 100 (B-1)
        st = (await c.get("/api/v1/commissions/statement", headers=auth)).json()["items"]
        by = {r["creator"]: r for r in st}
        assert (by["maya"]["approved_minor"], by["maya"]["reversed_minor"]) == (2000, -500)
        assert (by["maya"]["pending_minor"], by["maya"]["balance_minor"]) == (100, 1500)
        assert (by["bob"]["approved_minor"], by["bob"]["reversed_minor"]) == (417, -250)
        assert (by["bob"]["pending_minor"], by["bob"]["balance_minor"]) == (0, 167)

        # mark paid: the whole balance, then nothing is owed; a clawback makes it negative
        r = await c.post(
            "/api/v1/commissions/payouts",
            headers=auth,
            json={"creator_id": "maya", "currency": "EUR", "reference": "SEPA-2026-11-1"},
        )
        assert r.status_code == 201 and r.json()["amount_minor"] == 1500
        again = await c.post(
            "/api/v1/commissions/payouts",
            headers=auth,
            json={"creator_id": "maya", "currency": "EUR", "reference": "SEPA-2"},
        )
        assert again.status_code == 422
        await shop.order(
            "M-2",
            total_minor=10000,
            refunds=[{"id": "r1", "amount_minor": 2500}, {"id": "r2", "amount_minor": 7500}],
        )
        st = (await c.get("/api/v1/commissions/statement", headers=auth)).json()["items"]
        maya = next(r for r in st if r["creator"] == "maya")
        assert (maya["paid_minor"], maya["balance_minor"]) == (1500, -1500)

        # the CSV statement is the JSON statement
        text = (await c.get("/api/v1/commissions/statement.csv", headers=auth)).text
        rows = list(csv.DictReader(io.StringIO(text)))
        assert [{k: str(v) for k, v in r.items()} for r in st] == rows
        # entries CSV: as many rows as the ledger, same sum
        text = (await c.get("/api/v1/commissions.csv", headers=auth)).text
        csv_rows = list(csv.DictReader(io.StringIO(text)))
        all_rows = await entries(live, auth)
        assert len(csv_rows) == len(all_rows)
        assert sum(int(r["amount_minor"]) for r in csv_rows) == sum(
            e["amount_minor"] for e in all_rows
        )


async def test_generated_orders_ledger_sums_to_commission_on_current_net(
    settings: Settings,
) -> None:
    """200 orders, two creators at 7.5% and 12.5%: refunds before and after approval,
    cancellations, re-attributions. Per order the ledger sums to the commission on its
    current net revenue, to the creator it is credited to now; statements agree."""
    rng = random.Random(18)
    async with running(fast(settings)) as live:
        shop = await Shop.make(live)
        c, auth = live.client, shop.auth
        rates = {"maya": 750, "bob": 1250}
        for handle, bp in rates.items():
            r = await c.post(
                "/api/v1/commissions/rules",
                headers=auth,
                json={"creator_id": handle, "rate_percent": str(bp / 100)},
            )
            assert r.status_code == 201
        codes = {"maya": "MAYA10", "bob": "BOB10"}
        state: dict[str, dict[str, Any]] = {}
        for i in range(200):
            who = rng.choice(["maya", "bob"])
            day = rng.randint(1, 60)
            o = {
                "created_at": clock.iso(
                    clock.parse("2026-09-01T00:00:00Z").timestamp() + day * 86400
                ),
                "total_minor": rng.randint(1, 50_000),
                "discount_codes": [codes[who]],
                "refunds": [],
                "status": "paid",
                "updated_at": "2026-11-01T00:00:00Z",
            }
            state[f"G-{i}"] = o
            await shop.order(f"G-{i}", **o)

        async def mutate(round_: int) -> None:
            for ext, o in state.items():
                roll = rng.random()
                if o["status"] == "cancelled" or roll > 0.3:
                    continue
                o["updated_at"] = f"2026-11-0{round_ + 2}T00:00:00Z"
                if roll < 0.15:
                    paid_back = sum(r["amount_minor"] for r in o["refunds"])
                    left = o["total_minor"] - paid_back
                    if left > 0:
                        o["refunds"] = [
                            *o["refunds"],
                            {"id": f"r{round_}", "amount_minor": rng.randint(1, left)},
                        ]
                elif roll < 0.2:
                    o["status"] = "cancelled"
                else:
                    other = "bob" if o["discount_codes"] == ["MAYA10"] else "maya"
                    o["discount_codes"] = [codes[other]]
                await shop.order(ext, **o)

        await mutate(0)  # before any approval
        approved = await ledger.approve_due(
            live.store, live.state.settings, now=clock.parse("2026-10-15T00:00:00Z").timestamp()
        )
        assert 0 < len(approved) < 200
        await mutate(1)  # some after approval: clawbacks
        await ledger.approve_due(live.store, live.state.settings)
        await mutate(2)

        rows = await entries(live, auth)
        by_order: dict[str, dict[str, int]] = {}
        for e in rows:
            per = by_order.setdefault(e["order_external_id"], {})
            per[e["creator_handle"]] = per.get(e["creator_handle"], 0) + e["amount_minor"]
        reversals = [e for e in rows if e["kind"] == "reversal"]
        assert reversals, "the generated run must include clawbacks after approval"
        for ext, o in state.items():
            who = "maya" if o["discount_codes"] == ["MAYA10"] else "bob"
            net = (
                0
                if o["status"] == "cancelled"
                else o["total_minor"] - sum(r["amount_minor"] for r in o["refunds"])
            )
            expected = (net * rates[who] + 5000) // 10000
            got = by_order.get(ext, {})
            assert got.get(who, 0) == expected, (ext, o, got)
            assert all(v == 0 for k, v in got.items() if k != who), (ext, got)
        # every bucket total is the statement's; pending never negative per order
        st = (await c.get("/api/v1/commissions/statement", headers=auth)).json()["items"]
        for line in st:
            mine = [e for e in rows if e["creator_handle"] == line["creator"]]
            assert line["pending_minor"] == sum(
                e["amount_minor"] for e in mine if e["bucket"] == "pending"
            )
            assert line["balance_minor"] == sum(
                e["amount_minor"] for e in mine if e["bucket"] == "approved"
            )
            assert line["approved_minor"] + line["reversed_minor"] == line["balance_minor"]
        assert sum(line["pending_minor"] + line["balance_minor"] for line in st) == sum(
            e["amount_minor"] for e in rows
        )


async def test_rule_dates_outside_the_stored_range_are_422_and_its_ends_are_usable(
    settings: Settings,
) -> None:
    """A rule's dates are in the one date range (``schemas.Day``): outside it a 422, on
    create and on patch; its ends are accepted, and an order still earns under them."""
    async with running(fast(settings)) as live:
        shop = await Shop.make(live)
        c, auth = live.client, shop.auth
        for dates in (
            {"effective_from": "0001-01-01"},
            {"effective_from": "1969-12-31"},
            {"effective_until": "10000-01-01"},
        ):
            r = await c.post(
                "/api/v1/commissions/rules",
                headers=auth,
                json={"creator_id": "maya", "rate_percent": "10", **dates},
            )
            assert r.status_code == 422, (dates, r.text)
        r = await c.post(
            "/api/v1/commissions/rules",
            headers=auth,
            json={
                "creator_id": "maya",
                "rate_percent": "10",
                "effective_from": "1970-01-01",
                "effective_until": "9999-12-31",
            },
        )
        assert r.status_code == 201, r.text
        rule = r.json()["id"]
        r = await c.patch(
            f"/api/v1/commissions/rules/{rule}",
            headers=auth,
            json={"effective_until": "0001-01-01"},
        )
        assert r.status_code == 422, r.text
        order = (await shop.order("M-9", total_minor=10000))["order_id"]
        r = await c.get(f"/api/v1/commissions?order={order}", headers=auth)
        assert r.status_code == 200 and r.json()["items"], r.text
        assert (await c.get("/api/v1/commissions/statement", headers=auth)).status_code == 200
