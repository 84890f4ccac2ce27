"""Issue 18 pages in a real browser: add a webhook endpoint (secret shown once), disable it,
see a self-referral flag with its evidence, clear it, and the held commission is approved."""

from __future__ import annotations

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
from tests.admin.test_ledger_browser import approved_orders
from tests.conftest import Server, free_port, server_env
from tests.postback_helpers import dumps, generic_headers

__all__ = ["browser"]
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(),
        reason=f"browser tests need Chromium at {CHROMIUM} (CI installs it)",
    ),
]


@pytest.fixture
def srv(tmp_path: Path) -> Iterator[Server]:
    env = server_env(
        tmp_path, f"sqlite:///{tmp_path / 'b.db'}", TRACKER_WEBHOOK_ALLOW_PRIVATE="true"
    )
    s = Server(env, free_port(), tmp_path / "server.log").start()
    try:
        yield s
    finally:
        s.stop()


def test_webhooks_and_fraud_review_in_the_browser(srv: Server, browser: object) -> None:
    from playwright.sync_api import expect

    create_user(srv, EMAIL, "admin", PASSWORD)
    token = srv.cli("token", "create", "t").strip()
    api = httpx.Client(base_url=srv.url, headers={"Authorization": f"Bearer {token}"})
    assert api.post("/api/v1/creators", json={"handle": "maya"}).status_code == 201
    assert (
        api.post("/api/v1/codes", json={"code": "MAYA10", "creator_id": "maya"}).status_code == 201
    )
    shop = api.post("/api/v1/shops", json={"slug": "gen", "platform": "generic"}).json()
    api.post("/api/v1/commissions/rules", json={"creator_id": "maya", "rate_percent": "10"})
    api.post("/api/v1/fraud/identities", json={"creator_id": "maya", "email": "maya@example.com"})
    body = dumps(
        {
            "order_id": "SELF-1",
            "created_at": "2026-09-01T10:00:00Z",
            "currency": "EUR",
            "total_minor": 4999,
            "discount_codes": ["MAYA10"],
            "customer_email": "maya@example.com",
        }
    )
    r = api.post(
        "/postbacks/generic/gen", content=body, headers=generic_headers(body, shop["secret"], "m1")
    )
    assert r.status_code == 200, r.text

    page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()  # type: ignore[attr-defined]
    log_in(page, srv.url)

    # a webhook endpoint: the secret is on the answer page only
    page.goto(srv.url + "/admin/webhooks")
    form = page.locator("#new-webhook form")
    form.locator("input[name=url]").fill("http://127.0.0.1:9/hook")
    form.locator("input[value='order.updated']").check()
    form.locator("button[type=submit]").click()
    secret = page.locator("#webhook-secret").inner_text()
    assert secret.startswith("whsec_")
    shot(page, "events-01-webhook-secret")
    [ep] = api.get("/api/v1/webhooks").json()["items"]
    assert ep["event_types"] == ["order.updated"] and ep["url"] == "http://127.0.0.1:9/hook"
    page.goto(f"{srv.url}/admin/webhooks/{ep['id']}")  # coming back: no secret
    expect(page.locator("#webhook-secret")).to_have_count(0)
    assert secret not in page.content()
    page.locator("#webhook-disable").click()
    expect(page.locator("#webhook-status")).to_have_text("disabled")
    assert api.get(f"/api/v1/webhooks/{ep['id']}").json()["status"] == "disabled"

    # the self-referral flag holds the commission until cleared
    api.post("/api/v1/commissions/approve")
    assert approved_orders(api) == set()
    page.goto(srv.url + "/admin/fraud")
    row = page.locator("#fraud-table tbody tr").first
    expect(row).to_contain_text("self referral")
    expect(row).to_contain_text("@maya's own")
    shot(page, "events-02-fraud-flag")
    row.locator("button", has_text="Clear").click()
    expect(page.locator("#fraud-table")).to_contain_text("No open flag")
    api.post("/api/v1/commissions/approve")
    assert approved_orders(api) == {"SELF-1"}
    page.goto(srv.url + "/admin/commissions")
    expect(page.locator("#commissions-table")).to_contain_text("@maya")
    expect(page.locator("#commissions-table")).to_contain_text("5.00")  # major units
    shot(page, "events-03-commissions")
    api.close()
