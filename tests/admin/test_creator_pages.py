"""A creator's own page (/c/{token}): secret, hashed, revocable, and blind to other creators."""

from __future__ import annotations

import hashlib
import re

import pytest

from tests.admin.test_admin import logged_in
from tests.admin.test_admin_pages2 import shopify_order_for, two_creators
from tests.conftest import Running
from tracker.commissions import ledger

IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)


async def make_page(live: Running, token: str, creator_id: str) -> str:
    r = await live.client.post(f"/admin/creators/{creator_id}/page", data={"csrf": token})
    assert r.status_code == 201, r.text
    m = re.search(r'id="creator-page-url">[^<]*(/c/[A-Za-z0-9_-]+)<', r.text)
    assert m, "the new link is on the page"
    return m.group(1)


async def clicks(live: Running, token: str, creator_id: str, slug: str, n: int) -> None:
    r = await live.client.post(
        "/admin/links",
        data={
            "csrf": token,
            "creator_id": creator_id,
            "slug": slug,
            "destination": "https://shop.example.com/p",
        },
    )
    assert r.status_code == 303, r.text
    for _ in range(n):
        assert (
            await live.client.get(f"/{slug}", headers={"user-agent": IPHONE})
        ).status_code == 302
    await live.flush()


@pytest.mark.anyio
async def test_creator_sees_only_their_own_data_and_revoked_link_404s(live: Running) -> None:
    token = await logged_in(live)
    maya, liam = await two_creators(live)
    await clicks(live, token, maya["id"], "maya-1", 3)
    await clicks(live, token, liam["id"], "liam-1", 7)
    await shopify_order_for(live, maya)  # 199.65 USD, credited to maya by her code
    await live.store.add_cost(
        {
            "creator_id": maya["id"],
            "kind": "commission",
            "rate_bp": 1000,
            "amount_minor": 0,
            "currency": "USD",
            "incurred_on": "2020-01-01",
            "note": "",
        }
    )
    assert await ledger.backfill(live.store) == 1  # the periodic job does it within minutes
    maya_url = await make_page(live, token, maya["id"])
    liam_url = await make_page(live, token, liam["id"])
    # Only hashes are stored; the token is not on the admin page a second time.
    raw = maya_url.rsplit("/", 1)[1]
    rows = await live.store.db.fetch_all("SELECT token_hash FROM creator_pages")
    assert hashlib.sha256(raw.encode()).hexdigest() in {r["token_hash"] for r in rows}
    assert raw not in repr(rows)
    assert raw not in (await live.client.get(f"/admin/creators/{maya['id']}")).text

    live.client.cookies.clear()  # no admin session needed
    page = await live.client.get(maya_url)
    assert page.status_code == 200
    assert "@maya" in page.text and "liam" not in page.text
    assert 'id="kpi-clicks">3<' in page.text
    kpis = page.text[page.text.find("creator-kpis") : page.text.find("Clicks per day")]
    assert 'id="kpi-revenue">199.65<' in kpis, kpis
    # 10 % of 199.65 = 19.965: the commissions ledger's amount, rounded half up (what is
    # paid); the rate was entered after the order, so the ledger's backfill enters it
    assert 'id="kpi-commission">19.97<' in kpis, kpis
    assert "your discount code" in page.text
    assert "on each credited order's net revenue" in kpis  # what the ledger pays on
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert "<script" not in page.text and "style=" not in page.text
    other = await live.client.get(liam_url)
    assert other.status_code == 200
    assert "@liam" in other.text and "maya" not in other.text
    assert 'id="kpi-clicks">7<' in other.text and "199.65" not in other.text
    assert "No order in these days" in other.text

    for bad in ("/c/" + raw[:-1] + ("A" if raw[-1] != "A" else "B"), "/c/short"):
        assert (await live.client.get(bad)).status_code == 404, bad
    assert (await live.client.get("/c/%00")).status_code == 400  # NUL refused before routing

    # Revoke maya's link: 404 at once; liam's keeps working.
    token = await logged_in_again(live)
    [p] = [p for p in await live.store.list_creator_pages(maya["id"])]
    r = await live.client.post(f"/admin/creator-pages/{p['id']}/revoke", data={"csrf": token})
    assert r.status_code == 303
    live.client.cookies.clear()
    assert (await live.client.get(maya_url)).status_code == 404
    assert (await live.client.get(liam_url)).status_code == 200


