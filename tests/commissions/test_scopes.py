"""Commission rules per creator, campaign or tier (issue 18) and the ROI report's commission
cost read from the ledger: precedence (creator and campaign > creator > campaign > tier,
then the latest date), last days, a ``kind=commission`` cost counted once, currencies
converted once per row, sums exact to the minor unit; hand-computed, both engines."""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import io
import json
from pathlib import Path
from typing import Any

import pytest

from tests.admin.test_admin import logged_in
from tests.commissions.test_commissions import entries
from tests.conftest import Running, run_cli, running, server_env
from tests.events_helpers import Shop, fast
from tracker.commissions.terms import Terms, pick
from tracker.core import clock
from tracker.settings import Settings

pytestmark = pytest.mark.anyio


def rule(scope: str, day: str, rate: int, **kw: Any) -> dict[str, Any]:
    return {
        "scope": scope,
        "creator_id": kw.get("creator_id"),
        "campaign_id": kw.get("campaign_id"),
        "tier": kw.get("tier"),
        "rate_bp": rate,
        "fixed_minor": None,
        "currency": None,
        "effective_from": day,
        "effective_until": kw.get("until"),
        "created_at": kw.get("created_at", "2026-01-01T00:00:00Z"),
    }


def test_precedence_then_latest_date() -> None:
    rules = [
        rule("tier", "2026-11-01", 100, tier="micro"),  # newest, but the least specific
        rule("campaign", "2026-01-01", 200, campaign_id="cp"),
        rule("creator", "2026-01-01", 300, creator_id="cr"),
        rule("creator", "2026-06-01", 350, creator_id="cr", until="2026-06-30"),
        rule("creator", "2026-01-01", 400, creator_id="cr", campaign_id="cp"),
        rule("creator", "2026-01-01", 999, creator_id="other"),
    ]

    def rate(campaign: str | None, day: str, tier: str = "micro") -> int | None:
        t = pick(rules, campaign, day, creator_id="cr", tier=tier)
        return None if t is None else t.rate_bp

    assert rate("cp", "2026-11-05") == 400  # creator on the campaign
    assert rate("other-cp", "2026-11-05") == 300  # creator (the tier rule is newer: no matter)
    assert rate(None, "2026-06-15") == 350  # the latest creator rule in force...
    assert rate(None, "2026-07-01") == 300  # ...until its last day
    rules_no_creator = [r for r in rules if r["creator_id"] != "cr"]
    assert pick(rules_no_creator, "cp", "2026-11-05", creator_id="cr", tier="micro") == Terms(
        200, None, None
    )  # the campaign beats the tier
    assert pick(rules_no_creator, None, "2026-11-05", creator_id="cr", tier="micro") == Terms(
        100, None, None
    )
    assert pick(rules_no_creator, None, "2026-11-05", creator_id="cr", tier="nano") is None
    assert pick(rules_no_creator, None, "2026-10-31", creator_id="cr", tier="micro") is None


async def post(shop: Shop, path: str, body: dict[str, Any], status: int = 201) -> Any:
    r = await shop.live.client.post(f"/api/v1/{path}", headers=shop.auth, json=body)
    assert r.status_code == status, r.text
    return r.json()


