"""The orders page and the triage action (issue 16): an unknown code (WELCOME10) is found,
given to a creator, and the orders that carried it are re-attributed with a new
explanation; the list filters, paginates and exports exactly what it shows."""

from __future__ import annotations

import csv
import io

import pytest

from tests.admin.test_admin import csrf_of, logged_in
from tests.conftest import Running
from tests.postback_helpers import SHOPIFY_SECRET, dumps, shopify_headers, shopify_order
from tracker import demo

pytestmark = pytest.mark.anyio


async def _setup(live: Running) -> None:
    auth = await live.token()
    c = live.client
    for handle in ("maya", "bob"):
        r = await c.post("/api/v1/creators", headers=auth, json={"handle": handle})
        assert r.status_code == 201
    r = await c.post(
        "/api/v1/shops",
        headers=auth,
        json={"slug": "demo", "platform": "shopify", "secret": SHOPIFY_SECRET},
    )
    assert r.status_code == 201


async def _post(live: Running, order_id: int, code: str) -> None:
    data = shopify_order(
        id=order_id,
        name=f"#{order_id}",
        discount_codes=[{"code": code, "amount": "5.00", "type": "fixed_amount"}],
    )
    body = dumps(data)
    r = await live.client.post(
        "/postbacks/shopify/demo", content=body, headers=shopify_headers(body)
    )
    assert r.status_code == 200, r.text


async def test_unknown_code_is_assigned_and_its_orders_reattributed(live: Running) -> None:
    await _setup(live)
    for n in (5001, 5002):
        await _post(live, n, "welcome10")  # shoppers type codes in any case
    await _post(live, 5003, "SPRING")
    csrf = await logged_in(live)

    page = await live.client.get("/admin/orders?unattributed=1")
    assert page.status_code == 200
    assert "#5001" in page.text and "#5002" in page.text and "#5003" in page.text
    assert 'id="unknown-codes"' in page.text and "WELCOME10" in page.text
    before = next(o for o in await live.store.list_orders() if o["order_number"] == "#5001")
    assert before["creator_id"] is None

    r = await live.client.post(
        "/admin/orders/assign-code",
        data={"csrf": csrf, "code": "WELCOME10", "creator_id": "@maya"},
    )
    assert r.status_code == 303, r.text
    after = await live.client.get(r.headers["location"])
    assert "Now with a creator: 2 of the 2 orders that carried" in after.text

    maya = await live.store.get_creator("maya")
    orders = {o["order_number"]: o for o in await live.store.list_orders()}
    assert orders["#5001"]["creator_id"] == maya["id"] == orders["#5002"]["creator_id"]
    assert orders["#5001"]["method"] == "code"
    assert orders["#5003"]["creator_id"] is None  # another unknown code: untouched
    detail = await live.store.get_order(orders["#5001"]["id"])
    assert "WELCOME10" in detail["explanation"].upper() and "wins" in detail["explanation"]
    touches = await live.store.order_touches(orders["#5001"]["id"])
    welcome = [t for t in touches if (t["code"] or "").upper() == "WELCOME10"]
    assert [(t["method"], bool(t["matched"]), bool(t["winner"])) for t in welcome] == [
        ("code", True, True)
    ]
    assert welcome[0]["creator_id"] == maya["id"]
    # the order page shows the new explanation, the touch and the credit under every model
    page = await live.client.get(f"/admin/orders/{orders['#5001']['id']}")
    assert page.status_code == 200
    assert "@maya" in page.text and "Time decay" in page.text and "100%" in page.text
    # WELCOME10 is no longer unknown; SPRING still is
    page = await live.client.get("/admin/orders")
    triage = page.text.split('id="triage"')[1].split("</section>")[0]
    assert "SPRING" in triage and "WELCOME10" not in triage
    # the creator filter finds the re-attributed orders
    page = await live.client.get("/admin/orders?creator=maya")
    assert "#5001" in page.text and "#5002" in page.text and "#5003" not in page.text
    page = await live.client.get("/admin/orders?q=%235002")  # the order number as shown
    assert "#5002" in page.text and "#5001" not in page.text
    page = await live.client.get("/admin/orders?q=50%25")  # a literal %, not a wildcard
    assert "No order matches" in page.text


