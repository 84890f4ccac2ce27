"""Issue 19: a creator's own figures from that creator's orders only equal the creator's
row of the full report, under every model, including an order shared with another creator."""

from __future__ import annotations

import pytest

from tests.conftest import Running
from tracker.core import clock
from tracker.reports import build as reports
from tracker.reports.scoped import load_for_creator

ORDER = (
    "INSERT INTO orders (id, shop_id, external_id, placed_at, source_updated_at, currency, "
    "total_minor, net_minor, status, customer_hash, new_customer, created_at, updated_at) "
    "VALUES (?, ?, ?, ?, ?, 'USD', ?, ?, 'paid', ?, 1, ?, ?)"
)
TOUCH = (
    "INSERT INTO touches (id, order_id, method, creator_id, code, at, matched, winner) "
    "VALUES (?, ?, 'code', ?, ?, ?, 1, ?)"
)


@pytest.mark.anyio
async def test_creator_scope_equals_full_report(live: Running) -> None:
    store, settings = live.store, live.state.settings
    a = (await store.create_creator({"handle": "ana"}))["id"]
    b = (await store.create_creator({"handle": "bea"}))["id"]
    shop = await store.create_shop(
        {"slug": "s", "name": "S", "platform": "shopify", "secret": "x" * 32, "pixel_token": ""}
    )
    now = clock.now()
    # o1: ana alone; o2: ana then bea (shared); o3: bea alone.
    for n, (net, who) in enumerate([(1001, [a]), (2003, [a, b]), (3005, [b])]):
        at = clock.iso(now - 3600 * (n + 1))
        await store.db.execute(
            ORDER, (f"o{n}", shop["id"], f"{n}", at, at, net, net, f"c{n}", at, at)
        )
        for k, creator in enumerate(who):
            touch_at = clock.iso(now - 3600 * (n + 1) - 60 * (len(who) - k))
            await store.db.execute(
                TOUCH, (f"t{n}{k}", f"o{n}", creator, f"C{n}{k}", touch_at, int(k == len(who) - 1))
            )
    for handle, n in (("ana", 2), ("bea", 3)):  # the scope reads the creator's clicks alone
        await store.create_link(
            {"slug": handle, "creator_id": handle, "destination": "https://s.example/"}
        )
        for _ in range(n):
            assert (await live.client.get(f"/{handle}")).status_code == 302
    await live.flush()
    # first computed at read time (written around the ingest), then from the stored credit
    for stored in (False, True):
        if stored:
            await store.rebuild_credits()
        for model in ("last", "first", "linear", "position", "time_decay"):
            params = reports.params_from({"model": model}, settings)
            full = await reports.build(store, settings, params, "creator")
            mine = await load_for_creator(store, params, a)
            assert mine.stored and bool(mine.touches) is not stored
            scoped = await reports.build(store, settings, params, "creator", facts=mine)
            want = next(r for r in full["rows"] if r.get("key") == a)
            assert [r["key"] for r in scoped["rows"]] == [a]  # only ana's own figures
            assert scoped["rows"][0] == want, (stored, model)
            assert want["clicks"] == 2
            if model == "linear":  # the shared order counted for ana, in part
                assert want["revenue_minor"] == 1001 + 2003 // 2 + 1
