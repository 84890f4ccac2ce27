"""The attribution and money rules a brand relies on, each written so that breaking the rule
fails a test (issue 21: seven one-line mutants that used to pass the whole suite).

Everything that involves storage goes through real HTTP with real signed postbacks, on both
engines; the pure rules are tested through their public functions. Each test names the
mutant it kills.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.conftest import Running, make_settings, running
from tests.postback_helpers import (
    SHOPIFY_SECRET,
    dumps,
    generic_headers,
    shopify_headers,
    shopify_order,
)
from tracker.attribution.credit import Credited, credits
from tracker.attribution.rules import Touch, choose_winner
from tracker.core.money import convert, major, to_minor
from tracker.reports.roi import band, derive
from tracker.settings import Settings

IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)
FACEBOOK = "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)"
# Rates chosen so that float and exact (Decimal) arithmetic give the same minor units.
FX = "EUR=1.25,JPY=0.008"


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path, database_url, TRACKER_FX_RATES=FX)


def iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat()


@dataclass
class Shop:
    """Two creators (maya, bob), a code and a link each, a Shopify and a generic shop."""

    live: Running
    auth: dict[str, str]
    ids: dict[str, str]
    gen_secret: str

    async def click(self, slug: str, ua: str = IPHONE, **headers: str) -> str:
        r = await self.live.client.get(
            f"/{slug}", headers={"user-agent": ua, "accept-language": "en-US", **headers}
        )
        assert r.status_code == 302
        await self.live.flush()
        return parse_qs(urlsplit(r.headers["location"]).query)["cl_cid"][0]

    async def shopify(self, data: dict[str, Any], topic: str = "orders/create") -> Any:
        body = dumps(data)
        r = await self.live.client.post(
            "/postbacks/shopify/demo", content=body, headers=shopify_headers(body, topic=topic)
        )
        assert r.status_code == 200, r.text
        return r.json()

    async def generic(self, oid: str, total_minor: int, currency: str, **extra: Any) -> None:
        body = dumps(
            {
                "order_id": oid,
                "created_at": iso(datetime.now(UTC)),
                "currency": currency,
                "total_minor": total_minor,
                **extra,
            }
        )
        r = await self.live.client.post(
            "/postbacks/generic/gen",
            content=body,
            headers=generic_headers(body, self.gen_secret, f"msg-{oid}"),
        )
        assert r.status_code == 200, r.text

    async def order(self, external_id: str) -> dict[str, Any]:
        r = await self.live.client.get("/api/v1/orders?limit=100", headers=self.auth)
        match = [o for o in r.json()["items"] if o["external_id"] == external_id]
        assert len(match) == 1, r.json()
        r = await self.live.client.get(f"/api/v1/orders/{match[0]['id']}", headers=self.auth)
        assert r.status_code == 200
        data: dict[str, Any] = r.json()
        return data

    async def report(self, **query: str) -> dict[str, Any]:
        r = await self.live.client.get("/api/v1/reports/creator", headers=self.auth, params=query)
        assert r.status_code == 200, r.text
        data: dict[str, Any] = r.json()
        data["by"] = {row["label"]: row for row in data["rows"]}
        return data


@pytest.fixture
async def shop(live: Running, auth: dict[str, str]) -> Shop:
    return await setup_shop(live, auth)


async def setup_shop(live: Running, auth: dict[str, str]) -> Shop:
    c = live.client
    ids = {}
    for handle, code in (("maya", "TENOFF"), ("bob", "BOB10")):
        r = await c.post("/api/v1/creators", headers=auth, json={"handle": handle})
        ids[handle] = r.json()["id"]
        r = await c.post("/api/v1/codes", headers=auth, json={"code": code, "creator_id": handle})
        assert r.status_code == 201
        r = await c.post(
            "/api/v1/links",
            headers=auth,
            json={"destination": "https://shop.example.com/", "slug": handle, "creator_id": handle},
        )
        assert r.status_code == 201
    r = await c.post(
        "/api/v1/shops",
        headers=auth,
        json={"slug": "demo", "platform": "shopify", "secret": SHOPIFY_SECRET},
    )
    assert r.status_code == 201
    r = await c.post("/api/v1/shops", headers=auth, json={"slug": "gen", "platform": "generic"})
    assert r.status_code == 201
    return Shop(live, auth, ids, r.json()["secret"])


def no_signal(**changes: Any) -> dict[str, Any]:
    """Order #1001 without its discount code or landing click id, placed now."""
    now = iso(datetime.now(UTC))
    base: dict[str, Any] = {
        "discount_codes": [],
        "discount_applications": [],
        "landing_site": "/products/serum",
        "landing_site_ref": None,
        "created_at": now,
        "updated_at": now,
    }
    return shopify_order(**{**base, **changes})


