"""Issue 18 in a real browser: a tier-wide commission rule added in the panel; a code
redemption far from the creator's clicks held by its flag (evidence on the Fraud page)
until a person clears it; the statement in major units and its CSV, cell for cell."""

from __future__ import annotations

import csv
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.admin.test_admin_browser import (
    CHROMIUM,
    EMAIL,
    PASSWORD,
    browser,
    create_user,
    log_in,
    shot,
)
from tests.admin.test_admin_browser_pages import AXE, AXE_RUN, MEASURE, SIZES
from tests.conftest import Server, free_port, server_env
from tests.postback_helpers import dumps, generic_headers
from tracker.core import clock

__all__ = ["browser"]
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(),
        reason=f"browser tests need Chromium at {CHROMIUM} (CI installs it)",
    ),
]
UA_POACHED = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148 Instagram 330.0.0.18.90 (iPhone15,2; iOS 17_4; en_US)"
)
UA_FOLLOWER = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Mobile Safari/537.36 TikTok 34.5.3"
)


def approved_orders(api: httpx.Client) -> set[str]:
    """The orders with approved commission, whoever approved them: this call or the
    server's own commission job, which runs five seconds after start and may win."""
    entries = api.get("/api/v1/commissions", params={"limit": 500}).json()["items"]
    return {e["order_external_id"] for e in entries if e["bucket"] == "approved"}


@pytest.fixture
def srv(tmp_path: Path) -> Iterator[Server]:
    env = server_env(tmp_path, f"sqlite:///{tmp_path / 'l.db'}", TRACKER_COMMISSION_HOLD_DAYS="0")
    s = Server(env, free_port(), tmp_path / "server.log").start()
    try:
        yield s
    finally:
        s.stop()


def test_tier_rule_far_flag_and_statement_in_the_browser(
    srv: Server, browser: object, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    create_user(srv, EMAIL, "admin", PASSWORD)
    token = srv.cli("token", "create", "t").strip()
    api = httpx.Client(base_url=srv.url, headers={"Authorization": f"Bearer {token}"})
    for handle in ("maya", "bob"):
        assert api.post("/api/v1/creators", json={"handle": handle}).status_code == 201
    assert api.post("/api/v1/codes", json={"code": "MAYA10", "creator_id": "maya"}).is_success
    link = {"destination": "https://shop.example.com/", "slug": "bob", "creator_id": "bob"}
    assert api.post("/api/v1/links", json=link).status_code == 201
    shop = api.post("/api/v1/shops", json={"slug": "gen", "platform": "generic"}).json()

    # bypass_csp only to inject axe-core at the end (the CSP is tested in test_admin_browser)
    context = browser.new_context(viewport={"width": 1366, "height": 768}, bypass_csp=True)  # type: ignore[attr-defined]
    page = context.new_page()
    log_in(page, srv.url)

    # a tier-wide rule: every nano creator (0 followers here) earns 10%
    page.goto(srv.url + "/admin/commissions")
    form = page.locator("#new-rule")
    form.locator("select[name=scope]").select_option("tier")
    form.locator("select[name=tier]").select_option("nano")
    form.locator("input[name=rate_percent]").fill("10")
    form.locator("button[type=submit]").click()
    expect(page.locator("#rules-table")).to_contain_text("tier nano")
    expect(page.locator("#rules-table")).to_contain_text("10% of each credited order's net revenue")
    [rule] = api.get("/api/v1/commissions/rules").json()["items"]
    assert (rule["scope"], rule["tier"], rule["rate_bp"]) == ("tier", "nano", 1000)

    # a shopper clicks bob's link, then pays with maya's code; another just types it
    with httpx.Client(base_url=srv.url) as shopper:
        r = shopper.get("/bob", headers={"user-agent": UA_POACHED})
        assert r.status_code == 302
    for _ in range(200):  # the click writer commits within a flush interval
        if api.get("/api/v1/clicks").json()["items"]:
            break
        time.sleep(0.02)
    for order_id, ua in (("FAR-1", UA_POACHED), ("OK-1", UA_FOLLOWER)):
        body = dumps(
            {
                "order_id": order_id,
                "created_at": clock.now_iso(),
                "currency": "EUR",
                "total_minor": 4999,
                "discount_codes": ["MAYA10"],
                "ip": "127.0.0.1",
                "user_agent": ua,
            }
        )
        headers = generic_headers(body, shop["secret"], f"m-{order_id}")
        r = api.post("/postbacks/generic/gen", content=body, headers=headers)
        assert r.status_code == 200, r.text
    api.post("/api/v1/commissions/approve")
    assert approved_orders(api) == {"OK-1"}  # FAR-1 is held by its flag

    page.goto(srv.url + "/admin/fraud")
    row = page.locator("#fraud-table tbody tr").first
    expect(row).to_contain_text("far from clicks")
    expect(row).to_contain_text("this device/network clicked @bob (1 clicks) instead")
    expect(row).to_contain_text("window: 30 days before the order")
    shot(page, "ledger-01-far-flag")
    row.locator("button", has_text="Clear").click()
    expect(page.locator("#fraud-table")).to_contain_text("No open flag")
    api.post("/api/v1/commissions/approve")
    assert approved_orders(api) == {"OK-1", "FAR-1"}

    page.goto(srv.url + "/admin/commissions")
    table = page.locator("#commissions-table")
    cells = table.locator("tbody tr").first.locator("td").all_inner_texts()
    assert cells[:8] == ["@maya", "EUR", "10.00", "0.00", "10.00", "0.00", "0.00", "10.00"]
    shot(page, "ledger-02-statement")
    headers = table.locator("thead th").all_inner_texts()[:8]
    with page.expect_download() as info:
        page.click("#statement-csv")
    path = tmp_path / "statement.csv"
    info.value.save_as(str(path))
    rows = list(csv.reader(path.read_text(encoding="utf-8").splitlines()))
    assert rows[0] == headers
    assert [c.lstrip("'") for c in rows[1]] == cells[:8]
    # mark paid with a reference: the balance owed drops to 0
    first = table.locator("tbody tr").first
    first.locator("input[name=reference]").fill("SEPA-2026-11-7")
    first.locator("button", has_text="Pay 10.00").click()
    expect(table.locator("tbody tr").first).to_contain_text("10.00")
    [payout] = api.get("/api/v1/commissions/payouts").json()["items"]
    assert (payout["amount_minor"], payout["reference"]) == (1000, "SEPA-2026-11-7")
    cells = page.locator("#commissions-table tbody tr").first.locator("td").all_inner_texts()
    assert cells[5] == "10.00" and cells[7] == "0.00"  # paid in the period; nothing owed

    # the new pages fit 1366 px and a phone, with no serious accessibility violation
    axe = AXE.read_text()
    problems: list[str] = []
    for size, (width, height) in SIZES.items():
        page.set_viewport_size({"width": width, "height": height})
        for path in ("/admin/commissions", "/admin/fraud?status=cleared", "/admin/shops"):
            page.goto(srv.url + path)
            m = page.evaluate(MEASURE)
            if m["scrollWidth"] > m["width"]:
                problems.append(f"{size} {path}: scrolls sideways")
            if size == "desktop" and (m["navRows"] != 1 or m["cutTables"]):
                problems.append(f"{size} {path}: nav rows {m['navRows']}, cut {m['cutTables']}")
            page.add_script_tag(content=axe)
            problems += [f"{size} {path}: {v}" for v in page.evaluate(AXE_RUN)]
    assert not problems, problems
    api.close()
