"""The admin panel in a real browser (headless Chromium via Playwright) against a real server.

Log in, create a creator and a link, generate codes, create a shop (secret shown once), open
the creator's own page without a session, import CSVs with one bad row (refused with its row
number, nothing written), import a good one, view the ROI table, switch the model, export
the CSV, log out. Screenshots go to tests/artifacts/
so a person can look at the pages. Chromium is Debian's (``/usr/bin/chromium``, which CI
installs); Playwright's own browser download is never used.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT, Server

CHROMIUM = os.environ.get("TRACKER_TEST_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = ROOT / "tests" / "artifacts"
EMAIL, PASSWORD = "manager@brand.example", "correct horse battery staple"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(),
        reason=f"browser tests need Chromium at {CHROMIUM} (CI installs it)",
    ),
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]


def create_user(server: Server, email: str, role: str, password: str) -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "tracker",
            "admin",
            "create",
            "--email",
            email,
            "--role",
            role,
            "--password-stdin",
        ],
        cwd=ROOT,
        env=server.env,
        input=password + "\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr


@pytest.fixture
def browser() -> Iterator[object]:
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


def log_in(page: object, base_url: str, email: str = EMAIL, password: str = PASSWORD) -> None:
    """The panel's log-in form, filled and sent; returns on the dashboard."""
    page.goto(base_url + "/admin/login")  # type: ignore[attr-defined]
    page.fill("input[name=email]", email)  # type: ignore[attr-defined]
    page.fill("input[name=password]", password)  # type: ignore[attr-defined]
    page.click("button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_url("**/admin/")  # type: ignore[attr-defined]


def shot(page: object, name: str, *, jpeg: bool = False) -> None:
    """A full-page screenshot in tests/artifacts/ (JPEG where a test takes dozens: half
    the time of a PNG)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / (f"{name}.jpg" if jpeg else f"{name}.png")
    kind = {"type": "jpeg", "quality": 80} if jpeg else {}
    page.screenshot(path=str(path), full_page=True, **kind)  # type: ignore[attr-defined]


def test_manager_flow(server: Server, browser: object, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    create_user(server, EMAIL, "admin", PASSWORD)
    context = browser.new_context(  # type: ignore[attr-defined]
        viewport={"width": 1280, "height": 800}, accept_downloads=True
    )
    page = context.new_page()
    problems: list[str] = []
    # Pages answered 401/422 on purpose log "Failed to load resource"; anything else
    # (a CSP violation, a script error, a missing asset) is a problem.
    page.on(
        "console",
        lambda m: (
            problems.append(m.text)
            if m.type == "error"
            and not m.text.startswith(
                "Failed to load resource: the server responded with a status of 4"
            )
            else None
        ),
    )
    page.on(
        "requestfinished",
        lambda req: (
            problems.append(f"{req.url} answered 404")
            if (resp := req.response()) and resp.status == 404
            else None
        ),
    )
    page.on("pageerror", lambda e: problems.append(str(e)))

    # Any admin page sends a stranger to the login form, then back where they were going.
    page.goto(server.url + "/admin/creators")
    expect(page).to_have_url(server.url + "/admin/login?next=%2Fadmin%2Fcreators")
    page.fill("input[name=email]", EMAIL)
    page.fill("input[name=password]", "wrong password here")
    page.click("button[type=submit]")
    expect(page.locator(".error-box")).to_contain_text("Wrong e-mail or password")
    shot(page, "01-login-refused")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(server.url + "/admin/creators")

    # Create a creator.
    form = page.locator("#new-creator form")
    form.locator("input[name=handle]").fill("@glowwithmia")
    form.locator("input[name=name]").fill("Mia Chen")
    form.locator("select[name=platform]").select_option("tiktok")
    form.locator("input[name=followers]").fill("48200")
    form.locator("input[name=category]").fill("beauty")
    form.locator("button[type=submit]").click()
    expect(page.locator("h1")).to_contain_text("@glowwithmia")
    expect(page.locator(".flash")).to_have_text("Created.")

    # Create a link for her, from her page: short URL, copy button and QR code appear.
    link_form = page.locator("#new-link form")
    link_form.locator("input[name=destination]").fill("https://shop.example.com/serum?x=1")
    link_form.locator("input[name=slug]").fill("mia-serum")
    link_form.locator("button[type=submit]").click()
    expect(page.locator(".flash")).to_have_text("Link created.")
    card = page.locator(".link-card").first
    expect(card).to_contain_text("/mia-serum")  # printed with TRACKER_BASE_URL
    expect(card.locator("svg.qr")).to_be_visible()
    expect(card.locator("button.copy")).to_be_visible()
    shot(page, "02-creator-detail")

    # The link works: the redirect carries the UTM defaults and a click id.
    import httpx

    r = httpx.get(f"{server.url}/mia-serum", follow_redirects=False)
    assert r.status_code == 302
    assert "utm_source=tiktok" in r.headers["location"]
    assert "utm_content=glowwithmia" in r.headers["location"]

    # Generate codes for her (bulk form), then see them in the list with a CSV link.
    page.goto(server.url + "/admin/codes")
    bulk = page.locator("#bulk-codes form")
    bulk.locator("textarea[name=creators]").fill("glowwithmia")
    bulk.locator("select[name=pattern]").select_option("handle_number")
    bulk.locator("input[name=number]").fill("20")
    bulk.locator("button[type=submit]").click()
    expect(page.locator("#codes-created")).to_contain_text("GLOWWITHMIA20")
    expect(page.locator("#codes-table")).to_contain_text("@glowwithmia")
    expect(page.locator("#codes-csv")).to_be_visible()
    shot(page, "03-codes-generated")

    # A shop: the secret and pixel token are shown once, with the URL to paste.
    page.goto(server.url + "/admin/shops")
    shop_form = page.locator("#new-shop form")
    shop_form.locator("input[name=slug]").fill("main-store")
    shop_form.locator("select[name=platform]").select_option("woocommerce")
    shop_form.locator("button[type=submit]").click()
    expect(page.locator("#shop-secrets")).to_contain_text("shown only this once")
    expect(page.locator("#postback-url")).to_contain_text("/postbacks/woocommerce/main-store")
    shot(page, "04-shop-created")
    page.goto(server.url + "/admin/shops")
    page.click("#shops-table a")
    expect(page.locator("#shop-secrets")).to_have_count(0)

    # Her own page: a secret link, opened without any admin session.
    page.goto(server.url + "/admin/creators/glowwithmia")
    page.click("#make-creator-page")
    own_url = page.locator("#creator-page-url").inner_text().strip()
    assert "/c/" in own_url
    stranger = browser.new_context(viewport={"width": 390, "height": 844})  # type: ignore[attr-defined]
    own = stranger.new_page()
    own.goto(server.url + "/c/" + own_url.rsplit("/c/", 1)[1])
    expect(own.locator("h1")).to_contain_text("@glowwithmia")
    expect(own.locator("#creator-kpis")).to_contain_text("Your commission")
    shot(own, "05-creator-own-page")
    stranger.close()

    # A costs CSV whose second data row is bad: refused with its row number (3, counting
    # the header), nothing written.
    page.goto(server.url + "/admin/costs")
    imp = page.locator("#import-costs form[enctype]")
    imp.locator("select[name=kind]").select_option("costs")
    imp.locator("textarea[name=text]").fill(
        "creator,kind,amount,date\nglowwithmia,fee,250.00,2026-11-01\n"
        "glowwithmia,fee,lots,2026-11-01\n"
    )
    imp.locator("button[type=submit]").click()
    expect(page.locator("#row-errors")).to_contain_text("row 3")
    expect(page.locator("#import-result")).to_contain_text("nothing was written")
    expect(page.locator("#costs-table tbody")).to_contain_text("No cost yet")
    shot(page, "06-costs-import-rejected")

    # Import a creators CSV whose third data row is bad: refused with its row number.
    bad = tmp_path / "creators.csv"
    bad.write_text(
        "handle,name,platform,followers,category\n"
        "importone,One,instagram,12000,fitness\n"
        "importtwo,Two,youtube,150000,tech\n"
        "importthree,Three,myspace,500,food\n"
    )
    page.goto(server.url + "/admin/import")
    page.set_input_files("input[type=file]", str(bad))
    page.click("form[enctype] button[type=submit]")
    errors = page.locator("#row-errors")
    expect(errors).to_contain_text("row 4: platform")
    expect(page.locator("#preview h2")).to_contain_text("nothing was written")
    expect(page.locator("#confirm-import")).to_have_count(0)
    shot(page, "07-import-rejected")
    page.goto(server.url + "/admin/creators?q=import")
    expect(page.locator("#creators-table tbody")).to_contain_text("No creator matches")

    # A good file: preview, then import all rows.
    good = tmp_path / "good.csv"
    good.write_text(
        "handle,platform,followers,category\n"
        "importone,instagram,12000,fitness\nimporttwo,youtube,150000,tech\n"
    )
    page.goto(server.url + "/admin/import")
    page.set_input_files("input[type=file]", str(good))
    page.click("form[enctype] button[type=submit]")
    expect(page.locator("#preview h2")).to_contain_text("2 rows, all valid")
    page.click("#confirm-import")
    expect(page.locator("main")).to_contain_text("2 creators imported")
    expect(page.locator("#creators-table tbody tr")).to_have_count(3)
    shot(page, "08-creators-list")

    # Filters and sorting: tier, then followers descending.
    page.goto(server.url + "/admin/creators?tier=mid")
    expect(page.locator("#creators-table tbody tr")).to_have_count(1)
    expect(page.locator("#creators-table tbody")).to_contain_text("@importtwo")
    page.goto(server.url + "/admin/creators?sort=followers&dir=desc")
    expect(page.locator("#creators-table tbody tr").first).to_contain_text("@importtwo")

    page.goto(server.url + "/admin/")
    expect(page.locator(".kpis").first).to_contain_text("Creators")
    expect(page.locator("svg.chart").first).to_be_visible()
    shot(page, "09-dashboard")
    page.goto(server.url + "/admin/links")
    expect(page.locator("#links-table")).to_contain_text("/mia-serum")
    shot(page, "10-links")

    # On a phone.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(server.url + "/admin/creators/glowwithmia")
    expect(page.locator("h1")).to_contain_text("@glowwithmia")
    shot(page, "11-phone-creator")
    page.goto(server.url + "/admin/")
    shot(page, "12-phone-dashboard")
    page.set_viewport_size({"width": 1280, "height": 800})

    # The ROI table: switch the model, export exactly what is shown as CSV.
    page.goto(server.url + "/admin/reports")
    expect(page.locator("#report")).to_contain_text("glowwithmia")
    expect(page.locator("#report tfoot")).to_contain_text("Total")
    page.select_option("#model", "linear")
    page.click("#report-form button[type=submit]")
    expect(page).to_have_url(re.compile(r".*model=linear.*"))
    expect(page.locator("#model")).to_have_value("linear")
    shot(page, "13-roi-table")
    headers = [h.strip(" ▲▼") for h in page.locator("#report thead th").all_inner_texts()]
    shown = page.locator("#report tbody tr").first.locator("td").all_inner_texts()
    with page.expect_download() as info:
        page.click("#export-csv")
    import csv

    path = tmp_path / "roi.csv"
    info.value.save_as(str(path))
    assert "linear" in info.value.suggested_filename
    rows = list(csv.reader(path.read_text(encoding="utf-8").splitlines()))
    assert rows[0] == headers
    assert [c.lstrip("'") for c in rows[1]] == shown  # exactly what is shown

    # Log out: back to the login form, and the old pages are closed.
    page.click(".logout button")
    expect(page.locator(".flash")).to_have_text("You are logged out.")
    page.goto(server.url + "/admin/")
    expect(page.locator("h1")).to_have_text("Log in")
    shot(page, "14-logged-out")
    assert problems == [], problems  # no CSP violation, no script error
    context.close()


def test_roi_table_switch_model_and_export(server: Server, browser: object, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    create_user(server, EMAIL, "viewer", PASSWORD)
    for handle in ("roialpha", "roibeta"):
        server.cli(
            "creator", "create", "--handle", handle, "--platform", "youtube", "--followers", "30000"
        )
        server.cli(
            "link",
            "create",
            "--creator",
            handle,
            "--slug",
            f"r-{handle}",
            "--destination",
            "https://shop.example.com/p",
        )
    import httpx

    for _ in range(3):
        httpx.get(
            f"{server.url}/r-roialpha",
            headers={
                "user-agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0"
            },
        )
    context = browser.new_context(
        viewport={"width": 1400, "height": 800},  # type: ignore[attr-defined]
        accept_downloads=True,
    )
    page = context.new_page()
    log_in(page, server.url)
    page.goto(server.url + "/admin/reports")
    expect(page.locator("#report")).to_contain_text("roialpha")
    expect(page.locator("#report tfoot")).to_contain_text("Total")
    page.select_option("#model", "linear")
    page.click("#report-form button[type=submit]")
    expect(page).to_have_url(re.compile(r".*model=linear.*"))
    expect(page.locator("#model")).to_have_value("linear")
    page.click("#report th a:text('Clicks')")
    shot(page, "15-roi-table-viewer")
    page.goto(server.url + "/admin/")
    expect(page.locator("#portfolio")).to_contain_text("Creators by ROI band")
    shot(page, "16-dashboard-roi")
    page.goto(server.url + "/admin/reports?model=linear&sort=clicks&dir=desc")
    headers = [h.strip(" ▲▼") for h in page.locator("#report thead th").all_inner_texts()]
    shown = page.locator("#report tbody tr").first.locator("td").all_inner_texts()
    with page.expect_download() as info:
        page.click("#export-csv")
    import csv

    path = tmp_path / "roi.csv"
    info.value.save_as(str(path))
    rows = list(csv.reader(path.read_text(encoding="utf-8").splitlines()))
    assert rows[0] == headers
    assert [c.lstrip("'") for c in rows[1]] == shown  # exactly what is shown
    context.close()
