"""Attribution models and ROI reports: the numbers a brand manager decides on."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import Running
from tests.postback_helpers import post_generic_order
from tracker.attribution.credit import MODELS, Credited, credits
from tracker.reports.roi import band, derive

pytestmark = pytest.mark.anyio
UA = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 Version/17.0 Safari/605.1.15"
)


# -- pure functions ---------------------------------------------------------------------------
def touches(*spec: tuple[str, str, bool]) -> list[Credited]:
    return [Credited(who, at, winner) for who, at, winner in spec]


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_credits_sum_to_one(model: str, n: int) -> None:
    ts = [Credited(f"c{i}", f"2026-11-{10 + i:02d}T00:00:00.000000Z", i == n - 1) for i in range(n)]
    shares = credits(ts, model, "2026-11-20T00:00:00.000000Z")
    assert len(shares) == n and abs(sum(shares) - 1) < 1e-9 and min(shares) >= 0


def test_no_touch_no_credit() -> None:
    assert credits([], "linear", "2026-11-20T00:00:00Z") == []


def test_models() -> None:
    ts = touches(
        ("a", "2026-11-01T00:00:00Z", False),
        ("b", "2026-11-05T00:00:00Z", False),
        ("c", "2026-11-09T00:00:00Z", False),
        ("d", "2026-11-10T00:00:00Z", True),
    )
    at = "2026-11-10T00:00:00Z"
    assert credits(ts, "last", at) == [0, 0, 0, 1]
    assert credits(ts, "first", at) == [1, 0, 0, 0]
    assert credits(ts, "linear", at) == [0.25] * 4
    assert credits(ts, "position", at) == pytest.approx([0.4, 0.1, 0.1, 0.4])
    decay = credits(ts, "time_decay", at, half_life_days=1)
    assert decay[3] == pytest.approx(2 * decay[2]) and decay[0] < decay[1] < decay[2]
    # last-touch follows the stored winner (a code beats a later click by default)
    ts2 = touches(("code", "2026-11-10T00:00:00Z", True), ("click", "2026-11-10T00:00:01Z", False))
    assert credits(ts2, "last", at) == [1, 0]
    with pytest.raises(ValueError):
        credits(ts, "nope", at)


def test_roi_maths_and_bands() -> None:
    row = derive(
        {
            "revenue_minor": 60000,
            "cost_minor": 10000,
            "orders": 3.0,
            "click_orders": 3,
            "human_clicks": 120,
            "unique_clicks": 100,
        }
    )
    assert row["roi_pct"] == 500.0 and row["roas"] == 6.0 and row["band"] == "strong"
    assert row["cpa_minor"] == 3333 and row["aov_minor"] == 20000 and row["epc_minor"] == 500
    assert row["conversion_rate"] == 2.5  # 3 orders reached through a click / 120 human clicks
    assert band(4.0) == "moderate" and band(2.99) == "poor" and band(None) is None
    no_cost = derive({"revenue_minor": 100, "cost_minor": 0, "orders": 0.0})
    assert (
        no_cost["roi_pct"] is None and no_cost["cpa_minor"] is None and no_cost["aov_minor"] is None
    )


# -- end to end over HTTP ------------------------------------------------------------------------
async def setup_portfolio(live: Running, auth: dict[str, str]) -> dict[str, str]:
    c = live.client
    ids = {}
    for handle, followers in (("maya", 25_000), ("bob", 5_000)):
        r = await c.post(
            "/api/v1/creators",
            headers=auth,
            json={"handle": handle, "followers": followers, "category": "beauty"},
        )
        ids[handle] = r.json()["id"]
        await c.post(
            "/api/v1/links",
            headers=auth,
            json={
                "destination": "https://shop.example.com/",
                "slug": handle,
                "creator_id": handle,
                "content_type": "reel",
            },
        )
    await c.post("/api/v1/codes", headers=auth, json={"code": "MAYA15", "creator_id": "maya"})
    gen = (
        await c.post("/api/v1/shops", headers=auth, json={"slug": "gen", "platform": "generic"})
    ).json()
    ids["secret"] = gen["secret"]
    today = datetime.now(UTC).date().isoformat()
    for body in (
        {"creator_id": "maya", "kind": "fee", "amount_minor": 10000, "incurred_on": today},
        {"creator_id": "maya", "kind": "commission", "rate_percent": 10, "incurred_on": today},
        {
            "creator_id": "bob",
            "kind": "labor",
            "hours": 2.5,
            "rate_minor": 2000,
            "incurred_on": today,
        },
    ):
        r = await c.post("/api/v1/costs", headers=auth, json=body)
        assert r.status_code == 201, r.text
    r = await c.post(
        "/api/v1/posts",
        headers=auth,
        json={
            "creator_id": "maya",
            "platform": "tiktok",
            "format": "reel",
            "category": "tutorial",
            "posted_at": today + "T09:00:00Z",
            "likes": 900,
            "comments": 80,
            "shares": 20,
            "reach": 20000,
            "followers_at_post": 25000,
        },
    )
    assert r.status_code == 201 and r.json()["engagement_rate"] == 4.0
    return ids


async def click(live: Running, slug: str, ua: str = UA) -> str:
    r = await live.client.get(f"/{slug}", headers={"user-agent": ua})
    return r.headers["location"].split("cl_cid=")[1]


async def order(live: Running, secret: str, oid: str, total: int, **extra: object) -> None:
    await post_generic_order(live.client, secret, oid, total, **extra)


async def place_order_a(live: Running, secret: str, bob_click: str) -> None:
    """Order A, 300.00: maya's code and bob's click, a new customer (a@)."""
    await order(
        live,
        secret,
        "A",
        30000,
        discount_codes=["MAYA15"],
        click_id=bob_click,
        customer_email="a@example.com",
        new_customer=True,
    )


async def test_creator_report_models_and_csv(live: Running, auth: dict[str, str]) -> None:
    ids = await setup_portfolio(live, auth)
    for _ in range(3):
        await click(live, "maya")
    await click(live, "maya", "Twitterbot/1.0")
    bob_click = await click(live, "bob")
    maya_click = await click(live, "maya")
    await live.flush()
    # A: maya's code + bob's click -> last: maya; first: bob; linear: half each
    await place_order_a(live, ids["secret"], bob_click)
    await order(live, ids["secret"], "B", 10000, click_id=maya_click)
    await order(live, ids["secret"], "C", 5000)  # unattributed

    async def report(model: str) -> dict:  # type: ignore[type-arg]
        r = await live.client.get(f"/api/v1/reports/creator?model={model}", headers=auth)
        assert r.status_code == 200, r.text
        return {row["label"]: row for row in r.json()["rows"]} | {"_": r.json()}

    last = await report("last")
    maya, bob = last["maya"], last["bob"]
    assert maya["clicks"] == 5 and maya["human_clicks"] == 4 and maya["unique_clicks"] == 1
    assert maya["orders"] == 2 and maya["revenue_minor"] == 40000 and bob["orders"] == 0
    # cost = fee 100.00 + 10% commission of 400.00 attributed
    assert maya["cost_minor"] == 10000 + 4000 and maya["cost_commission_minor"] == 4000
    assert maya["roi_pct"] == round((40000 - 14000) / 14000 * 100, 1) and maya["band"] == "poor"
    assert maya["cpa_minor"] == 7000 and maya["new_customers"] == 1
    assert maya["engagement_rate"] == 4.0 and maya["tier"] == "micro"
    assert (
        bob["cost_minor"] == 5000 and bob["cost_labor_minor"] == 5000 and bob["roi_pct"] == -100.0
    )
    totals = last["_"]["totals"]
    assert totals["revenue_minor"] == 40000 and totals["orders"] == 2
    assert (
        last["_"]["unattributed"]["orders"] == 1
        and last["_"]["unattributed"]["revenue_minor"] == 5000
    )

    first = await report("first")
    assert first["bob"]["revenue_minor"] == 30000 and first["maya"]["revenue_minor"] == 10000
    linear = await report("linear")
    assert linear["bob"]["orders"] == 0.5 and linear["maya"]["revenue_minor"] == 25000
    for model in MODELS:  # every model hands out exactly the attributed revenue
        assert (await report(model))["_"]["totals"]["revenue_minor"] == 40000

    r = await live.client.get("/api/v1/reports/creator.csv?model=linear", headers=auth)
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [row["label"] for row in rows] == ["maya", "bob", "Total"]
    assert rows[0]["revenue_minor"] == "25000" and rows[2]["revenue_minor"] == "40000"

    order_a = (await live.client.get("/api/v1/orders?limit=10", headers=auth)).json()["items"]
    a = next(o for o in order_a if o["external_id"] == "A")
    detail = (await live.client.get(f"/api/v1/orders/{a['id']}", headers=auth)).json()
    assert detail["credit"]["last"] == {"maya": 1.0, "bob": 0.0}
    assert detail["credit"]["linear"] == {"maya": 0.5, "bob": 0.5}


async def test_value_90d_is_the_later_orders_of_the_customers_a_creator_acquired(
    live: Running, auth: dict[str, str]
) -> None:
    """Hand-computed: A (maya's code, bob's click) acquires a@; a@ buys again (D, 70.00,
    no touch), b@ buys once (E). 90-day value = later net revenue of acquired customers,
    credited by the acquiring order's shares: last-touch maya 70.00; linear 35.00 each."""
    ids = await setup_portfolio(live, auth)
    bob_click = await click(live, "bob")
    await live.flush()
    await place_order_a(live, ids["secret"], bob_click)
    await order(live, ids["secret"], "D", 7000, customer_email="a@example.com")
    await order(live, ids["secret"], "E", 9000, customer_email="b@example.com", new_customer=True)

    async def value(model: str) -> dict[str, int]:
        r = await live.client.get(f"/api/v1/reports/creator?model={model}", headers=auth)
        assert r.status_code == 200, r.text
        return {row["label"]: row["value_90d_minor"] for row in r.json()["rows"]}

    assert await value("last") == {"maya": 7000, "bob": 0}
    assert await value("linear") == {"maya": 3500, "bob": 3500}


