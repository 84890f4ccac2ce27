"""Admin codes, shops, costs and creator pages over HTTP (httpx against the app, SQLite and
PostgreSQL): what each page writes, what it refuses, and what it never shows twice."""

from __future__ import annotations

import re

import pytest

from tests.admin.test_admin import csrf_of, logged_in
from tests.conftest import Running
from tracker.orders.sources.pixel import token_digest


async def two_creators(live: Running) -> tuple[dict, dict]:
    a = await live.store.create_creator({"handle": "maya", "platform": "instagram"})
    b = await live.store.create_creator({"handle": "liam", "platform": "tiktok"})
    return a, b


# -- codes ---------------------------------------------------------------------------------
@pytest.mark.anyio
async def test_codes_create_bulk_filter_disable_and_csv(live: Running) -> None:
    token = await logged_in(live)
    await two_creators(live)
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
            "pixel": "on",
        },
    )
    assert r.status_code == 201, r.text
    secrets = await live.store.shop_secrets("main")
    shown = re.search(r'id="shop-pixel-token">([^<]+)<', r.text)
    assert secrets and shown and secrets["pixel_token"] == token_digest(shown.group(1))
    assert secrets["secret"] in r.text and secrets["pixel_token"] not in r.text  # hashed
    assert "/postbacks/woocommerce/main" in r.text
    shop = await live.store.get_shop("main")
    again = await live.client.get(f"/admin/shops/{shop['id']}")
    assert again.status_code == 200
    assert secrets["secret"] not in again.text and shown.group(1) not in again.text
    listing = await live.client.get("/admin/shops")
    assert secrets["secret"] not in listing.text and "/postbacks/woocommerce/main" in listing.text
    # Rotation: a new secret shown once; the old one is kept as the previous secret.
    r = await live.client.post(f"/admin/shops/{shop['id']}/rotate", data={"csrf": token})
    assert r.status_code == 201
    rotated = await live.store.shop_secrets("main")
    assert rotated and rotated["secret"] != secrets["secret"]
    assert rotated["previous_secret"] == secrets["secret"] and rotated["secret"] in r.text
    assert rotated["secret"] not in (await live.client.get(f"/admin/shops/{shop['id']}")).text
    # Shopify picks its own secret: rotating needs the pasted one.
    await live.store.create_shop(
        {
            "slug": "shopi",
            "name": "S",
            "platform": "shopify",
            "currency": "USD",
            "secret": "s" * 32,
            "pixel_token": "p" * 24,
        }
    )
    r = await live.client.post("/admin/shops/shopi/rotate", data={"csrf": token})
    assert r.status_code == 422 and "Shopify" in r.text
    r = await live.client.post(
        "/admin/shops/shopi/rotate", data={"csrf": token, "secret": "shpss_new_0123456789"}
    )
    assert r.status_code == 201 and "shpss_new_0123456789" in r.text
    after = await live.store.shop_secrets("shopi")
    assert (
        after and after["secret"] == "shpss_new_0123456789" and after["previous_secret"] == "s" * 32
    )
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
    assert (await live.store.shop_secrets("main"))["platform"] == "woocommerce"


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


# -- costs, posts, creator page --------------------------------------------------------------
async def shopify_order_for(live: Running, code_owner: dict) -> None:
    """A real signed Shopify postback whose discount code belongs to ``code_owner``."""
    from datetime import UTC, datetime

    from tests.postback_helpers import SHOPIFY_SECRET, dumps, shopify_headers, shopify_order

    await live.store.create_shop(
        {
            "slug": "demo",
            "name": "Demo",
            "platform": "shopify",
            "currency": "USD",
            "secret": SHOPIFY_SECRET,
            "pixel_token": "p" * 24,
        }
    )
    await live.store.create_codes([{"code": "TENOFF", "creator_id": code_owner["id"]}])
    body = dumps(shopify_order(created_at=datetime.now(UTC).isoformat()))
    r = await live.client.post(
        "/postbacks/shopify/demo", content=body, headers=shopify_headers(body)
    )
    assert r.status_code == 200, r.text