async def test_scoped_rules_and_the_report_reads_the_ledger(settings: Settings) -> None:
    s = dataclasses.replace(settings, reporting_currency="EUR", fx_rates={"USD": 0.9})
    async with running(fast(s)) as live:
        shop = await Shop.make(live)
        c, auth = live.client, shop.auth
        # maya: micro (50,000 followers); bob: nano (0); ana: mid (200,000)
        r = await c.patch("/api/v1/creators/maya", headers=auth, json={"followers": 50_000})
        assert r.status_code == 200, r.text
        await post(shop, "creators", {"handle": "ana", "followers": 200_000})
        await post(shop, "codes", {"code": "ANA10", "creator_id": "ana"})
        await post(shop, "campaigns", {"name": "spring"})
        await post(
            shop, "codes", {"code": "MAYASPRING", "creator_id": "maya", "campaign_id": "spring"}
        )
        await post(shop, "commissions/rules", {"tier": "micro", "rate_percent": "10"})
        await post(
            shop,
            "commissions/rules",
            {"tier": "nano", "fixed_minor": 200, "currency": "USD", "note": "2.00 USD an order"},
        )
        await post(shop, "commissions/rules", {"campaign_id": "spring", "rate_percent": "15"})
        await post(shop, "commissions/rules", {"tier": "mid", "rate_percent": "5"})
        # ana's 20% is entered as a cost: a creator rule, counted once
        today = clock.now_iso()[:10]
        await post(
            shop,
            "costs",
            {"creator_id": "ana", "kind": "commission", "rate_percent": 20, "incurred_on": today},
        )
        for bad, why in (
            ({"tier": "giga", "rate_percent": "5"}, "tier: one of"),
            ({"tier": "micro", "creator_id": "maya", "rate_percent": "5"}, "give it alone"),
            ({"rate_percent": "5"}, "give a creator, a campaign or a tier"),
            (
                {
                    "campaign_id": "spring",
                    "rate_percent": "5",
                    "effective_from": "2026-05-01",
                    "effective_until": "2026-04-30",
                },
                "effective_until",
            ),
        ):
            assert why in (await post(shop, "commissions/rules", bad, 422))["detail"]

        now = clock.now_iso()
        m1 = (await shop.order("M-1", created_at=now, total_minor=10000))["order_id"]
        m2 = (
            await shop.order(
                "M-2", created_at=now, total_minor=20000, discount_codes=["MAYASPRING"]
            )
        )["order_id"]
        b1 = (await shop.order("B-1", created_at=now, discount_codes=["BOB10"]))["order_id"]
        a1 = (await shop.order("A-1", created_at=now, total_minor=3333, discount_codes=["ANA10"]))[
            "order_id"
        ]
        owed = {
            o: sum(e["amount_minor"] for e in await entries(live, auth, order=o))
            for o in (m1, m2, b1, a1)
        }
        # micro 10% of 100.00; spring 15% of 200.00; nano 2.00 USD; ana's own 20% of 33.33
        assert owed == {m1: 1000, m2: 3000, b1: 200, a1: 667}
        [b1_entry] = await entries(live, auth, order=b1)
        assert (b1_entry["currency"], b1_entry["fixed_minor"]) == ("USD", 200)
        # a refund of half of M-2 halves its commission, and the report follows the ledger
        await shop.order(
            "M-2",
            created_at=now,
            total_minor=20000,
            discount_codes=["MAYASPRING"],
            refunds=[{"id": "r1", "amount_minor": 10000}],
        )

        async def report(dimension: str) -> dict[str, Any]:
            r = await c.get(f"/api/v1/reports/{dimension}", headers=auth)
            assert r.status_code == 200, r.text
            out: dict[str, Any] = r.json()
            return out

        rows = {r["label"]: r for r in (await report("creator"))["rows"]}
        # maya 1000 + 1500; bob 2.00 USD at 0.9 = 1.80 EUR; ana 667 (not 667 twice)
        assert rows["maya"]["cost_commission_minor"] == 2500
        assert rows["bob"]["cost_commission_minor"] == 180
        assert rows["ana"]["cost_commission_minor"] == 667
        assert rows["ana"]["cost_minor"] == 667
        for dim in ("creator", "tier", "campaign"):
            rep = await report(dim)
            total = rep["totals"]["cost_commission_minor"]
            assert total == 2500 + 180 + 667
            assert sum(r["cost_commission_minor"] for r in rep["rows"]) == total
        tiers = {r["label"]: r["cost_commission_minor"] for r in (await report("tier"))["rows"]}
        assert tiers == {"micro": 2500, "nano": 180, "mid": 667}
        camp = {r["label"]: r["cost_commission_minor"] for r in (await report("campaign"))["rows"]}
        assert camp == {"spring": 1500, "(none)": 1000 + 180 + 667}
        link = await report("link")
        assert [r["cost_minor"] for r in link["rows"]] == [None]  # links carry no cost
        # ... so their total has none either: it read 0 (0.00 in the panel) while every row
        # read none, as if the links had cost nothing; CPA, ROAS, ROI and band go with it
        for k in ("cost_minor", "cpa_minor", "roas", "roi_pct", "band"):
            assert link["totals"][k] is None, k
        sheet = await c.get("/api/v1/reports/link.csv", headers=auth)
        *link_rows, link_total = list(csv.DictReader(io.StringIO(sheet.text)))
        assert link_total["label"] == "Total"
        assert {r["cost_minor"] for r in link_rows} == {""} == {link_total["cost_minor"]}

        listed = await c.get("/api/v1/commissions/rules?scope=tier", headers=auth)
        assert sorted(r["tier"] for r in listed.json()["items"]) == ["micro", "mid", "nano"]
        mine = await c.get("/api/v1/commissions/rules?creator=maya", headers=auth)
        assert len(mine.json()["items"]) == 4  # every campaign and tier rule can apply