async def test_rollups_series_and_portfolio(live: Running, auth: dict[str, str]) -> None:
    ids = await setup_portfolio(live, auth)
    cid = await click(live, "maya")
    await click(live, "bob")
    await live.flush()
    await order(live, ids["secret"], "A", 30000, click_id=cid)
    await order(live, ids["secret"], "L", 1000, discount_codes=["MAYA15"])  # no click: a leak
    for dimension, label in (
        ("tier", "micro"),
        ("platform", "instagram"),
        ("category", "beauty"),
        ("link", "/maya"),
        ("content_type", "reel"),
    ):
        r = await live.client.get(f"/api/v1/reports/{dimension}", headers=auth)
        assert r.status_code == 200
        rows = {row["label"]: row for row in r.json()["rows"]}
        # a code-only order has no link: it counts for the creator, under "(none)" per link
        expected = 30000 if dimension in ("link", "content_type") else 31000
        assert rows[label]["revenue_minor"] == expected, (dimension, rows)
    tiers = {
        row["label"]: row
        for row in (await live.client.get("/api/v1/reports/tier", headers=auth)).json()["rows"]
    }
    assert tiers["nano"]["clicks"] == 1 and tiers["nano"]["cost_minor"] == 5000
    today = datetime.now(UTC).date()
    r = await live.client.get(
        f"/api/v1/reports/daily?dimension=creator&key=maya"
        f"&start={(today - timedelta(days=2)).isoformat()}",
        headers=auth,
    )
    days = r.json()["days"]
    assert len(days) == 3 and days[-1]["clicks"] == 1 and days[-1]["revenue_minor"] == 31000
    ov = (await live.client.get("/api/v1/reports/overview", headers=auth)).json()
    assert ov["concentration_pct"]["top_1"] == 100.0 and ov["totals"]["revenue_minor"] == 31000
    assert ov["overlap"]["creators"] == ["maya"]
    leaks = (await live.client.get("/api/v1/reports/code-leaks", headers=auth)).json()["items"]
    assert leaks[0]["label"] == "maya" and leaks[0]["without_click"] == 1
    advice = (await live.client.get("/api/v1/reports/recommendations", headers=auth)).json()
    assert set(advice) >= {"rising_cpa", "scale", "reallocate"}