def shopper(ip: str = "203.0.113.99", ua: str = IPHONE) -> dict[str, Any]:
    """The fields a Shopify order carries about the buyer's browser (fingerprint inputs).
    The documented order's own browser_ip is 0.0.0.0, which never fingerprints."""
    return {
        "browser_ip": ip,
        "client_details": {"browser_ip": ip, "user_agent": ua, "accept_language": "en-US"},
    }


# -- 1. among touches of the same kind, the latest wins ----------------------------------------
@pytest.mark.anyio
@pytest.mark.parametrize("listed", ["earlier first", "later first"])
async def test_latest_click_of_two_wins(shop: Shop, listed: str) -> None:
    """Mutant 1 (earliest wins): a shopper clicked maya's link, then bob's; the order carries
    both click ids. Last touch goes to bob, whichever order the shop lists them in."""
    maya_click = await shop.click("maya")
    bob_click = await shop.click("bob")
    first, second = (
        (maya_click, bob_click) if listed == "earlier first" else (bob_click, maya_click)
    )
    await shop.shopify(
        no_signal(
            landing_site=f"/products/serum?cl_cid={first}",
            note_attributes=[{"name": "cl_cid", "value": second}],
        )
    )
    o = await shop.order("450789469")
    assert o["creator_id"] == shop.ids["bob"] and o["winning_signal"] == "click"
    assert o["credit"]["last"] == {"maya": 0.0, "bob": 1.0}
    assert o["credit"]["first"] == {"maya": 1.0, "bob": 0.0}
    report = await shop.report(model="last")
    assert report["by"]["bob"]["orders"] == 1
    assert report["by"].get("maya", {}).get("orders", 0) == 0


@pytest.mark.parametrize("method", ["code", "click", "fingerprint"])
def test_latest_touch_of_a_kind_wins_whatever_the_list_order(method: str) -> None:
    early = Touch(method, "2026-11-01T10:00:00.000000Z", "maya")
    late = Touch(method, "2026-11-01T10:00:00.000001Z", "bob")
    for touches in ([early, late], [late, early]):
        out, why = choose_winner(touches)
        assert [t.creator_id for t in out if t.winner] == ["bob"], why
        assert why.startswith(f"{late.label()} wins")


def test_stronger_signal_beats_a_later_weaker_one() -> None:
    code = Touch("code", "2026-11-01T10:00:00.000000Z", "maya", code="TENOFF")
    click = Touch("click", "2026-11-02T10:00:00.000000Z", "bob", click_id="x" * 16)
    fp = Touch("fingerprint", "2026-11-03T10:00:00.000000Z", "cleo", click_id="y" * 16)
    for policy, expected in (("code", "maya"), ("click", "bob"), ("nonsense", "maya")):
        out, why = choose_winner([fp, click, code], policy)
        assert [t.creator_id for t in out if t.winner] == [expected], why
        assert "outranked" in why
    out, why = choose_winner([fp, click])
    assert [t.creator_id for t in out if t.winner] == ["bob"]


def test_unmatched_touches_never_win_and_are_explained() -> None:
    unknown = Touch("code", "2026-11-01T10:00:00Z", code="NOSUCH", matched=False, note="unknown")
    out, why = choose_winner([unknown])
    # the explanation repeats each touch's own note, so it never contradicts the touches
    assert not any(t.winner for t in out) and why == "unattributed: code NOSUCH -> nobody (unknown)"
    assert choose_winner([]) == ([], "no signal found")
    fp = Touch("fingerprint", "2026-11-01T09:00:00Z", "bob", click_id="z" * 16)
    out, why = choose_winner([unknown, fp])
    assert [t.winner for t in out] == [False, True]
    assert why == f"{fp.label()} wins (fingerprint is the strongest signal found); unmatched: " + (
        "code NOSUCH -> nobody (unknown)"
    )


