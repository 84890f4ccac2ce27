"""A hostile tester's second pass: each hole found from outside, as the request that opened it.

Every test here failed before its fix (the request as the tester sent it, through the app's
HTTP surface), on both engines where storage is involved.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from admin.creator_page import issue
from tests.admin.test_admin import ADMIN, add_user, login
from tests.conftest import ROOT, Running, make_settings, run_cli, running, server_env
from tests.postback_helpers import (
    SHOPIFY_SECRET,
    dumps,
    generic_headers,
    shopify_headers,
    shopify_order,
)
from tracker.core.money import MAX_MINOR

pytestmark = pytest.mark.anyio

REPORTS = (
    "/api/v1/reports/creator",
    "/api/v1/reports/tier.csv",
    "/api/v1/reports/overview",
    "/api/v1/reports/daily",
    "/api/v1/reports/scores",
    "/api/v1/reports/forecast",
    "/api/v1/reports/recommendations",
    "/api/v1/commissions/statement",
)
CREDIT_COLUMNS = (
    "model, seq, placed_at, currency, creator_id, campaign_id, link_id, code, method, country, "
    "variant, share, revenue_minor, counted, new_customer, customer_hash, value_until"
)


async def _shop_and_code(live: Running, auth: dict[str, str]) -> dict[str, Any]:
    c = live.client
    r = await c.post("/api/v1/creators", headers=auth, json={"handle": "maya"})
    assert r.status_code == 201, r.text
    r = await c.post("/api/v1/codes", headers=auth, json={"code": "MAYA15", "creator_id": "maya"})
    assert r.status_code == 201, r.text
    r = await c.post("/api/v1/shops", headers=auth, json={"slug": "gen", "platform": "generic"})
    assert r.status_code == 201, r.text
    shop: dict[str, Any] = r.json()
    return shop


async def _generic(live: Running, secret: str, msg_id: str, **order: Any) -> int:
    body = dumps(
        {"created_at": "2026-11-25T10:00:00Z", "currency": "USD", "discount_codes": ["MAYA15"]}
        | order
    )
    r = await live.client.post(
        "/postbacks/generic/gen", content=body, headers=generic_headers(body, secret, msg_id)
    )
    return r.status_code


# -- money: sums of accepted amounts ----------------------------------------------------------
async def test_sums_of_accepted_amounts_never_break_a_read(
    live: Running, auth: dict[str, str]
) -> None:
    """9,224 orders at the money cap (each accepted) add up past 2**63: SQLite's SUM raised
    "integer overflow" and PostgreSQL's CAST "bigint out of range", and every report and the
    dashboard answered 500 from then on. The orders are signed postbacks; the test stores
    their credit rows 3,100 times over in SQL (what 9,300 such postbacks store)."""
    shop = await _shop_and_code(live, auth)
    for i in range(3):
        status = await _generic(
            live, shop["secret"], f"cap-{i}", order_id=f"C{i}", total_minor=MAX_MINOR
        )
        assert status == 200
    await live.store.db.execute(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3100) "
        f"INSERT INTO order_credits (order_id, {CREDIT_COLUMNS}) "
        f"SELECT c.order_id || '-' || n.i, {CREDIT_COLUMNS} FROM order_credits c, n"
    )
    for path in REPORTS:
        r = await live.client.get(f"{path}?start=2026-11-01&end=2026-11-30", headers=auth)
        assert r.status_code == 200, (path, r.status_code)
    rows = (await live.client.get("/api/v1/reports/creator?start=2026-11-01", headers=auth)).json()
    assert (
        rows["rows"][0]["revenue_minor"] >= 9300 * MAX_MINOR * 0.99
        or rows["rows"][0]["revenue_minor"] == 2**63 - 1
    )
    await add_user(live, ADMIN, "admin")
    assert (await login(live.client, ADMIN)).status_code == 303
    for page in ("/admin/", "/admin/reports", "/admin/creators", "/admin/portfolio"):
        assert (await live.client.get(page)).status_code == 200, page


async def test_refunds_past_the_money_cap_are_a_422_never_a_500(
    live: Running, auth: dict[str, str]
) -> None:
    """One signed Shopify order listing 9,500 refunds of 1e13 (700 KB): their SQL sum passed
    2**63 inside the ingest and the shop got a 500 (and would retry for days). Refunds of
    one delivery adding up past the cap are now a 422; refunds gathered over many deliveries
    (each within it) sum without failing."""
    shop = await _shop_and_code(live, auth)
    r = await live.client.post(
        "/api/v1/shops",
        headers=auth,
        json={"slug": "demo", "platform": "shopify", "secret": SHOPIFY_SECRET},
    )
    assert r.status_code == 201
    refunds = [{"id": i, "transactions": [{"kind": "refund", "amount": 1e13}]} for i in range(9500)]
    order = shopify_order(id=777000112, refunds=refunds)
    body = json.dumps(order, separators=(",", ":")).encode()
    r = await live.client.post(
        "/postbacks/shopify/demo", content=body, headers=shopify_headers(body)
    )
    assert r.status_code == 422 and "refunds" in r.json()["detail"], r.text
    # Many deliveries, each within the cap: 9,300 refunds of an order already stored.
    assert await _generic(live, shop["secret"], "r-00", order_id="R0", total_minor=4000) == 200
    assert await _generic(live, shop["secret"], "r-0", order_id="R1", total_minor=5000) == 200
    shop_id = shop["id"]
    await live.store.db.execute(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 9300) "
        "INSERT INTO refunds (shop_id, order_external_id, external_id, amount_minor, currency, "
        f"refunded_at) SELECT '{shop_id}', 'R1', 'x' || n.i, {MAX_MINOR}, 'USD', "
        "'2026-11-26T00:00:00.000000Z' FROM n"
    )
    status = await _generic(
        live,
        shop["secret"],
        "r-1",
        order_id="R1",
        total_minor=5000,
        updated_at="2026-11-27T00:00:00Z",
        refunds=[{"id": "last", "amount_minor": 1}],
    )
    assert status == 200
    orders = (await live.client.get("/api/v1/orders?limit=10", headers=auth)).json()["items"]
    net = {o["external_id"]: o["net_minor"] for o in orders}
    assert net == {"R0": 4000, "R1": 0}  # an order without refunds keeps its total


async def test_labor_cost_over_the_money_cap_is_a_422(live: Running, auth: dict[str, str]) -> None:
    """Hours and rate are each in range; their product (1e17 minor units) was stored, past
    the cap every other amount keeps."""
    await _shop_and_code(live, auth)
    cost = {"creator_id": "maya", "kind": "labor", "incurred_on": "2026-11-02"}
    r = await live.client.post(
        "/api/v1/costs", headers=auth, json={**cost, "hours": 99999.999, "rate_minor": 10**12}
    )
    assert r.status_code == 422 and "hours" in r.json()["detail"], r.text
    r = await live.client.post(
        "/api/v1/costs", headers=auth, json={**cost, "hours": 1000, "rate_minor": 10**12}
    )
    assert r.status_code == 201 and r.json()["amount_minor"] == MAX_MINOR


@pytest.mark.parametrize(
    "amount", ["1_000", "\u0663", "Infinity", "0x10", "\uff11\uff12"], ids=repr
)
async def test_amounts_are_ascii_decimals(live: Running, auth: dict[str, str], amount: str) -> None:
    """Decimal also reads "1_000" as 1000 and Arabic-Indic or full-width digits as digits: a
    signed order of "1_000" USD was stored as 1,000.00. The one money parser now takes what
    JSON, CSV and people write in ASCII, else a 422 naming the field."""
    await _shop_and_code(live, auth)
    r = await live.client.post(
        "/api/v1/shops",
        headers=auth,
        json={"slug": "demo", "platform": "shopify", "secret": SHOPIFY_SECRET},
    )
    assert r.status_code == 201
    order = {k: v for k, v in shopify_order(id=4242).items() if not k.endswith("_set")}
    order |= {"total_price": amount, "subtotal_price": amount, "current_total_price": amount}
    body = dumps(order)
    r = await live.client.post(
        "/postbacks/shopify/demo", content=body, headers=shopify_headers(body)
    )
    assert r.status_code == 422 and "total_price" in r.json()["detail"], r.text
    csv = f"creator,kind,amount,date\nmaya,fee,{amount},2026-11-01\n".encode()
    r = await live.client.post("/api/v1/costs/import", headers=auth, content=csv)
    assert r.status_code == 200 and r.json()["errors"][0]["column"] == "amount", r.text


async def test_typed_amounts_keep_to_their_currency(live: Running, auth: dict[str, str]) -> None:
    """People's amounts (CSV, panel, CLI) with more decimals than the currency has were
    rounded without a word: "12.345" JPY was stored as 12 yen, "25.001" USD as 25.00. They
    are a 422 naming the column now; a shop's postback still rounds (a WooCommerce store
    set to 3 decimals sends them), and "ﬀf" is no longer read as the currency "FFF"."""
    await _shop_and_code(live, auth)
    csv = (
        "creator,kind,amount,currency,date\n"
        "maya,fee,12.345,JPY,2026-11-01\n"
        "maya,fee,25.001,USD,2026-11-01\n"
        "maya,fee,1.2345,KWD,2026-11-01\n"
        "maya,fee,5,\ufb00f,2026-11-01\n"
        "maya,fee,12.500,USD,2026-11-01\n"
    )
    r = await live.client.post("/api/v1/costs/import", headers=auth, content=csv.encode())
    errors = {e["row"]: e["column"] for e in r.json()["errors"]}
    assert errors == {1: "amount", 2: "amount", 3: "amount", 4: "currency"}, r.text
    r = await live.client.post(
        "/api/v1/shops",
        headers=auth,
        json={"slug": "demo", "platform": "shopify", "secret": SHOPIFY_SECRET},
    )
    order = {k: v for k, v in shopify_order(id=4243).items() if not k.endswith("_set")}
    order |= {"currency": "JPY", "total_price": "12.345", "subtotal_price": "12.345"}
    body = dumps(order)
    r = await live.client.post(
        "/postbacks/shopify/demo", content=body, headers=shopify_headers(body)
    )
    assert r.status_code == 200, r.text
    stored = (await live.client.get(f"/api/v1/orders/{r.json()['order_id']}", headers=auth)).json()
    assert (stored["currency"], stored["total_minor"]) == ("JPY", 12)


async def test_a_chosen_currency_is_an_iso_4217_one_a_shops_is_any_three_letters(
    live: Running, auth: dict[str, str]
) -> None:
    """A currency "ZZZ" passed as a budget's, a cost's, a shop's, a code's or a rule's currency (three
    letters were the whole rule) and made a row no report could total with anything. People's
    choices now come from ISO 4217 (``money.CURRENCIES``); what a shop sends is kept as sent,
    so an order in a currency we do not list is never lost."""
    await _shop_and_code(live, auth)
    c = live.client
    refused = [
        ("/api/v1/campaigns", {"name": "Z", "currency": "ZZZ", "budget_minor": 100}),
        (
            "/api/v1/costs",
            {
                "creator_id": "maya",
                "kind": "fee",
                "amount_minor": 5,
                "currency": "ZZZ",
                "incurred_on": "2026-11-01",
            },
        ),
        ("/api/v1/shops", {"slug": "z", "platform": "generic", "currency": "XTS"}),
        (
            "/api/v1/codes",
            {
                "code": "ZED10",
                "creator_id": "maya",
                "value_type": "fixed",
                "value": 100,
                "currency": "ZZZ",
            },
        ),
        (
            "/api/v1/commissions/rules",
            {"creator_id": "maya", "fixed_minor": 100, "currency": "ZZZ"},
        ),
    ]
    for path, body in refused:
        r = await c.post(path, headers=auth, json=body)
        assert r.status_code == 422 and "ISO 4217" in r.text, (path, r.status_code, r.text)
    r = await c.post(
        "/api/v1/costs/import",
        headers=auth,
        content=b"creator,kind,amount,currency,date\nmaya,fee,5,zzz,2026-11-01\n",
    )
    assert r.json()["errors"][0]["column"] == "currency", r.text
    assert (await c.get("/api/v1/costs", headers=auth)).json()["items"] == []
    r = await c.post(
        "/api/v1/campaigns",
        headers=auth,
        json={"name": "Yen", "currency": "JPY", "budget_minor": 5},
    )
    assert r.status_code == 201, r.text
    r = await c.post(
        "/api/v1/shops",
        headers=auth,
        json={"slug": "demo", "platform": "shopify", "secret": SHOPIFY_SECRET},
    )
    order = {k: v for k, v in shopify_order(id=4244).items() if not k.endswith("_set")}
    order |= {"currency": "ZZZ"}
    body = dumps(order)
    r = await c.post("/postbacks/shopify/demo", content=body, headers=shopify_headers(body))
    assert r.status_code == 200, r.text
    stored = (await c.get(f"/api/v1/orders/{r.json()['order_id']}", headers=auth)).json()
    assert stored["currency"] == "ZZZ"


async def test_csv_import_with_a_huge_field_is_a_422(live: Running, auth: dict[str, str]) -> None:
    """A field over the csv module's 128 KiB limit raised csv.Error: a 500 (and a traceback
    in ``tracker cost import``). It is a 422 naming the row; nothing is written."""
    await _shop_and_code(live, auth)
    for kind, header, row in (
        ("costs", "creator,kind,amount,date,note", "maya,fee,10,2026-11-01,"),
        ("posts", "creator,platform,format,posted_at,category", "maya,tiktok,reel,2026-11-01,"),
    ):
        body = f"{header}\n{row}\n{row}{'x' * 200_000}\n".encode()
        r = await live.client.post(f"/api/v1/{kind}/import", headers=auth, content=body)
        assert r.status_code == 422 and "row 2" in r.json()["detail"], (kind, r.text)
    assert (await live.client.get("/api/v1/costs", headers=auth)).json()["items"] == []


async def test_zero_and_three_decimal_currencies_read_right_on_the_creator_page(
    tmp_path: Path, database_url: str
) -> None:
    """The creator's own page (/c/TOKEN) divided every amount by 100: a 1,500 JPY order read
    "15.00 JPY", a 12.345 KWD one "123.45 KWD", and with JPY as the reporting currency the
    revenue KPI read 15.00. Amounts now go through the currency's own exponent."""
    settings = make_settings(tmp_path, database_url, TRACKER_REPORTING_CURRENCY="JPY")
    async with running(settings) as live:
        auth = await live.token()
        shop = await _shop_and_code(live, auth)
        at = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        for oid, currency, total in (("J1", "JPY", 1500), ("K1", "KWD", 12345)):
            status = await _generic(
                live, shop["secret"], oid, order_id=oid, currency=currency, total_minor=total,
                created_at=at,
            )  # fmt: skip
            assert status == 200
        creator = await live.store.get_creator("maya")
        token = await issue(live.store, creator["id"])
        page = (await live.client.get(f"/c/{token}")).text
    assert "1,500 JPY" in page and "12.345 KWD" in page, page
    assert 'id="kpi-revenue">1,500<' in page