@pytest.mark.parametrize(
    "query",
    [
        "model=nope",
        "start=2026-13-01",
        "start=2026-11-10&end=2026-11-01",
        "click_days=-1",
        "half_life_days=abc",
    ],
)
async def test_bad_report_parameters(live: Running, auth: dict[str, str], query: str) -> None:
    r = await live.client.get(f"/api/v1/reports/creator?{query}", headers=auth)
    assert r.status_code == 400 and r.json()["detail"]
    assert (await live.client.get("/api/v1/reports/nope", headers=auth)).status_code == 400


async def test_cost_and_post_csv_import_all_or_nothing(live: Running, auth: dict[str, str]) -> None:
    await live.client.post("/api/v1/creators", headers=auth, json={"handle": "maya"})
    bad = (
        "creator,kind,amount,currency,date\nmaya,fee,250.00,USD,2026-11-01\n"
        "ghost,fee,10,USD,2026-11-01\nmaya,fee,abc,USD,2026-11-02\n"
    )
    r = await live.client.post("/api/v1/costs/import", headers=auth, content=bad.encode())
    assert r.status_code == 200 and r.json()["imported"] == 0
    assert [e["row"] for e in r.json()["errors"]] == [2, 3]
    assert (await live.client.get("/api/v1/costs", headers=auth)).json()["items"] == []
    good = (
        "creator,kind,amount,currency,rate_percent,hours,hourly_rate,date\n"
        "maya,fee,250.00,USD,,,,2026-11-01\nmaya,commission,,USD,12.5,,,2026-11-01\n"
        "maya,labor,,EUR,,3,40.00,2026-11-02\n"
    )
    r = await live.client.post("/api/v1/costs/import", headers=auth, content=good.encode())
    assert r.status_code == 201 and r.json()["imported"] == 3
    costs = (await live.client.get("/api/v1/costs", headers=auth)).json()["items"]
    assert sorted((c["kind"], c["amount_minor"], c["rate_bp"]) for c in costs) == [
        ("commission", 0, 1250),
        ("fee", 25000, None),
        ("labor", 12000, None),
    ]
    posts = (
        "creator,platform,format,category,posted_at,likes,comments,shares,followers\n"
        "maya,tiktok,reel,unboxing,2026-11-01T10:00:00Z,100,10,5,1000\n"
    )
    r = await live.client.post("/api/v1/posts/import", headers=auth, content=posts.encode())
    assert r.status_code == 201
    post = (await live.client.get("/api/v1/posts", headers=auth)).json()["items"][0]
    assert post["engagement_rate"] == 11.5


