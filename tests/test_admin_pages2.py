"""Admin codes, shops, costs and creator pages over HTTP (httpx against the app, SQLite and
PostgreSQL): what each page writes, what it refuses, and what it never shows twice."""

from __future__ import annotations

import pytest

from tests.conftest import Running
from tests.test_admin import csrf_of, logged_in


async def two_creators(live: Running) -> tuple[dict, dict]:
    a = await live.store.create_creator({"handle": "maya", "platform": "instagram"})
    b = await live.store.create_creator({"handle": "liam", "platform": "tiktok"})
    return a, b


# -- codes ---------------------------------------------------------------------------------
@pytest.mark.anyio
async def test_codes_create_bulk_filter_disable_and_csv(live: Running) -> None:
    token = await logged_in(live)
    maya, liam = await two_creators(live)
    camp = await live.store.create_campaign({"name": "Spring"})
    r = await live.client.post(
        "/admin/codes",
        data={
            "csrf": token,
            "code": "MAYA10",
            "creator_id": "@maya",
            "value_type": "percent",
            "value": "10",
        },
    )
    assert r.status_code == 303, r.text
    # Same code in another case: refused, nothing written.
    r = await live.client.post(
        "/admin/codes", data={"csrf": token, "code": "maya10", "creator_id": "liam"}
    )
    assert r.status_code == 409 and "already exists" in r.text
    r = await live.client.post(
        "/admin/codes", data={"csrf": token, "code": "X", "creator_id": "nobody"}
    )
    assert r.status_code == 422
    r = await live.client.post(
        "/admin/codes/bulk",
        data={
            "csrf": token,
            "creators": "maya, @liam",
            "pattern": "handle_number",
            "number": "20",
            "campaign_id": camp["id"],
        },
    )
    assert r.status_code == 201, r.text
    assert "MAYA20" in r.text and "LIAM20" in r.text
    r = await live.client.post(
        "/admin/codes/bulk",
        data={"csrf": token, "creators": "liam", "pattern": "random", "prefix": "SPRING"},
    )
    assert r.status_code == 201 and "SPRING-" in r.text
    r = await live.client.post(
        "/admin/codes/bulk", data={"csrf": token, "creators": "ghost", "pattern": "random"}
    )
    assert r.status_code == 422
    assert len(await live.store.list_codes()) == 4
    page = await live.client.get("/admin/codes", params={"creator": "liam"})
    assert "LIAM20" in page.text and "MAYA10" not in page.text
    page = await live.client.get("/admin/codes", params={"campaign": camp["id"]})
    assert "MAYA20" in page.text and "MAYA10" not in page.text
    code = await live.store.get_code("MAYA10")
    r = await live.client.post(
        f"/admin/codes/{code['id']}/status", data={"csrf": token, "status": "disabled"}
    )
    assert r.status_code == 303
    assert (await live.store.get_code("MAYA10"))["status"] == "disabled"
    page = await live.client.get("/admin/codes", params={"status": "disabled"})
    assert "MAYA10" in page.text and "MAYA20" not in page.text
    csv = await live.client.get("/admin/codes.csv", params={"creator": "maya"})
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    lines = csv.text.strip().splitlines()
    assert lines[0].startswith("code,creator,campaign") and len(lines) == 3
    assert any(line.startswith("MAYA10,maya,,percent,10,,disabled") for line in lines)


# -- shops ---------------------------------------------------------------------------------
@pytest.mark.anyio
async def test_shop_secret_shown_once_rotation_and_deliveries(live: Running) -> None:
    token = await logged_in(live)
    r = await live.client.post(
        "/admin/shops",
        data={
            "csrf": token,
            "slug": "main",
            "name": "Main",
            "platform": "woocommerce",
            "currency": "EUR",
        },
    )
    assert r.status_code == 201, r.text
    secrets = await live.store.shop_secrets("main")
    assert secrets and secrets["secret"] in r.text and secrets["pixel_token"] in r.text
    assert "/postbacks/woocommerce/main" in r.text
    shop = await live.store.get_shop("main")
    again = await live.client.get(f"/admin/shops/{shop['id']}")
    assert again.status_code == 200
    assert secrets["secret"] not in again.text and secrets["pixel_token"] not in again.text
    listing = await live.client.get("/admin/shops")
    assert secrets["secret"] not in listing.text and "/postbacks/woocommerce/main" in listing.text
    # Rotation: a new secret shown once; the old one is kept as the previous secret.
    r = await live.client.post(f"/admin/shops/{shop['id']}/rotate", data={"csrf": token})
    assert r.status_code == 201
    rotated = await live.store.shop_secrets("main")
    assert rotated and rotated["secret"] != secrets["secret"]
    assert rotated["previous_secret"] == secrets["secret"] and rotated["secret"] in r.text
    assert rotated["secret"] not in (await live.client.get(f"/admin/shops/{shop['id']}")).text
    # A rejected postback shows with its reason.
    bad = await live.client.post(
        "/postbacks/woocommerce/main", content=b"{}", headers={"x-wc-webhook-signature": "nope"}
    )
    assert bad.status_code in (400, 401)
    page = await live.client.get(f"/admin/shops/{shop['id']}")
    assert "rejected" in page.text
    # Duplicate slug: refused, the typed secret is not echoed back.
    r = await live.client.post(
        "/admin/shops",
        data={
            "csrf": token,
            "slug": "main",
            "platform": "shopify",
            "secret": "typed-secret-0123456789",
        },
    )
    assert r.status_code == 409 and "typed-secret-0123456789" not in r.text


@pytest.mark.anyio
async def test_viewer_cannot_write_codes_or_shops(live: Running) -> None:
    maya, _ = await two_creators(live)
    await live.store.create_codes([{"code": "KEEP1", "creator_id": maya["id"]}])
    shop = await live.store.create_shop(
        {
            "slug": "s",
            "name": "S",
            "platform": "shopify",
            "currency": "USD",
            "secret": "x" * 32,
            "pixel_token": "p" * 24,
        }
    )
    code = await live.store.get_code("KEEP1")
    token = await logged_in(live, "viewer")
    for path in ("/admin/codes", "/admin/shops", f"/admin/shops/{shop['id']}"):
        r = await live.client.get(path)
        assert r.status_code == 200, path
        assert r.text.count('method="post"') == 1, path  # logout only
    for path, form in [
        ("/admin/codes", {"code": "NEW1", "creator_id": "maya"}),
        ("/admin/codes/bulk", {"pattern": "random"}),
        (f"/admin/codes/{code['id']}/status", {"status": "disabled"}),
        ("/admin/shops", {"slug": "t", "platform": "generic"}),
        (f"/admin/shops/{shop['id']}/rotate", {}),
        (f"/admin/shops/{shop['id']}/status", {"status": "disabled"}),
    ]:
        r = await live.client.post(path, data={**form, "csrf": token})
        assert r.status_code == 403, path
    assert [c["code"] for c in await live.store.list_codes()] == ["KEEP1"]
    assert (await live.store.get_code("KEEP1"))["status"] == "active"
    kept = await live.store.shop_secrets("s")
    assert kept and kept["secret"] == "x" * 32


@pytest.mark.anyio
async def test_new_pages_refuse_posts_without_csrf(live: Running) -> None:
    await logged_in(live)
    for path in ("/admin/codes", "/admin/codes/bulk", "/admin/shops"):
        r = await live.client.post(path, data={"code": "A1", "slug": "z", "platform": "generic"})
        assert r.status_code == 403 and "CSRF" in r.text, path
    assert await live.store.list_codes() == [] and await live.store.list_shops() == []
    assert csrf_of((await live.client.get("/admin/codes")).text)