@pytest.mark.anyio
async def test_cost_form_and_csv_imports_with_row_errors(live: Running) -> None:
    token = await logged_in(live)
    maya, _liam = await two_creators(live)
    r = await live.client.post(
        "/admin/costs",
        data={
            "csrf": token,
            "creator": "@maya",
            "kind": "fee",
            "amount": "250.50",
            "currency": "USD",
            "date": "2026-11-01",
            "note": "launch",
        },
    )
    assert r.status_code == 303, r.text
    [cost] = await live.store.list_costs()
    assert cost["amount_minor"] == 25050 and cost["creator_id"] == maya["id"]
    r = await live.client.post(
        "/admin/costs",
        data={"csrf": token, "creator": "@maya", "kind": "commission", "date": "2026-11-01"},
    )
    assert r.status_code == 422 and "rate_percent" in r.text
    r = await live.client.post(
        "/admin/costs",
        data={
            "csrf": token,
            "creator": "ghost",
            "kind": "fee",
            "amount": "1",
            "date": "2026-11-01",
        },
    )
    assert r.status_code == 422 and "ghost" in r.text
    assert len(await live.store.list_costs()) == 1
    # Import with one bad row (spreadsheet row 3): refused with its number, nothing written.
    bad = "creator,kind,amount,date\nmaya,product,12.00,2026-11-02\nliam,fee,abc,2026-11-02\n"
    for action in ("preview", "import"):
        r = await live.client.post(
            "/admin/costs/import",
            data={"csrf": token, "kind": "costs", "action": action, "text": bad},
        )
        assert r.status_code == 422, r.text
        assert "row 3" in r.text and "nothing was written" in r.text
    assert len(await live.store.list_costs()) == 1
    good = "creator,kind,amount,date\nmaya,product,12.00,2026-11-02\nliam,labor,,2026-11-02\n"
    good = good.replace("liam,labor,,", "liam,fee,3.00,")
    r = await live.client.post(
        "/admin/costs/import",
        data={"csrf": token, "kind": "costs", "action": "preview"},
        files={"file": ("c.csv", good.encode(), "text/csv")},
    )
    assert r.status_code == 200 and "2 rows, all valid" in r.text
    assert len(await live.store.list_costs()) == 1  # a preview writes nothing
    r = await live.client.post(
        "/admin/costs/import",
        data={"csrf": token, "kind": "costs", "action": "import", "text": good},
    )
    assert r.status_code == 303 and "imported=2" in r.headers["location"]
    assert len(await live.store.list_costs()) == 3
    page = await live.client.get("/admin/costs", params={"creator": "liam"})
    assert "3.00 USD" in page.text and "250.50" not in page.text
    # Posts: one bad row refused; then imported, and shown with engagement on the creator page.
    posts = (
        "creator,platform,format,posted_at,likes,comments,shares,followers\n"
        "maya,instagram,reel,2026-11-01T10:00:00Z,80,15,5,1000\n"
        "maya,myspace,reel,2026-11-01T10:00:00Z,1,1,1,10\n"
    )
    r = await live.client.post(
        "/admin/costs/import",
        data={"csrf": token, "kind": "posts", "action": "import", "text": posts},
    )
    assert r.status_code == 422 and "row 3 (platform)" in r.text
    assert await live.store.list_posts() == []
    r = await live.client.post(
        "/admin/costs/import",
        data={
            "csrf": token,
            "kind": "posts",
            "action": "import",
            "text": posts.rsplit("maya,myspace", 1)[0],
        },
    )
    assert r.status_code == 303
    page = await live.client.get(f"/admin/creators/{maya['id']}")
    assert "10.00 %" in page.text  # (80 + 15 + 5) / 1000
    assert "launch" in page.text and "250.50 USD" in page.text


@pytest.mark.anyio
async def test_creator_page_orders_and_band_filter(live: Running) -> None:
    await logged_in(live)
    maya, liam = await two_creators(live)
    await shopify_order_for(live, maya)
    page = await live.client.get(f"/admin/creators/{maya['id']}")
    assert "#1001" in page.text and "method-code" in page.text and "TENOFF" in page.text
    other = await live.client.get(f"/admin/creators/{liam['id']}")
    assert "#1001" not in other.text and "No order credited yet" in other.text
    # Band: maya earns 199.65 against a 10.00 fee -> strong; liam has no cost.
    from datetime import UTC, datetime

    today = datetime.now(UTC).date().isoformat()
    await live.store.add_cost(
        {
            "creator_id": maya["id"],
            "kind": "fee",
            "amount_minor": 1000,
            "currency": "USD",
            "incurred_on": today,
            "note": "",
        }
    )
    strong = await live.client.get("/admin/creators", params={"band": "strong"})
    assert "@maya" in strong.text and "@liam" not in strong.text
    none = await live.client.get("/admin/creators", params={"band": "no cost"})
    assert "@liam" in none.text and "@maya" not in none.text
    poor = await live.client.get("/admin/creators", params={"band": "poor"})
    assert "@liam" not in poor.text and "@maya" not in poor.text


@pytest.mark.anyio
async def test_viewer_cannot_add_or_import_costs(live: Running) -> None:
    await two_creators(live)
    token = await logged_in(live, "viewer")
    page = await live.client.get("/admin/costs")
    assert page.status_code == 200 and page.text.count('method="post"') == 1
    for path, form in [
        ("/admin/costs", {"creator": "maya", "kind": "fee", "amount": "1", "date": "2026-11-01"}),
        (
            "/admin/costs/import",
            {
                "kind": "costs",
                "action": "import",
                "text": "creator,kind,amount,date\nmaya,fee,1,2026-11-01\n",
            },
        ),
    ]:
        assert (await live.client.post(path, data={**form, "csrf": token})).status_code == 403
        assert (await live.client.post(path, data=form)).status_code == 403
    assert await live.store.list_costs() == []