async def test_assigning_to_an_unknown_creator_names_the_field(live: Running) -> None:
    await _setup(live)
    await _post(live, 5001, "WELCOME10")
    csrf = await logged_in(live)
    r = await live.client.post(
        "/admin/orders/assign-code",
        data={"csrf": csrf, "code": "WELCOME10", "creator_id": "@nobody"},
    )
    assert r.status_code == 422
    assert "creator_id" in r.text and "nobody" in r.text
    assert (await live.store.list_orders())[0]["creator_id"] is None


async def test_a_viewer_cannot_assign_codes(live: Running) -> None:
    await _setup(live)
    await _post(live, 5001, "WELCOME10")
    csrf = await logged_in(live, role="viewer")
    page = await live.client.get("/admin/orders")
    assert "Assign and re-attribute" not in page.text
    r = await live.client.post(
        "/admin/orders/assign-code",
        data={"csrf": csrf, "code": "WELCOME10", "creator_id": "maya"},
    )
    assert r.status_code == 403
    assert (await live.store.list_orders())[0]["creator_id"] is None


async def test_orders_list_filters_paginates_and_exports_what_it_shows(live: Running) -> None:
    await demo.load(live.app, creators=30, orders=130)
    await logged_in(live)
    first = await live.client.get("/admin/orders")
    assert "1\u201350 of 130" in first.text and 'rel="next"' in first.text
    third = await live.client.get("/admin/orders?page=3")
    assert "101\u2013130 of 130" in third.text
    shown = {
        line.split('href="/admin/orders/')[1].split('"')[0]
        for line in third.text.splitlines()
        if 'href="/admin/orders/or_' in line
    }
    assert len(shown) == 30
    r = await live.client.get("/admin/orders?shop=demo-woo&format=csv")
    assert r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    woo = await live.store.search_orders(shop_id=(await live.store.get_shop("demo-woo"))["id"])
    assert len(rows) == woo[1] > 0
    assert {row["Shop"] for row in rows} == {"demo-woo"}
    page = await live.client.get("/admin/orders?shop=demo-woo&unattributed=1&method=code")
    assert "of 0" in page.text or "No order matches" in page.text
    r = await live.client.get("/admin/orders?unattributed=1&format=csv")
    unattributed = list(csv.DictReader(io.StringIO(r.text)))
    assert unattributed and {row["Creator"] for row in unattributed} == {"unattributed"}
    r = await live.client.get("/admin/orders?creator=@ghost")
    assert r.status_code == 404 and "ghost" in r.text
    assert csrf_of(r.text)


async def test_orders_list_at_the_ends_of_the_time_range(live: Running) -> None:
    """An order placed on 9999-12-31 is accepted and stored; filtering the list up to that
    day (``end=9999-12-31``) was a 500 (the day after it overflowed), and a start before
    1970 must not be one either (hostile pass, third)."""
    await _setup(live)
    await logged_in(live)
    c = live.client
    for order_id, placed in ((9001, "9999-12-31T23:59:59Z"), (9002, "1970-01-01T00:00:00Z")):
        body = dumps(shopify_order(id=order_id, name=f"#{order_id}", created_at=placed,
                                   updated_at=placed))  # fmt: skip
        r = await c.post("/postbacks/shopify/demo", content=body, headers=shopify_headers(body))
        assert r.status_code == 200, r.text
    for query, shown in (
        ("end=9999-12-31", {"#9001", "#9002"}),
        ("start=9999-12-31&end=9999-12-31", {"#9001"}),
        ("start=1970-01-01&end=1970-01-01", {"#9002"}),
        ("start=0001-01-01&end=0001-01-01", {"#9001", "#9002"}),  # out of range: no filter
    ):
        page = await c.get(f"/admin/orders?{query}&format=csv")
        assert page.status_code == 200, (query, page.text[-300:])
        rows = list(csv.DictReader(io.StringIO(page.text)))
        assert {r["Order"] for r in rows} == shown, query