# -- 2. net revenue never goes below zero -------------------------------------------------------
@pytest.mark.anyio
async def test_refunds_above_the_total_leave_net_at_zero(shop: Shop) -> None:
    """Mutant 2 (no clamp at 0): refunds that exceed the order (a refund of shipping and a
    goodwill refund on top) leave nothing to credit, never a negative revenue that would
    lower the creator's other orders."""
    refund = {
        "id": 9001,
        "created_at": iso(datetime.now(UTC)),
        "transactions": [
            {"kind": "refund", "status": "success", "amount": "650.00", "currency": "USD"}
        ],
    }
    data = no_signal(
        discount_codes=[{"code": "TENOFF", "amount": "10.00", "type": "fixed_amount"}],
        current_total_price=None,
        current_total_price_set=None,
        financial_status="partially_refunded",
        refunds=[refund],
    )
    await shop.shopify(data)
    await shop.generic("G1", 10000, "USD", discount_codes=["TENOFF"])
    o = await shop.order("450789469")
    assert o["total_minor"] == 59894 and o["refunded_minor"] == 65000
    assert o["net_minor"] == 0
    maya = (await shop.report())["by"]["maya"]
    assert maya["revenue_minor"] == 10000  # the other order's 100.00, not 100.00 - 51.06


@pytest.mark.anyio
async def test_refund_webhook_above_the_total_leaves_net_at_zero(shop: Shop) -> None:
    await shop.shopify(
        no_signal(refunds=[], current_total_price=None, current_total_price_set=None)
    )
    refund = {
        "id": 9002,
        "order_id": 450789469,
        "created_at": iso(datetime.now(UTC)),
        "transactions": [{"kind": "refund", "status": "success", "amount": "700.00"}],
    }
    await shop.shopify(refund, topic="refunds/create")
    o = await shop.order("450789469")
    assert o["refunded_minor"] == 70000 and o["net_minor"] == 0


# -- 3. fingerprints match human clicks only ----------------------------------------------------
@pytest.mark.anyio
async def test_bot_and_prefetch_clicks_never_win_by_fingerprint(shop: Shop) -> None:
    """Mutant 3 (bots and prefetches in the fingerprint lookup): a link previewer and a
    browser prefetch from the buyer's own network, with the buyer's own agent, win nothing;
    the buyer's real click afterwards does (so the fingerprints do match)."""
    await shop.click("maya", FACEBOOK)
    await shop.click("maya", IPHONE, **{"sec-purpose": "prefetch"})
    await shop.shopify(no_signal(**shopper(ua=FACEBOOK), id=1))
    await shop.shopify(no_signal(**shopper(ua=IPHONE), id=2))
    for oid in ("1", "2"):
        o = await shop.order(oid)
        assert o["creator_id"] is None and o["touches"] == [], o
    await shop.click("bob", IPHONE)
    await shop.shopify(no_signal(**shopper(ua=IPHONE), id=3))
    o = await shop.order("3")
    assert o["creator_id"] == shop.ids["bob"] and o["winning_signal"] == "fingerprint"
    assert [t["creator_id"] for t in o["touches"]] == [shop.ids["bob"]]


# -- 4. the click-id lookback -------------------------------------------------------------------
@pytest.mark.anyio
async def test_click_older_than_the_lookback_does_not_win(shop: Shop) -> None:
    """Mutant 4 (click-id lookback ignored): a click 31 days before the order is kept as an
    unmatched touch and wins nothing; 29 days before, it wins."""
    now = datetime.now(UTC)
    for oid, days in ((1, 31), (2, 29)):
        ago = (now - timedelta(days=days)).timestamp()
        cid = await shop.live.past_click("maya", ago, **{"user-agent": IPHONE})
        at = iso(now)
        await shop.shopify(
            no_signal(id=oid, landing_site=f"/?cl_cid={cid}", created_at=at, updated_at=at)
        )
    late = await shop.order("1")
    assert late["creator_id"] is None and late["winning_signal"] is None
    assert [(t["matched"], t["note"]) for t in late["touches"]] == [
        (False, "click outside the 30-day lookback")
    ]
    assert late["credit"]["last"] == {}
    ok = await shop.order("2")
    assert ok["creator_id"] == shop.ids["maya"] and ok["winning_signal"] == "click"


@pytest.mark.anyio
async def test_report_lookback_excludes_older_clicks(shop: Shop) -> None:
    """The report's own click_days narrows the stored lookback at read time."""
    three_days_ago = (datetime.now(UTC) - timedelta(days=3)).timestamp()
    cid = await shop.live.past_click("maya", three_days_ago, **{"user-agent": IPHONE})
    at = iso(datetime.now(UTC))
    await shop.shopify(no_signal(landing_site=f"/?cl_cid={cid}", created_at=at, updated_at=at))
    wide = await shop.report(click_days="4")
    assert wide["by"]["maya"]["orders"] == 1
    narrow = await shop.report(click_days="2")
    assert narrow["by"].get("maya", {}).get("orders", 0) == 0
    assert narrow["totals"]["orders"] == 0