async def test_backfill_enters_orders_the_ledger_never_saw(settings: Settings) -> None:
    from tracker.commissions import ledger

    async with running(fast(settings)) as live:
        shop = await Shop.make(live)
        old = (await shop.order("OLD-1", created_at="2026-09-01T10:00:00Z"))["order_id"]
        assert await entries(live, shop.auth, order=old) == []  # no rule then: no entry
        await post(
            shop,
            "commissions/rules",
            {"creator_id": "maya", "rate_percent": "10", "effective_from": "2026-08-01"},
        )
        assert await entries(live, shop.auth, order=old) == []  # a new rule rewrites nothing
        assert await ledger.backfill(live.store, batch=1) == 1
        [e] = await entries(live, shop.auth, order=old)
        assert (e["kind"], e["amount_minor"], e["reason"]) == ("accrual", 500, "backfill")
        assert await ledger.backfill(live.store) == 0  # once

        # the periodic job backfills by itself when a rule is added (then approves)
        later = await shop.order(
            "OLD-2", created_at="2026-09-02T10:00:00Z", discount_codes=["BOB10"]
        )
        assert await entries(live, shop.auth, order=later["order_id"]) == []
        await post(shop, "commissions/rules", {"tier": "nano", "rate_percent": "5"})
        s = dataclasses.replace(live.state.settings, commission_approve_interval_minutes=60)
        job = ledger.commission_job(live.store, s, first_delay=0.01)
        job.start()
        try:
            while job.runs < 1:
                await asyncio.sleep(0.01)
        finally:
            await job.close()
        rows = await entries(live, shop.auth, order=later["order_id"])
        assert [(e["kind"], e["bucket"], e["amount_minor"]) for e in rows] == [
            ("accrual", "pending", 250),  # bob: the nano tier's 5% of 49.99
            ("approval", "pending", -250),
            ("approval", "approved", 250),  # September: past the refund window
        ]


async def test_ending_a_rule_hands_later_orders_to_the_next_rule(settings: Settings) -> None:
    from tests.admin.test_admin import logged_in

    async with running(fast(settings)) as live:
        shop = await Shop.make(live)
        own = await post(shop, "commissions/rules", {"creator_id": "maya", "rate_percent": "15"})
        await post(shop, "commissions/rules", {"tier": "nano", "rate_percent": "10"})
        before = (await shop.order("E-1", created_at="2026-11-10T10:00:00Z"))["order_id"]
        c, auth = live.client, shop.auth
        r = await c.patch(
            f"/api/v1/commissions/rules/{own['id']}",
            headers=auth,
            json={"effective_until": "2026-11-15"},
        )
        assert r.status_code == 200 and r.json()["effective_until"] == "2026-11-15"
        on_day = (await shop.order("E-2", created_at="2026-11-15T23:59:00Z"))["order_id"]
        after = (await shop.order("E-3", created_at="2026-11-16T00:00:00Z"))["order_id"]
        owed = {
            o: [e["amount_minor"] for e in await entries(live, auth, order=o)]
            for o in (before, on_day, after)
        }
        assert owed == {before: [750], on_day: [750], after: [500]}  # 15%, 15%, then 10%
        bad = await c.patch(
            f"/api/v1/commissions/rules/{own['id']}",
            headers=auth,
            json={"effective_until": "1969-12-31"},
        )
        assert bad.status_code == 422
        missing = await c.patch(
            "/api/v1/commissions/rules/crl_nope",
            headers=auth,
            json={"effective_until": "2027-01-01"},
        )
        assert missing.status_code == 404
        # the panel's End button, behind the session and its CSRF token
        token = await logged_in(live)
        r = await c.post(
            f"/admin/commissions/rules/{own['id']}/end",
            data={"csrf": token, "effective_until": "2026-11-12"},
        )
        assert r.status_code == 303, r.text
        page = await c.get("/admin/commissions")
        assert "1970-01-01 → 2026-11-12" in page.text
        assert [e["amount_minor"] for e in await entries(live, auth, order=on_day)] == [750]