async def test_pixel_tokens_are_hashed_and_never_kept_in_clear(
    live: Running, auth: dict[str, str]
) -> None:
    """The pixel token (a bearer token in the shop's thank-you page URL) was stored in clear
    in ``shops``, and a request that percent-encoded it (``%5F`` for ``_``, the same token
    to the parser) kept it in clear in the stored delivery: the token was masked by
    replacing its decoded text in the raw query. Now only its SHA-256 is stored, and the
    kept query is masked by name after parsing."""
    shop = await _shop_and_code(live, auth)
    token = shop["pixel_token"]
    rows = await live.store.db.fetch_all("SELECT pixel_token FROM shops")
    assert all(token not in str(r["pixel_token"]) for r in rows)
    encoded = "".join(f"%{ord(ch):02X}" for ch in token)
    for i, sent in enumerate((token, encoded)):
        r = await live.client.get(
            f"/postbacks/pixel/gen?token={sent}&order_id=P{i}&amount=12.50&currency=EUR"
        )
        assert r.status_code == 200 and r.headers["content-type"] == "image/gif", r.text
    r = await live.client.get("/postbacks/pixel/gen?token=wrong&order_id=P9&amount=1")
    assert r.status_code == 401
    bodies = await live.store.db.fetch_all("SELECT body FROM deliveries WHERE source = 'pixel'")
    assert len(bodies) == 2
    assert all(token not in b["body"] and encoded not in b["body"] for b in bodies), bodies
    # A token stored in clear before this change still verifies (until it is rotated).
    await live.store.db.execute("UPDATE shops SET pixel_token = 'legacy-token-0123456789'")
    live.store._shop_cache.clear()  # behind the app's back: drop its few seconds' cache
    r = await live.client.get(
        "/postbacks/pixel/gen?token=legacy-token-0123456789&order_id=P2&amount=1"
    )
    assert r.status_code == 200, r.text
    r = await live.client.patch("/api/v1/shops/gen", headers=auth, json={"pixel": True})
    fresh = r.json()["pixel_token"]
    assert fresh and fresh not in str(await live.store.db.fetch_all("SELECT * FROM shops"))


