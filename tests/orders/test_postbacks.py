"""Postbacks as shops send them: signed, replayed, reordered, refunded; on both engines."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.conftest import Running
from tests.postback_helpers import (
    SHOPIFY_BODY,
    SHOPIFY_SECRET,
    WOO_BODY,
    dumps,
    generic_headers,
    shopify_headers,
    shopify_order,
    woo_headers,
)

pytestmark = pytest.mark.anyio
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)


@dataclass
class World:
    live: Running
    auth: dict[str, str]
    maya: str
    bob: str
    woo_secret: str
    gen_secret: str
    pixel_token: str

    async def click(self, slug: str, **headers: str) -> str:
        r = await self.live.client.get(f"/{slug}", headers={"user-agent": IPHONE, **headers})
        assert r.status_code == 302
        await self.live.flush()
        return parse_qs(urlsplit(r.headers["location"]).query)["cl_cid"][0]

    async def shopify(self, data: dict | bytes, **kw: str):  # type: ignore[no-untyped-def]
        body = data if isinstance(data, bytes) else dumps(data)
        return await self.live.client.post(
            "/postbacks/shopify/demo", content=body, headers=shopify_headers(body, **kw)
        )

    async def order(self, external_id: str = "450789469", shop: str = "demo") -> dict:  # type: ignore[type-arg]
        rows = await self.live.store.list_orders()
        match = [r for r in rows if r["external_id"] == external_id and r["shop"] == shop]
        assert len(match) == 1, rows
        r = await self.live.client.get(f"/api/v1/orders/{match[0]['id']}", headers=self.auth)
        data: dict = r.json()  # type: ignore[type-arg]
        return data

    async def count(self, table: str) -> int:
        row = await self.live.store.db.fetch_one(f"SELECT COUNT(*) AS n FROM {table}")
        return int(row["n"])


@pytest.fixture
async def world(live: Running, auth: dict[str, str]) -> World:
    c = live.client
    maya = (await c.post("/api/v1/creators", headers=auth, json={"handle": "maya"})).json()["id"]
    bob = (await c.post("/api/v1/creators", headers=auth, json={"handle": "bob"})).json()["id"]
    for code, who in (("TENOFF", "maya"), ("BOB10", "bob")):
        r = await c.post("/api/v1/codes", headers=auth, json={"code": code, "creator_id": who})
        assert r.status_code == 201
    for slug, who in (("maya", "maya"), ("bob", "bob")):
        r = await c.post(
            "/api/v1/links",
            headers=auth,
            json={"destination": "https://shop.example.com/", "slug": slug, "creator_id": who},
        )
        assert r.status_code == 201
    r = await c.post(
        "/api/v1/shops",
        headers=auth,
        json={"slug": "demo", "platform": "shopify", "secret": SHOPIFY_SECRET, "pixel": True},
    )
    assert r.status_code == 201 and r.json()["secret"] == SHOPIFY_SECRET
    pixel_token = r.json()["pixel_token"]
    woo = (
        await c.post("/api/v1/shops", headers=auth, json={"slug": "woo", "platform": "woocommerce"})
    ).json()
    gen = (
        await c.post(
            "/api/v1/shops",
            headers=auth,
            json={"slug": "gen", "platform": "generic", "currency": "EUR"},
        )
    ).json()
    return World(live, auth, maya, bob, woo["secret"], gen["secret"], pixel_token)


# -- Shopify ----------------------------------------------------------------------------------
async def test_shopify_documented_order_unchanged_is_attributed_by_code(world: World) -> None:
    r = await world.shopify(SHOPIFY_BODY)
    assert r.status_code == 200 and r.json()["status"] == "created"
    o = await world.order()
    assert o["creator_id"] == world.maya and o["winning_signal"] == "code"
    assert o["currency"] == "USD" and o["total_minor"] == 59894
    assert o["refunded_minor"] == 20900
    assert o["net_minor"] == 19965  # Shopify's current_total_price after the partial refund
    assert o["new_customer"] is True and o["order_number"] == "#1001"
    assert o["placed_at"] == "2008-01-10T16:00:00.000000Z"  # -05:00 converted to UTC
    assert [t["code"] for t in o["touches"]] == ["TENOFF"]
    # the email is only kept as a keyed hash
    raw = await world.live.store.db.fetch_one("SELECT customer_hash FROM orders")
    assert raw["customer_hash"] and "@" not in raw["customer_hash"]
    assert "bob.norman" not in repr(await world.live.store.db.fetch_all("SELECT * FROM orders"))


async def test_click_id_only(world: World) -> None:
    cid = await world.click("bob")
    data = shopify_order(
        discount_codes=[],
        discount_applications=[],
        landing_site=f"/products/serum?utm_source=tiktok&cl_cid={cid}",
        created_at=datetime.now(UTC).isoformat(),
    )
    assert (await world.shopify(data)).status_code == 200
    o = await world.order()
    assert o["creator_id"] == world.bob and o["winning_signal"] == "click"
    assert o["touches"][0]["click_id"] == cid and o["touches"][0]["link_id"]


async def test_click_id_in_note_attributes(world: World) -> None:
    cid = await world.click("bob")
    data = shopify_order(
        discount_codes=[],
        discount_applications=[],
        landing_site="/wallets/checkouts.json",
        note_attributes=[{"name": "cl_cid", "value": cid}],
        created_at=datetime.now(UTC).isoformat(),
    )
    await world.shopify(data)
    assert (await world.order())["creator_id"] == world.bob


async def test_fingerprint_only(world: World) -> None:
    await world.click("bob", **{"accept-language": "en-US"})  # from 203.0.113.7
    data = shopify_order(
        discount_codes=[],
        discount_applications=[],
        browser_ip="203.0.113.99",
        client_details={
            "browser_ip": "203.0.113.99",
            "user_agent": IPHONE,
            "accept_language": "en-US",
        },
        created_at=datetime.now(UTC).isoformat(),
    )
    await world.shopify(data)
    o = await world.order()
    assert o["creator_id"] == world.bob and o["winning_signal"] == "fingerprint"


async def test_fingerprint_outside_lookback_does_not_count(world: World) -> None:
    eight_days_ago = datetime.now(UTC) - timedelta(days=8)
    await world.live.past_click(
        "bob", eight_days_ago.timestamp(), **{"user-agent": IPHONE, "accept-language": "en-US"}
    )
    now = datetime.now(UTC).isoformat()
    data = shopify_order(
        discount_codes=[],
        discount_applications=[],
        browser_ip="203.0.113.99",
        client_details={"user_agent": IPHONE, "accept_language": "en-US"},
        created_at=now,
        updated_at=now,
    )
    await world.shopify(data)
    o = await world.order()
    assert o["creator_id"] is None and o["touches"] == []


@pytest.mark.parametrize(("policy", "winner"), [("code", "maya"), ("click", "bob")])
async def test_code_and_click_from_different_creators(
    world: World, policy: str, winner: str
) -> None:
    cid = await world.click("bob")
    data = shopify_order(
        landing_site=f"https://shop.example.com/?cl_cid={cid}",
        created_at=datetime.now(UTC).isoformat(),
    )
    from tracker.attribution.touches import Matching

    st = world.live.state
    object.__setattr__(st.settings, "conflict_policy", policy)
    await world.shopify(data)
    o = await world.order()
    assert o["creator_id"] == getattr(world, winner)
    methods = sorted((t["method"], t["winner"]) for t in o["touches"])
    assert methods == sorted([("code", policy == "code"), ("click", policy == "click")])
    assert "outranked" in o["explanation"]
    assert Matching().policy == "code"


async def test_unknown_code_and_click_id_are_kept_unattributed(world: World) -> None:
    data = shopify_order(
        discount_codes=[{"code": "NOSUCH", "amount": "1.00", "type": "fixed_amount"}],
        discount_applications=[],
        landing_site="/?cl_cid=AAAAAAAAAAAAAAAA",
    )
    await world.shopify(data)
    o = await world.order()
    assert o["creator_id"] is None
    assert {(t["method"], t["matched"], t["note"]) for t in o["touches"]} == {
        ("code", False, "unknown code"),
        ("click", False, "unknown click id"),
    }
    assert o["codes"] == ["NOSUCH"]
    listed = (
        await world.live.client.get("/api/v1/orders?unattributed=1", headers=world.auth)
    ).json()
    assert [x["external_id"] for x in listed["items"]] == ["450789469"]


async def test_codes_are_case_insensitive(world: World) -> None:
    data = shopify_order(
        discount_codes=[{"code": "bob10", "amount": "1.00", "type": "fixed_amount"}],
        discount_applications=[],
    )
    await world.shopify(data)
    assert (await world.order())["creator_id"] == world.bob


async def test_refund_after_purchase_via_refunds_create(world: World) -> None:
    data = shopify_order(
        refunds=[], current_total_price=None, current_total_price_set=None, financial_status="paid"
    )
    await world.shopify(data)
    assert (await world.order())["net_minor"] == 59894
    refund = {
        "id": 777,
        "order_id": 450789469,
        "created_at": "2023-02-15T10:00:00-05:00",
        "transactions": [
            {"kind": "refund", "status": "success", "amount": "100.50", "currency": "USD"}
        ],
    }
    for _ in range(2):  # a replayed refund counts once
        r = await world.shopify(refund, topic="refunds/create")
        assert r.status_code == 200
    o = await world.order()
    assert o["refunded_minor"] == 10050 and o["net_minor"] == 59894 - 10050
    # the next orders/updated listing the same refund does not count it twice
    data = shopify_order(
        refunds=[{**refund, "transactions": refund["transactions"]}],
        current_total_price=None,
        current_total_price_set=None,
        financial_status="partially_refunded",
        updated_at="2023-02-16T00:00:00Z",
    )
    await world.shopify(data, topic="orders/updated")
    assert (await world.order())["refunded_minor"] == 10050


async def test_refund_before_the_order_arrives(world: World) -> None:
    refund = {
        "id": 9,
        "order_id": 450789469,
        "created_at": "2023-02-15T10:00:00Z",
        "transactions": [{"kind": "refund", "status": "success", "amount": "9.00"}],
    }
    assert (await world.shopify(refund, topic="refunds/create")).status_code == 200
    await world.shopify(
        shopify_order(refunds=[], current_total_price=None, current_total_price_set=None)
    )
    assert (await world.order())["refunded_minor"] == 20900 + 900 - 20900


async def test_cancellation_zeroes_net(world: World) -> None:
    await world.shopify(SHOPIFY_BODY)
    cancelled = shopify_order(
        cancelled_at="2023-02-20T00:00:00Z",
        updated_at="2023-02-20T00:00:00Z",
        financial_status="voided",
    )
    await world.shopify(cancelled, topic="orders/cancelled")
    o = await world.order()
    assert o["status"] == "cancelled" and o["net_minor"] == 0 and o["total_minor"] == 59894


async def test_replay_three_times_changes_nothing(world: World) -> None:
    for i in range(3):
        r = await world.shopify(SHOPIFY_BODY, webhook_id="same-id")
        assert r.status_code == 200
        assert r.json()["status"] == ("created" if i == 0 else "duplicate")
    assert await world.count("orders") == 1
    assert await world.count("touches") == 1
    assert await world.count("deliveries") == 1
    # the same order re-sent under new webhook ids (another topic) is still one order
    await world.shopify(SHOPIFY_BODY, topic="orders/paid")
    assert await world.count("orders") == 1 and await world.count("touches") == 1
    assert (await world.order())["net_minor"] == 19965


async def test_out_of_order_update_keeps_newest(world: World) -> None:
    newer = shopify_order(
        updated_at="2023-03-01T00:00:00Z",
        total_price="700.00",
        total_price_set=None,
        current_total_price="700.00",
        current_total_price_set=None,
        refunds=[],
    )
    older = shopify_order(
        updated_at="2023-01-01T00:00:00Z",
        total_price="1.00",
        total_price_set=None,
        current_total_price="1.00",
        current_total_price_set=None,
        refunds=[],
    )
    assert (await world.shopify(newer, topic="orders/updated")).json()["status"] == "created"
    assert (await world.shopify(older, topic="orders/updated")).json()["status"] == "stale"
    o = await world.order()
    assert o["total_minor"] == 70000 and o["net_minor"] == 70000


async def test_privacy_topics(world: World) -> None:
    await world.shopify(SHOPIFY_BODY)
    req = {
        "shop_id": 1,
        "shop_domain": "demo.myshopify.com",
        "orders_requested": [450789469],
        "customer": {"id": 207119551, "email": "bob.norman@mail.example.com"},
        "data_request": {"id": 9999},
    }
    r = await world.shopify(req, topic="customers/data_request")
    assert r.status_code == 200 and r.json()["orders_held"]
    redact = {
        "shop_id": 1,
        "shop_domain": "demo.myshopify.com",
        "customer": {"id": 207119551, "email": "bob.norman@mail.example.com"},
        "orders_to_redact": [450789469],
    }
    credited = "SELECT customer_hash FROM order_credits"
    assert [r["customer_hash"] for r in await world.live.store.db.fetch_all(credited)] != [None]
    assert (await world.shopify(redact, topic="customers/redact")).status_code == 200
    row = await world.live.store.db.fetch_one("SELECT customer_hash, net_minor FROM orders")
    assert row["customer_hash"] is None and row["net_minor"] == 19965  # money kept
    # issue 19: the stored credit's copy of the customer is forgotten too
    assert [r["customer_hash"] for r in await world.live.store.db.fetch_all(credited)] == [None]
    bodies = await world.live.store.db.fetch_all(
        "SELECT body FROM deliveries WHERE body IS NOT NULL"
    )
    assert not [b for b in bodies if "bob.norman" in b["body"]]
    r = await world.shopify(
        {"shop_id": 1, "shop_domain": "demo.myshopify.com"}, topic="shop/redact"
    )
    assert r.status_code == 200


# -- rejections: nothing written --------------------------------------------------------------
@pytest.mark.parametrize(
    "case",
    [
        "bad_sig",
        "no_sig",
        "other_secret",
        "bad_json",
        "no_id",
        "bad_currency",
        "not_object",
        "oversized",
        "unknown_shop",
        "wrong_platform",
        "bad_amount",
    ],
)
async def test_rejections_write_nothing(world: World, case: str) -> None:
    c = world.live.client
    body, headers, url = SHOPIFY_BODY, shopify_headers(SHOPIFY_BODY), "/postbacks/shopify/demo"
    expected = 401
    if case == "bad_sig":
        headers["X-Shopify-Hmac-Sha256"] = "AAAA" + headers["X-Shopify-Hmac-Sha256"][4:]
    elif case == "no_sig":
        del headers["X-Shopify-Hmac-Sha256"]
    elif case == "other_secret":
        headers = shopify_headers(body, secret="someone-elses-secret")
    elif case in ("bad_json", "no_id", "bad_currency", "not_object", "bad_amount"):
        body = {
            "bad_json": b'{"id": 1,',
            "no_id": dumps(shopify_order(id=None)),
            "bad_currency": dumps(shopify_order(currency="dollars", total_price_set=None)),
            "not_object": b"[1, 2, 3]",
            "bad_amount": dumps(shopify_order(total_price="NaN", total_price_set=None)),
        }[case]
        headers = shopify_headers(body)
        expected = 400 if case in ("bad_json", "not_object") else 422
    elif case == "oversized":
        body = b'{"id": 1, "pad": "' + b"x" * 1_100_000 + b'"}'
        headers = shopify_headers(body)
        expected = 413
    elif case == "unknown_shop":
        url, expected = "/postbacks/shopify/nosuchshop", 404
    elif case == "wrong_platform":
        url, expected = "/postbacks/woocommerce/demo", 404
    r = await c.post(url, content=body, headers=headers)
    assert r.status_code == expected, r.text
    assert r.json()["detail"]
    for table in ("orders", "touches", "deliveries", "refunds"):
        assert await world.count(table) == 0, table
    if expected in (401, 422, 400):
        shop = (await c.get("/api/v1/shops/demo", headers=world.auth)).json()
        assert shop["recent_rejections"][0]["outcome"] == "rejected"
        assert "secret" not in shop


async def test_previous_secret_still_works_after_rotation(world: World) -> None:
    r = await world.live.client.patch(
        "/api/v1/shops/demo", headers=world.auth, json={"secret": "new-secret-0123456789"}
    )
    assert r.status_code == 200
    assert (await world.shopify(SHOPIFY_BODY)).status_code == 200  # old secret, once more
    body = dumps(shopify_order(id=2))
    r = await world.live.client.post(
        "/postbacks/shopify/demo",
        content=body,
        headers=shopify_headers(body, secret="new-secret-0123456789"),
    )
    assert r.status_code == 200


# -- WooCommerce ------------------------------------------------------------------------------
async def test_woocommerce_documented_order_unchanged(world: World) -> None:
    r = await world.live.client.post(
        "/postbacks/woocommerce/woo",
        content=WOO_BODY,
        headers=woo_headers(WOO_BODY, world.woo_secret),
    )
    assert r.status_code == 200 and r.json()["status"] == "created"
    o = await world.order("727", "woo")
    assert o["total_minor"] == 2935 and o["net_minor"] == 2935 and o["status"] == "paid"
    assert o["placed_at"] == "2017-03-22T19:28:02.000000Z" and o["creator_id"] is None
    # WooCommerce re-sends with a new delivery id: same order + date_modified + status = replay
    r = await world.live.client.post(
        "/postbacks/woocommerce/woo",
        content=WOO_BODY,
        headers=woo_headers(WOO_BODY, world.woo_secret),
    )
    assert r.json()["status"] == "duplicate"
    assert await world.count("orders") == 1


async def test_woocommerce_coupon_click_and_refund(world: World) -> None:
    cid = await world.click("bob")
    data = json.loads(WOO_BODY)
    now = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "")
    data.update(
        date_created_gmt=now,
        date_modified_gmt=now,
        coupon_lines=[{"id": 1, "code": "tenoff", "discount": "1.00"}],
        meta_data=[{"id": 1, "key": "_cl_cid", "value": cid}],
    )
    body = dumps(data)
    await world.live.client.post(
        "/postbacks/woocommerce/woo",
        content=body,
        headers=woo_headers(body, world.woo_secret, "order.created"),
    )
    o = await world.order("727", "woo")
    assert o["creator_id"] == world.maya  # code beats click by default
    assert {t["method"] for t in o["touches"]} == {"code", "click"}
    data.update(
        status="refunded",
        date_modified_gmt=now + "Z",
        refunds=[{"id": 730, "reason": "", "total": "-29.35"}],
    )
    body = dumps(data)
    await world.live.client.post(
        "/postbacks/woocommerce/woo", content=body, headers=woo_headers(body, world.woo_secret)
    )
    o = await world.order("727", "woo")
    assert o["status"] == "refunded" and o["refunded_minor"] == 2935 and o["net_minor"] == 0


async def test_woocommerce_delete_before_create_keeps_the_order_cancelled(world: World) -> None:
    """WooCommerce's order.deleted carries only the id. Delivered before the order's own
    order.created (a queue's retry, two workers), it was answered "cancelled" and
    forgotten, and the order then arrived and counted its revenue (hostile pass, third).
    The deletion is remembered: an order last modified before it arrives cancelled; one
    modified after it (restored from the bin) is the order as sent."""
    c, secret = world.live.client, world.woo_secret
    then = datetime.now(UTC) - timedelta(minutes=5)
    for oid in (727, 728):
        gone = dumps({"id": oid})
        r = await c.post(
            "/postbacks/woocommerce/woo",
            content=gone,
            headers=woo_headers(gone, secret, "order.deleted"),
        )
        assert r.status_code == 200 and r.json() == {"status": "cancelled", "order_id": None}
    after = datetime.now(UTC) + timedelta(seconds=1)
    for oid, modified in ((727, then), (728, after)):
        data = json.loads(WOO_BODY)
        stamp = modified.replace(microsecond=0).isoformat().replace("+00:00", "")
        data.update(id=oid, date_created_gmt=then.replace(microsecond=0).isoformat()[:19],
                    date_modified_gmt=stamp)  # fmt: skip
        body = dumps(data)
        r = await c.post(
            "/postbacks/woocommerce/woo",
            content=body,
            headers=woo_headers(body, secret, "order.created"),
        )
        assert r.status_code == 200 and r.json()["status"] == "created", r.text
    deleted, restored = await world.order("727", "woo"), await world.order("728", "woo")
    assert (deleted["status"], deleted["net_minor"]) == ("cancelled", 0)
    assert (restored["status"], restored["net_minor"]) == ("paid", 2935)


async def test_woocommerce_ping(world: World) -> None:
    r = await world.live.client.post(
        "/postbacks/woocommerce/woo",
        content=b"webhook_id=15",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 200 and r.json()["status"] == "ping"
    assert await world.count("deliveries") == 0


# -- generic (Standard Webhooks) and pixel ---------------------------------------------------
def generic_body(**changes: object) -> bytes:
    data = {
        "order_id": "G-1",
        "created_at": "2026-11-20T10:00:00Z",
        "currency": "EUR",
        "total_minor": 4999,
        "discount_codes": ["MAYA-unknown"],
        "status": "paid",
    }
    data.update(changes)
    return dumps(data)


async def test_generic_standard_webhooks(world: World) -> None:
    body = generic_body(discount_codes=["TENOFF"])
    h = generic_headers(body, world.gen_secret, "msg_1")
    for expected in ("created", "duplicate"):
        r = await world.live.client.post("/postbacks/generic/gen", content=body, headers=h)
        assert r.status_code == 200 and r.json()["status"] == expected
    o = await world.order("G-1", "gen")
    assert o["creator_id"] == world.maya and o["currency"] == "EUR" and o["net_minor"] == 4999
    # wrapped form {"type", "data"} and a refund
    wrapped = dumps(
        {
            "type": "order.updated",
            "timestamp": "2026-11-21T00:00:00Z",
            "data": json.loads(
                generic_body(
                    updated_at="2026-11-21T00:00:00Z",
                    refunds=[{"id": "r1", "amount_minor": 999}],
                    discount_codes=["TENOFF"],
                )
            ),
        }
    )
    r = await world.live.client.post(
        "/postbacks/generic/gen",
        content=wrapped,
        headers=generic_headers(wrapped, world.gen_secret, "msg_2"),
    )
    assert r.json()["status"] == "updated"
    assert (await world.order("G-1", "gen"))["net_minor"] == 4000


async def test_generic_rotation_and_tolerance(world: World) -> None:
    body = generic_body()
    old = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    h = generic_headers(body, old, "msg_r", extra_secrets=(world.gen_secret,))
    assert (
        await world.live.client.post("/postbacks/generic/gen", content=body, headers=h)
    ).status_code == 200
    for delta in (timedelta(minutes=-6), timedelta(minutes=6)):
        h = generic_headers(body, world.gen_secret, "msg_t", at=datetime.now(UTC) + delta)
        r = await world.live.client.post("/postbacks/generic/gen", content=body, headers=h)
        assert r.status_code == 401
    bad = generic_body(total_minor=-5)
    r = await world.live.client.post(
        "/postbacks/generic/gen",
        content=bad,
        headers=generic_headers(bad, world.gen_secret, "msg_b"),
    )
    assert r.status_code == 422 and "total_minor" in r.json()["detail"]


async def test_a_generic_body_that_is_not_utf8_is_422_even_when_signed(world: World) -> None:
    """Signed over its bytes as the Standard Webhooks spec says, a body that is not UTF-8 is
    named for what it is (it was a 401, "signature does not match"), and stores nothing."""
    body = generic_body().replace(b'"G-1"', b'"G-\xff"')
    assert b"\xff" in body
    at = str(int(datetime.now(UTC).timestamp()))
    key = base64.b64decode(world.gen_secret.removeprefix("whsec_"))
    mac = hmac.new(key, f"msg_u.{at}.".encode() + body, hashlib.sha256).digest()
    headers = {
        "content-type": "application/json",
        "webhook-id": "msg_u",
        "webhook-timestamp": at,
        "webhook-signature": "v1," + base64.b64encode(mac).decode(),
    }
    r = await world.live.client.post("/postbacks/generic/gen", content=body, headers=headers)
    assert r.status_code == 422 and "UTF-8" in r.json()["detail"], r.text
    assert await world.count("orders") == 0


async def test_pixel(world: World) -> None:
    cid = await world.click("maya")
    url = f"/postbacks/pixel/demo?order_id=P1&amount=12.50&currency=USD&click_id={cid}"
    assert (await world.live.client.get(url + "&token=wrong")).status_code == 401
    r = await world.live.client.get(f"{url}&token={world.pixel_token}")
    assert r.status_code == 200 and r.headers["content-type"] == "image/gif"
    await world.live.client.get(f"{url}&token={world.pixel_token}")
    o = await world.order("P1", "demo")
    assert o["total_minor"] == 1250 and o["creator_id"] == world.maya
    assert await world.count("orders") == 1
    r = await world.live.client.get(
        f"/postbacks/pixel/demo?order_id=P2&amount=abc&token={world.pixel_token}"
    )
    assert r.status_code == 422


async def test_rejected_postbacks_are_rate_limited_per_ip(world: World) -> None:
    headers = shopify_headers(SHOPIFY_BODY)
    headers["X-Shopify-Hmac-Sha256"] = "bm9wZQ=="
    codes = []
    for _ in range(62):
        r = await world.live.client.post(
            "/postbacks/shopify/demo", content=SHOPIFY_BODY, headers=headers
        )
        codes.append(r.status_code)
    assert codes[:60] == [401] * 60 and codes[-1] == 429
    assert int(r.headers["retry-after"]) >= 1
    assert await world.count("orders") == 0


async def test_bot_clicks_never_match_by_fingerprint(world: World) -> None:
    """The fingerprint index holds human clicks only; a previewer with the order's exact
    agent and address must not win the order."""
    bot = "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)"
    await world.click("bob", **{"user-agent": bot, "accept-language": "en-US"})
    data = shopify_order(
        discount_codes=[],
        discount_applications=[],
        client_details={
            "browser_ip": "203.0.113.99",
            "user_agent": bot,
            "accept_language": "en-US",
        },
        created_at=datetime.now(UTC).isoformat(),
    )
    assert (await world.shopify(data)).status_code == 200
    o = await world.order()
    assert o["creator_id"] is None and o["winning_signal"] is None


async def test_deeply_nested_body_is_a_400_not_a_500(world: World) -> None:
    body = b"[" * 5000 + b"]" * 5000
    r = await world.shopify(body)
    assert r.status_code == 400 and "malformed JSON" in r.json()["detail"]
    assert await world.count("orders") == 0


async def test_shop_changes_reach_postbacks(world: World) -> None:
    """Secrets are cached for a second: changes through the store apply at once, changes
    made behind the store's back (another node, the CLI) within the cache's lifetime."""
    from tracker.store.shops import SHOP_CACHE_TTL

    assert (await world.shopify(shopify_order())).status_code == 200
    r = await world.live.client.patch(
        "/api/v1/shops/demo", headers=world.auth, json={"status": "disabled"}
    )
    assert r.status_code == 200
    assert (await world.shopify(shopify_order(id=1))).status_code == 404  # at once
    await world.live.store.db.execute("UPDATE shops SET status = 'active' WHERE slug = 'demo'")
    await asyncio.sleep(SHOP_CACHE_TTL + 0.1)
    assert (await world.shopify(shopify_order(id=2))).status_code == 200


async def test_an_order_with_thousands_of_codes_is_matched_in_chunks(world: World) -> None:
    """Codes are looked up and touches written several at a time (one statement for the
    usual one or two); a hostile body with 2,601 codes (33,813 touch parameters) still stores every touch, the known
    code still wins, and nothing exceeds the engines' parameter limits."""
    codes = [
        {"code": f"JUNK{i:04d}", "amount": "0.00", "type": "fixed_amount"} for i in range(2600)
    ]
    codes.insert(1700, {"code": "bob10", "amount": "1.00", "type": "fixed_amount"})
    r = await world.shopify(shopify_order(discount_codes=codes, discount_applications=[]))
    assert r.status_code == 200 and r.json()["status"] == "created", r.text
    o = await world.order()
    assert o["creator_id"] == world.bob and o["winning_signal"] == "code"
    assert len(o["touches"]) == 2601
    matched = [t for t in o["touches"] if t["matched"]]
    assert [t["code"] for t in matched] == ["bob10"]
    assert await world.count("touches") == 2601


async def test_shopify_code_from_either_discount_field_counts_once(world: World) -> None:
    """Shopify sends a code in both ``discount_codes`` and ``discount_applications``: each
    is read (the ``code`` of every entry; an automatic discount has none), a code found in
    only one of them is a code touch all the same, and one in both is one touch."""
    now = datetime.now(UTC).isoformat()
    cases = (
        ("C-1", [{"code": "TENOFF", "amount": "10.00"}], [], world.maya),
        ("C-2", [], [{"type": "discount_code", "code": "BOB10", "value": "10.0"}], world.bob),
        (
            "C-3",
            [{"code": "TENOFF"}],
            [{"type": "discount_code", "code": "TENOFF"}, {"type": "automatic", "title": "Sale"}],
            world.maya,
        ),
    )
    for oid, in_codes, in_applications, creator in cases:
        data = shopify_order(id=oid, created_at=now, discount_codes=in_codes,
                             discount_applications=in_applications)  # fmt: skip
        assert (await world.shopify(data)).status_code == 200
        o = await world.order(oid)
        assert (o["creator_id"], o["winning_signal"]) == (creator, "code"), oid
        assert [t["code"] for t in o["touches"]] == [(in_codes or in_applications)[0]["code"]]
    # compared as sent: one code in two letter cases is two touches, of the same creator
    data = shopify_order(id="C-4", created_at=now, discount_codes=[{"code": "tenoff"}],
                         discount_applications=[{"type": "discount_code", "code": "TENOFF"}])  # fmt: skip
    assert (await world.shopify(data)).status_code == 200
    o = await world.order("C-4")
    assert sorted((t["code"], t["creator_id"]) for t in o["touches"]) == [
        ("TENOFF", world.maya),
        ("tenoff", world.maya),
    ]
    assert o["creator_id"] == world.maya