def test_cli_costs_posts_and_report(server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    server.cli("creator", "create", "--handle", "maya", "--followers", "20000")
    server.cli(
        "cost",
        "add",
        "--creator",
        "maya",
        "--kind",
        "labor",
        "--hours",
        "2",
        "--hourly-rate",
        "50.00",  # people type major units (issue 16)
        "--date",
        datetime.now(UTC).date().isoformat(),
    )
    server.cli(
        "post",
        "add",
        "--creator",
        "maya",
        "--platform",
        "tiktok",
        "--format",
        "reel",
        "--posted-at",
        datetime.now(UTC).isoformat(),
        "--likes",
        "50",
        "--followers-at-post",
        "1000",
    )
    sheet = tmp_path / "costs.csv"
    sheet.write_text("creator,kind,amount,currency,date\nmaya,fee,12.50,USD,2026-11-01\n")
    assert "imported 1 rows" in server.cli("cost", "import", str(sheet))
    assert "100.00" in server.cli("cost", "list")  # 2 h x 50.00, in major units
    assert "5.0" in server.cli("post", "list")
    out = server.cli("report", "creator", "--csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows[0]["label"] == "maya" and rows[0]["cost_labor_minor"] == "10000"
    assert rows[0]["engagement_rate"] == "5.0" and rows[-1]["label"] == "Total"