# -- 5. a fingerprint never joins an order that a code or click id explains --------------------
@pytest.mark.anyio
@pytest.mark.parametrize("signal", ["code", "click"])
async def test_fingerprint_is_not_added_when_a_code_or_click_matched(
    shop: Shop, signal: str
) -> None:
    """Mutant 5 (fingerprint touches added anyway): bob's earlier click from the buyer's
    browser must not take a share of an order maya's code or click explains, under any
    model."""
    await shop.click("bob", IPHONE)
    changes: dict[str, Any] = shopper(ua=IPHONE)
    if signal == "code":
        changes["discount_codes"] = [{"code": "TENOFF", "amount": "1.00", "type": "fixed_amount"}]
    else:
        # maya's click from another browser (a different fingerprint), after bob's
        cid = await shop.click("maya", IPHONE, **{"accept-language": "de-DE"})
        changes["landing_site"] = f"/?cl_cid={cid}"
    await shop.shopify(no_signal(**changes))
    o = await shop.order("450789469")
    assert [t["method"] for t in o["touches"]] == [signal]
    for model in ("last", "first", "linear", "position", "time_decay"):
        assert o["credit"][model] == {"maya": 1.0}, model
    linear = await shop.report(model="linear")
    assert linear["by"]["maya"]["orders"] == 1
    assert linear["by"].get("bob", {}).get("orders", 0) == 0


# -- 6. ROAS bands ------------------------------------------------------------------------------
def test_roas_band_boundaries_are_inclusive() -> None:
    """Mutant 6 (>= 5 becomes > 5): exactly 5:1 is strong, exactly 3:1 moderate."""
    assert band(5.0) == "strong" and band(7.5) == "strong"
    assert band(4.99) == "moderate" and band(3.0) == "moderate"
    assert band(2.99) == "poor" and band(0.0) == "poor" and band(None) is None
    row = derive({"revenue_minor": 50000, "cost_minor": 10000, "orders": 2.0})
    assert row["roas"] == 5.0 and row["band"] == "strong" and row["roi_pct"] == 400.0
    row = derive({"revenue_minor": 30000, "cost_minor": 10000, "orders": 1.0})
    assert row["band"] == "moderate" and row["cpa_minor"] == 10000


# -- 7. money in other currencies ---------------------------------------------------------------
def test_convert_applies_the_rate_and_both_exponents() -> None:
    """Mutant 7 (the rate ignored): 100.00 EUR at 1.25 is 125.00 USD; 1000 JPY (no minor
    unit) at 0.008 is 8.00 USD; 1.000 KWD (three decimals) at 3.25 is 3.25 USD."""
    rates = {"EUR": 1.25, "JPY": 0.008, "KWD": 3.25}
    assert convert(10000, "EUR", "USD", rates) == pytest.approx(12500)
    assert convert(1000, "JPY", "USD", rates) == pytest.approx(800)
    assert convert(1000, "KWD", "USD", rates) == pytest.approx(325)
    assert convert(12345, "USD", "USD", rates) == 12345
    assert convert(100, "GBP", "USD", rates) is None
    assert convert(10000, "USD", "JPY", {"USD": 150.0}) == pytest.approx(15000)


def test_money_parses_and_prints_exactly() -> None:
    assert to_minor("598.94", "USD") == 59894 and to_minor("1500", "JPY") == 1500
    assert to_minor("1.2345", "KWD") == 1234 and to_minor("0.005", "USD") == 0  # half-even
    assert to_minor("0.015", "USD") == 2 and to_minor(None, "USD") == 0
    assert major(59894, "USD") == "598.94" and major(-5, "USD") == "-0.05"
    assert major(1500, "JPY") == "1500" and major(1234, "KWD") == "1.234"


@pytest.mark.anyio
async def test_report_converts_every_currency_with_its_rate(shop: Shop) -> None:
    """Orders and costs in EUR and JPY are converted with TRACKER_FX_RATES, each with its
    own exponent, into the USD report."""
    await shop.generic("E1", 10000, "EUR", discount_codes=["TENOFF"])  # 100.00 EUR
    await shop.generic("J1", 1000, "JPY", discount_codes=["TENOFF"])  # 1000 JPY
    await shop.generic("U1", 5000, "USD", discount_codes=["BOB10"])  # 50.00 USD
    today = datetime.now(UTC).date().isoformat()
    for body in (
        {"creator_id": "maya", "kind": "fee", "amount_minor": 2000, "currency": "EUR"},
        {"creator_id": "bob", "kind": "fee", "amount_minor": 1000, "currency": "USD"},
    ):
        r = await shop.live.client.post(
            "/api/v1/costs", headers=shop.auth, json={**body, "incurred_on": today}
        )
        assert r.status_code == 201, r.text
    report = await shop.report()
    assert report["currency"] == "USD" and report["unconverted_currencies"] == []
    maya, bob = report["by"]["maya"], report["by"]["bob"]
    assert maya["revenue_minor"] == 12500 + 800 and maya["orders"] == 2
    assert maya["cost_minor"] == 2500 and maya["roas"] == round(13300 / 2500, 2)
    assert maya["band"] == "strong"
    assert bob["revenue_minor"] == 5000 and bob["cost_minor"] == 1000 and bob["band"] == "strong"
    assert report["totals"]["revenue_minor"] == 18300