async def logged_in_again(live: Running) -> str:
    from tests.admin.test_admin import ADMIN, csrf_of, login

    assert (await login(live.client, ADMIN)).status_code == 303
    return csrf_of((await live.client.get("/admin/")).text)


@pytest.mark.anyio
async def test_viewer_cannot_make_or_revoke_creator_pages(live: Running) -> None:
    maya, _ = await two_creators(live)
    from admin.creator_page import issue

    await issue(live.store, maya["id"])
    [p] = await live.store.list_creator_pages(maya["id"])
    token = await logged_in(live, "viewer")
    page = await live.client.get(f"/admin/creators/{maya['id']}")
    assert page.text.count('method="post"') == 1  # logout only
    assert (
        await live.client.post(f"/admin/creators/{maya['id']}/page", data={"csrf": token})
    ).status_code == 403
    assert (
        await live.client.post(f"/admin/creator-pages/{p['id']}/revoke", data={"csrf": token})
    ).status_code == 403
    assert (await live.client.post(f"/admin/creators/{maya['id']}/page")).status_code == 403
    [still] = await live.store.list_creator_pages(maya["id"])
    assert still["revoked_at"] is None


@pytest.mark.anyio
async def test_own_page_lists_the_orders_of_its_range_and_says_how_they_count(
    live: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The page says "last 30 days": it lists the orders the creator won placed in those
    days (an older one is left out), a cancelled one marked as not counted, and says when
    there are more than it shows (at most ``ORDERS_SHOWN``, newest first)."""
    from datetime import UTC, datetime, timedelta

    from admin import creator_page
    from tests.postback_helpers import dumps, shopify_headers, shopify_order

    token = await logged_in(live)
    maya, _ = await two_creators(live)
    await shopify_order_for(live, maya)  # placed now, paid (part-refunded): 199.65 USD

    async def order(oid: int, days_ago: int, **changes: object) -> None:
        at = (datetime.now(UTC) - timedelta(days=days_ago)).isoformat()
        body = dumps(shopify_order(id=oid, name=f"#{oid}", created_at=at, **changes))
        r = await live.client.post(
            "/postbacks/shopify/demo", content=body, headers=shopify_headers(body)
        )
        assert r.status_code == 200, r.text

    await order(5001, 2, cancelled_at=datetime.now(UTC).isoformat(), cancel_reason="customer")
    await order(5002, 45)  # before the page's 30 days
    url = await make_page(live, token, maya["id"])
    live.client.cookies.clear()

    page = (await live.client.get(url)).text
    table = page[page.find('id="creator-orders"') : page.find("</table>")]
    assert table.count("<tr>") == 3, table  # header, the paid order, the cancelled one
    assert (datetime.now(UTC) - timedelta(days=45)).date().isoformat() not in table
    assert "cancelled (not counted)" in table and "0.00 USD" in table
    assert "partially refunded<" in table and "199.65 USD" in table
    scope = page[page.find('id="creator-orders-scope"') :]
    scope = scope[: scope.find("</p>")]
    assert "placed " in scope and "Cancelled and refunded orders are listed too" in scope
    assert "of more" not in scope

    monkeypatch.setattr(creator_page, "ORDERS_SHOWN", 1)
    page = (await live.client.get(url)).text
    table = page[page.find('id="creator-orders"') : page.find("</table>")]
    assert table.count("<tr>") == 2 and "199.65 USD" in table  # the newest
    assert "the latest 1 of more" in page