async def test_post_urls_are_web_urls(live: Running, auth: dict[str, str]) -> None:
    """A post's url was any text up to 2,048 characters and the Insights page makes a
    flagged post's url a link: ``javascript:`` was stored and shown as ``<a href=
    "javascript:...">``. It now passes the destination rule (API, CSV import, CLI), and a
    stored one is shown without the link."""
    await _shop_and_code(live, auth)
    r = await live.client.post(
        "/api/v1/links",
        headers=auth,
        json={"destination": "https://shop.example.com/", "slug": "p1", "creator_id": "maya"},
    )
    assert r.status_code == 201
    posted = (datetime.now(UTC) - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    post = {"creator_id": "maya", "platform": "tiktok", "format": "reel", "posted_at": posted}
    for url in ("javascript:alert(document.domain)", "data:text/html,x", "//evil.example"):
        r = await live.client.post("/api/v1/posts", headers=auth, json={**post, "url": url})
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "url", (url, r.text)
    csv = f"creator,platform,format,posted_at,url\nmaya,tiktok,reel,{posted},javascript:x\n"
    r = await live.client.post("/api/v1/posts/import", headers=auth, content=csv.encode())
    assert r.status_code == 200 and r.json()["errors"][0]["column"] == "url", r.text
    good = "https://www.tiktok.com/@maya/video/1"
    r = await live.client.post(
        "/api/v1/posts", headers=auth, json={**post, "url": good, "link_id": "p1"}
    )
    assert r.status_code == 201 and r.json()["url"] == good
    for _ in range(30):  # the post's link clicked by bots: the page flags it, with its url
        assert (await live.client.get("/p1", headers={"user-agent": "Twitterbot/1.0"})).is_redirect
    await live.flush()
    await add_user(live, ADMIN, "admin")
    assert (await login(live.client, ADMIN)).status_code == 303
    assert f'href="{good}"' in (await live.client.get("/admin/insights")).text
    # What the old rule let in, as a stored row: shown, never as a link.
    await live.store.db.execute("UPDATE posts SET url = 'javascript:alert(1)'")
    page = await live.client.get("/admin/insights")
    assert page.status_code == 200 and 'href="javascript' not in page.text


async def test_coupon_parameter_cannot_replace_the_click_id(
    live: Running, auth: dict[str, str]
) -> None:
    """A WooCommerce apply_code whose ``param`` was ``cl_cid`` sent shoppers to
    ``...&cl_cid=<click>&cl_cid=MAYA15``: PHP reads the last value, so the shop saw the code
    as the click id and the click was lost. A parameter the link sets itself is a 422."""
    await _shop_and_code(live, auth)
    link = {"destination": "https://shop.example.com/p", "creator_id": "maya"}
    for param in ("cl_cid", "utm_source", "utm_content"):
        r = await live.client.post(
            "/api/v1/links",
            headers=auth,
            json={**link, "apply_code": {"kind": "woocommerce", "param": param}},
        )
        assert r.status_code == 422 and "apply_code.param" in r.text, (param, r.text)
    r = await live.client.post(
        "/api/v1/links",
        headers=auth,
        json={**link, "slug": "ok", "apply_code": {"kind": "woocommerce", "param": "coupon"}},
    )
    assert r.status_code == 201
    location = (await live.client.get("/ok")).headers["location"]
    assert location.count("cl_cid=") == 1 and location.endswith("&coupon=MAYA15")


async def test_text_errors_name_their_field(live: Running, auth: dict[str, str]) -> None:
    """A NUL or a lone surrogate, or a null for a column that cannot be empty, was refused
    with ``"field": ""`` and a detail starting ": Value error, ...": which field?"""
    r = await live.client.post(
        "/api/v1/creators", headers=auth, json={"handle": "maya", "name": "a\x00b"}
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "name", r.text
    r = await live.client.post(
        "/api/v1/campaigns", headers=auth, json={"name": "spring", "currency": "EU\x00"}
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "currency", r.text
    await live.client.post("/api/v1/creators", headers=auth, json={"handle": "maya"})
    r = await live.client.patch("/api/v1/creators/maya", headers=auth, json={"handle": None})
    assert r.status_code == 422 and r.json()["detail"] == "handle: cannot be null"


def test_cli_refuses_text_that_is_not_utf8(tmp_path: Path) -> None:
    """Bytes that are not UTF-8 in an argument (a Latin-1 terminal) reached the store as lone
    surrogates and ended in a UnicodeEncodeError traceback (``tracker creator get $'\\xff'``,
    ``token create``, ``link get``...). And ``token create`` took any name (5,000
    characters) where the panel took 1 to 100: one rule now, for both."""
    env = server_env(tmp_path, f"sqlite:///{tmp_path / 'cli.db'}")
    for args in ([b"creator", b"get", b"\xff"], [b"token", b"create", b"\xfe\xff"]):
        out = subprocess.run(
            [sys.executable, "-m", "tracker", *args],
            cwd=ROOT, env=env, capture_output=True, timeout=60,
        )  # fmt: skip
        assert out.returncode == 2 and b"Traceback" not in out.stderr, out.stderr
        assert b"not valid Unicode" in out.stderr or b"lone surrogate" in out.stderr
    out = run_cli(env, "token", "create", "x" * 101)
    assert out.returncode == 1 and "name" in out.stderr and "Traceback" not in out.stderr
    assert run_cli(env, "token", "create", "ci").returncode == 0


def test_cli_output_never_carries_terminal_controls(tmp_path: Path) -> None:
    """A campaign name, a token name or a creator's name is any text the API takes: ESC
    sequences (clear the screen, retitle the window), BEL, CR, C1 controls (U+009B is a
    CSI) and bidirectional overrides reached the operator's terminal as they were through
    ``tracker campaign list``, ``tracker report campaign`` (tables) and ``creator get``
    (JSON: C1 and bidi characters). The CLI shows them escaped (hostile pass, third)."""
    env = server_env(tmp_path, f"sqlite:///{tmp_path / 'cli.db'}")
    hostile = "\x1b[2J\x1b]0;owned\x07\r\x9b31m\u202eexe.txt\u2028x"
    for args in (
        ("campaign", "create", "--name", "spring" + hostile),
        ("creator", "create", "--handle", "maya", "--name", hostile),
        ("token", "create", "ci" + hostile),
    ):
        out = run_cli(env, *args)
        assert out.returncode == 0, out.stderr
    for args in (
        ("campaign", "list"),
        ("token", "list"),
        ("report", "campaign"),
        ("creator", "get", "maya"),
        ("creator", "list"),
    ):
        out = run_cli(env, *args)
        assert out.returncode == 0, out.stderr
        for char in "\x1b\x07\r\x9b\u202e\u2028":
            assert char not in out.stdout, (args, char, out.stdout)
    shown = run_cli(env, "campaign", "list").stdout
    assert "spring\\u001b[2J\\u001b]0;owned\\u0007\\u000d\\u009b31m\\u202eexe.txt\\u2028x" in shown
    as_json = json.loads(run_cli(env, "creator", "get", "maya").stdout)
    assert as_json["name"] == hostile  # the JSON still reads back as what was stored