@pytest.mark.anyio
async def test_report_lists_currencies_without_a_rate(shop: Shop) -> None:
    """A GBP order and a GBP cost (no GBP rate) are left out of every money total and listed
    as unconverted, never counted as if they were dollars."""
    await shop.generic("E1", 10000, "EUR", discount_codes=["TENOFF"])
    await shop.generic("G1", 99999, "GBP", discount_codes=["TENOFF"])
    await shop.generic("G2", 88888, "GBP")  # unattributed, also without a rate
    today = datetime.now(UTC).date().isoformat()
    r = await shop.live.client.post(
        "/api/v1/costs",
        headers=shop.auth,
        json={
            "creator_id": "bob",
            "kind": "fee",
            "amount_minor": 7777,
            "currency": "GBP",
            "incurred_on": today,
        },
    )
    assert r.status_code == 201, r.text
    report = await shop.report()
    assert report["unconverted_currencies"] == ["GBP"]
    assert report["by"]["maya"]["revenue_minor"] == 12500
    assert report["by"].get("bob", {}).get("cost_minor", 0) == 0
    assert report["totals"]["revenue_minor"] == 12500
    assert report["unattributed"]["revenue_minor"] == 0


@pytest.mark.anyio
async def test_unattributed_orders_without_a_rate_are_listed(shop: Shop) -> None:
    await shop.generic("U1", 5000, "USD")
    await shop.generic("E1", 10000, "EUR")
    await shop.generic("G1", 20000, "GBP")
    report = await shop.report()
    assert report["unconverted_currencies"] == ["GBP"]
    assert report["unattributed"]["orders"] == 3
    assert report["unattributed"]["revenue_minor"] == 5000 + 12500


@pytest.mark.anyio
async def test_without_rates_only_the_reporting_currency_counts(
    tmp_path: Path, database_url: str
) -> None:
    async with running(make_settings(tmp_path, database_url)) as live:
        s = await setup_shop(live, await live.token())
        await s.generic("E1", 10000, "EUR", discount_codes=["TENOFF"])
        await s.generic("U1", 4000, "USD", discount_codes=["TENOFF"])
        report = await s.report()
        assert report["unconverted_currencies"] == ["EUR"]
        assert report["by"]["maya"]["revenue_minor"] == 4000


# -- credit per model (pure) --------------------------------------------------------------------
def test_time_decay_halves_per_half_life_and_ignores_list_order() -> None:
    at = "2026-11-10T00:00:00.000000Z"
    old = Credited("a", "2026-11-03T00:00:00.000000Z")
    new = Credited("b", "2026-11-10T00:00:00.000000Z")
    assert credits([old, new], "time_decay", at, 7.0) == pytest.approx([1 / 3, 2 / 3])
    assert credits([new, old], "time_decay", at, 7.0) == pytest.approx([2 / 3, 1 / 3])
    future = Credited("c", "2026-11-10T01:00:00.000000Z")  # a click stamped after the order
    assert credits([future, old], "time_decay", at, 7.0) == pytest.approx([2 / 3, 1 / 3])


def test_position_and_first_follow_time_not_list_order() -> None:
    at = "2026-11-10T00:00:00.000000Z"
    ts = [
        Credited("c", "2026-11-09T00:00:00.000000Z"),
        Credited("a", "2026-11-01T00:00:00.000000Z"),
        Credited("b", "2026-11-05T00:00:00.000000Z"),
    ]
    assert credits(ts, "position", at) == pytest.approx([0.4, 0.4, 0.2])
    assert credits(ts, "first", at) == [0.0, 1.0, 0.0]
    assert credits(ts, "last", at) == [1.0, 0.0, 0.0]  # no stored winner: the latest
    assert credits(ts[:2], "position", at) == [0.5, 0.5]
    assert credits(ts[:1], "position", at) == [1.0]
    five = [Credited(str(i), f"2026-11-0{i}T00:00:00.000000Z") for i in range(1, 6)]
    assert credits(five, "position", at) == pytest.approx([0.4, 0.2 / 3, 0.2 / 3, 0.2 / 3, 0.4])