@pytest.mark.anyio
async def test_new_pages_hostile_input_never_500(live: Running) -> None:
    from urllib.parse import quote

    from tests.admin.test_admin import HOSTILE

    token = await logged_in(live)
    maya, _ = await two_creators(live)
    for value in HOSTILE:
        safe = value.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
        for path, params in [
            ("/admin/codes", {"creator": safe, "campaign": safe, "status": safe}),
            ("/admin/codes.csv", {"creator": safe, "campaign": safe}),
            ("/admin/costs", {"creator": safe}),
            ("/admin/creators", {"band": safe}),
            (f"/admin/shops/{quote(safe[:40], safe='')}", {}),
            (f"/c/{quote(safe[:60], safe='')}", {}),
        ]:
            r = await live.client.get(path, params=params)
            assert r.status_code < 500, (path, value)
            assert "<script>alert" not in r.text
        for path, form in [
            ("/admin/codes", {"code": safe, "creator_id": safe, "value": safe, "currency": safe}),
            (
                "/admin/codes/bulk",
                {
                    "creators": safe,
                    "pattern": safe,
                    "number": safe,
                    "prefix": safe,
                    "campaign_id": safe,
                },
            ),
            ("/admin/shops", {"slug": safe, "platform": safe, "secret": safe, "currency": safe}),
            (
                "/admin/costs",
                {
                    "creator": safe,
                    "kind": safe,
                    "amount": safe,
                    "date": safe,
                    "hours": safe,
                    "rate_percent": safe,
                },
            ),
            (
                "/admin/costs/import",
                {
                    "kind": "costs",
                    "action": "import",
                    "text": f"creator,kind,amount,date\n{safe},{safe},{safe},{safe}\n",
                },
            ),
            ("/admin/costs/import", {"kind": safe, "text": "a\nb\n"}),
            (f"/admin/codes/{quote(safe[:40], safe='')}/status", {"status": "disabled"}),
            (f"/admin/creator-pages/{quote(safe[:40], safe='')}/revoke", {}),
            (f"/admin/shops/{quote(safe[:40], safe='')}/rotate", {}),
        ]:
            r = await live.client.post(path, data={**form, "csrf": token})
            assert r.status_code < 500, (path, value, r.text[:300])
    assert await live.store.list_costs() == [] and await live.store.list_shops() == []
    assert await live.store.list_creator_pages(maya["id"]) == []


@pytest.mark.anyio
async def test_cheap_dashboard_report_matches_the_exact_one_except_uniques(live: Running) -> None:
    """The dashboard's distinct=False / clicks=False shortcuts change nothing it shows."""
    from tests.admin.test_creator_pages import clicks
    from tracker.reports import build as reports

    token = await logged_in(live)
    maya, liam = await two_creators(live)
    await clicks(live, token, maya["id"], "m-1", 4)
    await clicks(live, token, liam["id"], "l-1", 2)
    await shopify_order_for(live, maya)
    assert (await live.client.get("/no-such-slug")).status_code == 404  # an orphan visit
    await live.flush()
    orphans = await live.store.list_orphan_visits()
    assert orphans, "an unknown slug is recorded as an orphan visit"
    p = reports.params_from({}, live.state.settings)
    exact = await reports.build(live.store, live.state.settings, p, "creator")
    cheap = await reports.build(live.store, live.state.settings, p, "creator", distinct=False)
    uniques = ("unique_clicks", "unique_visitors", "conversion_rate")
    strip = lambda rows: [{k: v for k, v in r.items() if k not in uniques} for r in rows]  # noqa: E731
    assert strip(exact["rows"]) == strip(cheap["rows"])
    for dimension in ("creator", "link", "campaign", "tier"):  # orphan visits never count
        result = await reports.build(live.store, live.state.settings, p, dimension)
        assert result["totals"]["clicks"] == 6, (dimension, len(orphans))
    # one device clicked both creators: one visitor per creator row, summed in the totals
    assert exact["totals"]["unique_visitors"] == 2 and cheap["totals"]["unique_visitors"] == 0
    full = await reports.daily(live.store, live.state.settings, p, "creator", None)
    quick = await reports.daily(live.store, live.state.settings, p, "creator", None, clicks=False)
    assert [(d["orders"], d["revenue_minor"]) for d in full] == [
        (d["orders"], d["revenue_minor"]) for d in quick
    ]
    assert sum(d["clicks"] for d in full) == 6 and sum(d["clicks"] for d in quick) == 0
    page = await live.client.get("/admin/reports")
    assert page.status_code == 200
