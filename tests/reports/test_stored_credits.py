"""Issue 19, the order side: each order's credit stored by the ingest (migration 0090) equals
the read-time rule, is kept in step by refunds, and reports read it with the same figures."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.conftest import Running
from tests.postback_helpers import dumps, generic_headers
from tests.reports.test_reports import click, order, setup_portfolio
from tracker.attribution.credit import ORDER_MODELS
from tracker.attribution.order_credit import Basis
from tracker.core import clock
from tracker.reports import build as reports
from tracker.reports import paths
from tracker.reports.scoped import load_for_creator
from tracker.store import Store
from tracker.store.credits import horizon_sql

pytestmark = pytest.mark.anyio


async def _rows(store: Store, external_id: str) -> dict[str, dict[str, int]]:
    """Stored revenue per model, then per creator handle."""
    got = await store.db.fetch_all(
        "SELECT c.model, r.handle, c.revenue_minor FROM order_credits c "
        "JOIN orders o ON o.id = c.order_id JOIN creators r ON r.id = c.creator_id "
        "WHERE o.external_id = ? ORDER BY c.model, c.seq",
        (external_id,),
    )
    out: dict[str, dict[str, int]] = {}
    for r in got:
        out.setdefault(r["model"], {})[r["handle"]] = int(r["revenue_minor"])
    return out


async def test_ingest_stores_exact_shares_and_refunds_rewrite_them(
    live: Running, auth: dict[str, str]
) -> None:
    ids = await setup_portfolio(live, auth)
    bob_click = await click(live, "bob")
    await live.flush()
    # 300.01 USD: bob's click, then maya's code at the order (the code wins last-touch)
    await order(live, ids["secret"], "A", 30001, discount_codes=["MAYA15"], click_id=bob_click)
    await order(live, ids["secret"], "B", 999, discount_codes=["MAYA15"])
    rows = await _rows(live.store, "A")
    assert rows["last"] == {"bob": 0, "maya": 30001}
    assert rows["first"] == {"bob": 30001, "maya": 0}
    # 15000.5 each: the odd unit to the largest remainder, ties to the earlier touch (bob)
    assert rows["linear"] == {"bob": 15001, "maya": 15000}
    assert rows["position"] == {"bob": 15001, "maya": 15000}
    assert sum(rows["time_decay"].values()) == 30001
    assert await _rows(live.store, "B") == {"all": {"maya": 999}}  # one touch: one row

    # a refund of 100.01: every model's rows follow the order's new net, 200.00
    now = datetime.now(UTC)
    body = dumps(
        {
            "order_id": "A",
            "created_at": (now - timedelta(minutes=1)).isoformat(),
            "updated_at": now.isoformat(),
            "currency": "USD",
            "total_minor": 30001,
            "status": "partially_refunded",
            "discount_codes": ["MAYA15"],
            "click_id": bob_click,
            "refunds": [{"id": "r1", "amount_minor": 10001}],
        }
    )
    r = await live.client.post(
        "/postbacks/generic/gen", content=body, headers=generic_headers(body, ids["secret"], "r1")
    )
    assert r.status_code == 200, r.text
    rows = await _rows(live.store, "A")
    assert rows["linear"] == {"bob": 10000, "maya": 10000}
    assert rows["last"] == {"bob": 0, "maya": 20000}

    # the report reads the stored rows: maya 200.00 + 9.99 under last, bob 100.00 under linear
    async def report(model: str) -> dict[str, Any]:
        r = await live.client.get(f"/api/v1/reports/creator?model={model}", headers=auth)
        return {row["label"]: row for row in r.json()["rows"]}

    assert (await report("last"))["maya"]["revenue_minor"] == 20999
    linear = await report("linear")
    assert linear["bob"]["revenue_minor"] == 10000 and linear["bob"]["orders"] == 0.5
    assert linear["bob"]["click_orders"] == 1 and linear["maya"]["code_only_orders"] == 2


# -- the stored path against the read-time rule, on generated orders ---------------------------
ORDER = (
    "INSERT INTO orders (id, shop_id, external_id, placed_at, source_updated_at, currency, "
    "total_minor, net_minor, status, customer_hash, new_customer, counted, created_at, "
    "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'paid', ?, ?, ?, ?, ?)"
)
TOUCH = (
    "INSERT INTO touches (id, order_id, method, creator_id, link_id, campaign_id, code, at, "
    "matched, winner) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?)"
)


async def _generate(store: Store, seed: int) -> list[str]:
    """40 orders over 20 days: 1-4 touches each (codes, clicks, fingerprints, some outside
    the 7-day lookbacks), odd amounts, a second currency, cancelled ones, returning buyers."""
    rng = random.Random(seed)
    creators = [
        (
            await store.create_creator(
                {"handle": f"g{seed}c{i}", "followers": 10**i, "platform": ("tiktok", "")[i % 2]}
            )
        )["id"]
        for i in range(5)
    ]
    campaign = (await store.create_campaign({"name": f"g{seed}"}))["id"]
    links = {
        c: (
            await store.create_link(
                {"slug": f"g{seed}l{i}", "creator_id": c, "destination": "https://s.example/",
                 "campaign_id": campaign if i % 2 else None,
                 "content_type": ("reel", "", "story")[i % 3]}
            )
        )["id"]
        for i, c in enumerate(creators)
    }  # fmt: skip
    shop = await store.create_shop(
        {"slug": f"g{seed}", "name": "G", "platform": "shopify", "secret": "x" * 32,
         "pixel_token": ""}
    )  # fmt: skip
    now = clock.now()
    for n in range(40):
        placed = now - rng.uniform(60, 20 * 86400)
        at = clock.iso(placed)
        net = rng.randrange(1, 50_000)
        currency = "EUR" if rng.random() < 0.2 else "USD"
        counted = int(rng.random() > 0.1)
        oid = f"g{seed}o{n}"
        await store.db.execute(
            ORDER,
            (oid, shop["id"], oid, at, at, currency, net, net, f"cu{rng.randrange(8)}",
             rng.randrange(2), counted, at, at),
        )  # fmt: skip
        k = rng.randrange(1, 5)
        winner = rng.randrange(k)
        for t in range(k):
            method = rng.choice(("code", "click", "fingerprint"))
            touch_at = clock.iso(placed - rng.uniform(0, 10 * 86400) * (method != "code"))
            who = rng.choice(creators)
            link = None if method == "code" else links[who]
            await store.db.execute(
                TOUCH,
                (f"{oid}t{t}", oid, method, who, link, campaign if rng.random() < 0.5 else None,
                 f"CODE{t}" if method == "code" else None, touch_at, int(t == winner)),
            )  # fmt: skip
    return creators


def _same(a: dict[str, Any], b: dict[str, Any]) -> None:
    assert [r["key"] for r in a["rows"]] == [r["key"] for r in b["rows"]]
    for ra, rb in zip([*a["rows"], a["totals"]], [*b["rows"], b["totals"]], strict=True):
        for k, v in ra.items():
            if isinstance(v, float):
                assert v == pytest.approx(rb[k]), k
            else:
                assert v == rb[k], k


@pytest.mark.parametrize("seed", [1, 2])
async def test_stored_credit_equals_read_time(live: Running, seed: int) -> None:
    """Every model's report from the stored credit equals the report computed from every
    touch, per dimension (the data-driven one's stored orders are its single-touch ones:
    the rest are split at read time, and its fit counts the stored orders' paths)."""
    store, settings = live.store, live.state.settings
    creators = await _generate(store, seed)
    assert await store.stored_basis() is not None
    await store.rebuild_credits()
    settings = replace(settings, fx_rates={"EUR": 1.0837})
    start = (datetime.now(UTC) - timedelta(days=12)).date().isoformat()
    for model in (*ORDER_MODELS, "data_driven"):
        p = reports.params_from({"model": model, "start": start}, settings)
        p = replace(p, min_conversions=1)  # data-driven: fitted, not the fallback
        facts = await reports.load(store, p)
        assert facts.stored, "the report reads the stored credit"
        touches = await store.credited_touches(p.start_at, p.end_at)
        want = replace(facts, stored=False, touches=touches)
        if model == "data_driven":  # the stored single-touch orders' paths: the same fit
            want.fit = await paths.fit(store, p, touches)
            assert facts.fit == want.fit and want.fit.used == "data_driven"
            assert len(facts.touches) < len(touches), "the stored credit gives some orders"
        for dimension in reports.DIMENSIONS:
            got = await reports.build(store, settings, p, dimension, facts=facts)
            _same(got, await reports.build(store, settings, p, dimension, facts=want))
        # each order's credit read back (callers that need credits, not sums)
        read, _ = await reports.all_credits(store, facts, p)
        computed, _ = await reports.all_credits(store, want, p)
        key = lambda c: (c.order_id, c.creator_id, c.method, c.revenue, round(c.share, 9))  # noqa: E731
        assert sorted(map(key, read)) == sorted(map(key, computed))
        for key in (None, creators[0]):
            got_days = await reports.daily(store, settings, p, "creator", key, facts=facts)
            want_days = await reports.daily(store, settings, p, "creator", key, facts=want)
            assert got_days == want_days
        # a creator's own figures (scoped), stored against computed
        mine = await load_for_creator(store, p, creators[1])
        assert mine.stored
        got = await reports.build(store, settings, p, "creator", facts=mine)
        mine_computed = replace(
            mine,
            stored=False,
            touches=await store.credited_touches(p.start_at, p.end_at, creator_id=creators[1]),
        )
        computed = await reports.build(store, settings, p, "creator", facts=mine_computed)
        row = next(r for r in got["rows"] if r["key"] == creators[1])
        assert row == next(r for r in computed["rows"] if r["key"] == creators[1])
        # other lookbacks than the stored ones: the report computes, same rule
        assert not await reports.stored_usable(store, replace(p, click_days=2))
    # a click filter: the stored rows carry the click's link
    link = (await store.get_link(f"g{seed}l2"))["id"]
    p = reports.params_from({"start": start, "model": "linear", "link_id": link}, settings)
    facts = await reports.load(store, p)
    want = replace(facts, stored=False, touches=await store.credited_touches(p.start_at, p.end_at))
    assert facts.stored
    _same(
        await reports.build(store, settings, p, "creator", facts=facts),
        await reports.build(store, settings, p, "creator", facts=want),
    )


async def test_changed_settings_recompute_every_order(live: Running) -> None:
    store = live.store
    await _generate(store, 3)
    await store.rebuild_credits()
    before = await store.db.fetch_all("SELECT COUNT(*) AS n FROM order_credits")
    assert await store.sync_credits() is None  # same settings: nothing to do
    store.credit_basis = Basis(30, 30, 7.0, "code")  # longer lookbacks keep more touches
    assert await store.sync_credits() == 40
    assert await store.stored_basis() == store.credit_basis.text
    after = await store.db.fetch_all("SELECT COUNT(*) AS n FROM order_credits")
    assert int(after[0]["n"]) > int(before[0]["n"])


@pytest.mark.parametrize(
    "at",
    [
        "2026-11-30T23:59:59.999999Z",
        "2024-02-29T12:00:00.000001Z",
        "2026-01-01T00:00:00.000000Z",
        "2025-12-31T06:30:15.500000Z",
    ],
)
async def test_the_value_horizon_in_sql_is_clock_shift(live: Running, at: str) -> None:
    """The 90-day value's window, computed by each engine, is the read-time instant."""
    sql = horizon_sql(live.store.db.dialect, "CAST(? AS TEXT)", 90)
    row = await live.store.db.fetch_one(f"SELECT {sql} AS h", (at, at))
    assert row is not None and row["h"] == clock.shift(at, timedelta(days=90))


async def test_an_order_written_around_the_ingest_still_counts(
    live: Running, auth: dict[str, str]
) -> None:
    """An order without stored rows (written around the ingest: a tool, a hand fix) is
    computed at read time beside the stored ones: the report and the creator's own page
    count it, under every stored model, and a rebuild stores it with the same figures."""
    from admin.creator_page import issue

    store, settings = live.store, live.state.settings
    ids = await setup_portfolio(live, auth)
    await order(live, ids["secret"], "A", 30001, discount_codes=["MAYA15"])  # the ingest
    shop = await store.db.fetch_one("SELECT id FROM shops WHERE slug = 'gen'")
    at = clock.iso(clock.now() - 3600)
    await store.db.execute(
        ORDER, ("around", shop["id"], "around", at, at, "USD", 999, 999, "cuX", 1, 1, at, at)
    )
    await store.db.execute(TOUCH, ("around-t", "around", "code", ids["maya"], None, None,
                                   "MAYA15", at, 1))  # fmt: skip
    flags = {
        r["external_id"]: (int(r["credit_stored"]), int(r["n"]))
        for r in await store.db.fetch_all(
            "SELECT o.external_id, o.credit_stored, (SELECT COUNT(*) FROM order_credits c "
            "WHERE c.order_id = o.id) AS n FROM orders o"
        )
    }
    assert flags == {"A": (1, 1), "around": (0, 0)}

    async def maya(model: str) -> dict[str, Any]:
        r = await live.client.get(f"/api/v1/reports/creator?model={model}", headers=auth)
        return next(row for row in r.json()["rows"] if row["label"] == "maya")

    for model in ORDER_MODELS:
        row = await maya(model)
        assert (row["orders"], row["revenue_minor"], row["code_only_orders"]) == (2, 31000, 2)
        p = reports.params_from({"model": model}, settings)
        mine = await load_for_creator(store, p, ids["maya"])
        assert mine.stored and [t["order_id"] for t in mine.touches] == ["around"]
    live.client.cookies.clear()
    page = (await live.client.get(f"/c/{await issue(store, ids['maya'])}")).text
    assert 'id="kpi-orders">2<' in page and 'id="kpi-revenue">310.00<' in page

    assert await store.rebuild_credits() == 2
    row = await store.db.fetch_one("SELECT credit_stored FROM orders WHERE id = 'around'")
    assert row is not None and row["credit_stored"] == 1
    assert (await maya("linear"))["revenue_minor"] == 31000