async def test_every_rules_list_holds_the_commission_rates_entered_as_costs(
    live: Running, auth: dict[str, str], settings: Settings, tmp_path: Path
) -> None:
    """The panel's Commissions page lists a commission rate entered as a cost (5d919a2);
    the API's and the CLI's rule lists left it out. One read (``list_commission_rules``)
    gives all three the same rules, each with its source; the ledger applies both."""
    await live.store.create_creator({"handle": "maya", "platform": "instagram"})
    r = await live.client.post(
        "/api/v1/commissions/rules", headers=auth, json={"tier": "micro", "rate_percent": 10}
    )
    assert r.status_code == 201, r.text
    rule_id = r.json()["id"]
    cost = {"creator_id": "maya", "kind": "commission", "rate_percent": 12.5,
            "incurred_on": "2026-03-01", "note": "spring deal"}  # fmt: skip
    r = await live.client.post("/api/v1/costs", headers=auth, json=cost)
    assert r.status_code == 201, r.text
    cost_id = r.json()["id"]
    fee = {"creator_id": "maya", "kind": "fee", "amount_minor": 5000, "incurred_on": "2026-03-01"}
    assert (await live.client.post("/api/v1/costs", headers=auth, json=fee)).status_code == 201

    def shape(items: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
        return [
            (i["id"], i["source"], i["scope"], i["rate_bp"], i["effective_from"]) for i in items
        ]

    want = [(cost_id, "cost", "creator", 1250, "2026-03-01"), (rule_id, "rule", "tier", 1000)]
    listed = (await live.client.get("/api/v1/commissions/rules", headers=auth)).json()["items"]
    assert [s[:4] for s in shape(listed)] == [w[:4] for w in want]  # the fee is no rule
    assert listed[0]["creator_handle"] == "maya" and listed[0]["note"] == "spring deal"
    for query, ids in (
        ("?source=cost", [cost_id]),
        ("?source=rule", [rule_id]),
        ("?creator=maya", [cost_id, rule_id]),  # every rule that can apply to maya
        ("?scope=tier", [rule_id]),
        ("?q=spring", [cost_id]),
    ):
        r = await live.client.get("/api/v1/commissions/rules" + query, headers=auth)
        assert [i["id"] for i in r.json()["items"]] == ids, query
    bad = await live.client.get("/api/v1/commissions/rules?source=fee", headers=auth)
    assert bad.status_code == 400 and "source: rule or cost" in bad.text

    env = server_env(tmp_path, settings.database_url)
    out = run_cli(env, "commissions", "rules")
    assert out.returncode == 0, out.stderr
    assert shape(json.loads(out.stdout)) == shape(listed)
    out = run_cli(env, "commissions", "rules", "--creator", "maya")
    assert [i["id"] for i in json.loads(out.stdout)] == [cost_id, rule_id]

    await logged_in(live)
    page = (await live.client.get("/admin/commissions")).text
    rules_table = page[page.index('id="rules-table"') : page.index('id="cost-rules-table"')]
    costs_table = page[page.index('id="cost-rules-table"') :]
    costs_table = costs_table[: costs_table.index("</table>")]
    assert f'id="rule-{rule_id}"' in rules_table and "tier micro" in rules_table
    assert "@maya" in costs_table and "12.5%" in costs_table and "2026-03-01 → open" in costs_table
