"""The analysis desk in a real browser (issue 16): with the demo portfolio loaded
(`tracker demo`), every new page is walked at 1366x768 and at phone width (390x844) in
headless Chromium against a real server. At 1366 px nothing wraps or is cut (one-row
navigation, no horizontal scroll, tables fit); on a phone the page never scrolls sideways
(wide tables scroll inside their own box) and charts scale to the screen. Each page passes
an automated accessibility check (axe-core, vendored in tests/vendor, no network) with no
serious or critical violation. Screenshots go to tests/artifacts/.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.admin.test_admin_browser import (
    ARGS,
    CHROMIUM,
    EMAIL,
    PASSWORD,
    create_user,
    log_in,
    shot,
)
from tests.conftest import ROOT, Server, free_port, server_env

AXE = ROOT / "tests" / "vendor" / "axe.min.js"
PAGES = [
    ("dashboard", "/admin/"),
    ("creators", "/admin/creators"),
    ("creator", "/admin/creators/{creator}"),
    ("campaigns", "/admin/campaigns"),
    ("campaign", "/admin/campaigns/{campaign}"),  # its edit form
    ("links", "/admin/links"),
    ("link", "/admin/links/{link}"),  # its edit form and the targeting editor's forms
    ("codes", "/admin/codes"),
    ("code", "/admin/codes/{code}"),  # its edit form
    ("costs", "/admin/costs"),
    ("orders", "/admin/orders"),
    ("orders-unattributed", "/admin/orders?unattributed=1"),
    ("order", "/admin/orders/{order}"),
    ("roi", "/admin/reports"),
    ("portfolio", "/admin/portfolio"),
    ("overlap", "/admin/portfolio/overlap"),
    ("leaks", "/admin/portfolio/leaks"),
    ("advice", "/admin/portfolio/advice"),
    ("reach", "/admin/reach"),
    ("audience", "/admin/audience?creator_id={creator}"),
    ("insights-engagement", "/admin/insights"),
    ("insights-scores", "/admin/insights/scores"),
    ("insights-timing", "/admin/insights/timing?by=platform"),
    ("insights-content", "/admin/insights/content"),
    ("insights-forecast", "/admin/insights/forecast"),
    ("journeys", "/admin/journeys"),
    ("exposure", "/admin/journeys/exposure"),
    ("collabs", "/admin/journeys/collabs"),
    ("survey", "/admin/journeys/survey"),
]
SIZES = {"desktop": (1366, 768), "phone": (390, 844)}
MEASURE = """() => ({
  scrollWidth: document.documentElement.scrollWidth,
  width: innerWidth,
  navRows: new Set([...document.querySelectorAll('.nav a')].map(a => a.offsetTop)).size,
  navOverflow: (() => { const n = document.querySelector('.nav'),
      f = document.querySelector('.logout');
      const last = [...n.querySelectorAll('a')].pop().getBoundingClientRect();
      return Math.max(n.scrollWidth - n.clientWidth,
                      f ? last.right - f.getBoundingClientRect().left : 0); })(),
  cutTables: [...document.querySelectorAll('.table-wrap')]
      .filter(t => t.scrollWidth > t.clientWidth + 1).length,
  chartOverflow: [...document.querySelectorAll('svg.chart')]
      .filter(s => s.getBoundingClientRect().right > innerWidth + 1).length,
  charts: document.querySelectorAll('svg.chart').length,
})"""
AXE_RUN = """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
  .filter(v => v.impact === 'serious' || v.impact === 'critical')
  .map(v => v.id + ': ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', '))"""

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(),
        reason=f"browser tests need Chromium at {CHROMIUM} (CI installs it)",
    ),
]


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("demo")
    env = server_env(tmp, f"sqlite:///{tmp / 'tracker.db'}")
    out = subprocess.run(
        [sys.executable, "-m", "tracker", "demo", "--creators", "150", "--orders", "600"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    srv = Server(env, free_port(), tmp / "server.log").start()
    create_user(srv, EMAIL, "admin", PASSWORD)
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def chromium() -> Iterator[object]:
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


def _refs(server: Server) -> dict[str, str]:
    import sqlite3

    db = sqlite3.connect(server.env["TRACKER_DATABASE_URL"].removeprefix("sqlite:///"))
    try:
        (order,) = db.execute(
            "SELECT id FROM orders WHERE creator_id IS NOT NULL ORDER BY placed_at DESC LIMIT 1"
        ).fetchone()
        (creator,) = db.execute(
            "SELECT creator_id FROM orders WHERE creator_id IS NOT NULL "
            "GROUP BY creator_id ORDER BY COUNT(*) DESC LIMIT 1"
        ).fetchone()
        (link,) = db.execute(
            "SELECT id FROM links ORDER BY targeting IS NULL, created_at LIMIT 1"
        ).fetchone()
        (campaign,) = db.execute("SELECT id FROM campaigns ORDER BY name_key LIMIT 1").fetchone()
        (code,) = db.execute("SELECT id FROM codes ORDER BY code_key LIMIT 1").fetchone()
    finally:
        db.close()
    return {"order": order, "creator": creator, "link": link, "campaign": campaign, "code": code}


@pytest.mark.parametrize("size", list(SIZES))
def test_walk_the_analysis_pages(demo_server: Server, chromium: object, size: str) -> None:
    width, height = SIZES[size]
    # bypass_csp only so the test can inject axe-core; the panel's own CSP is exercised by
    # test_admin_browser.py (a violation there is a failure).
    context = chromium.new_context(  # type: ignore[attr-defined]
        viewport={"width": width, "height": height}, bypass_csp=True
    )
    # axe-core in every page the context opens (compiled once, not sent again per page)
    context.add_init_script(script=AXE.read_text())
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    log_in(page, demo_server.url)
    refs = _refs(demo_server)
    problems: list[str] = []
    for name, path in PAGES:
        response = page.goto(demo_server.url + path.format(**refs))
        assert response is not None and response.status == 200, (path, response)
        m = page.evaluate(MEASURE)
        if m["scrollWidth"] > m["width"]:
            problems.append(f"{name}: page scrolls sideways ({m['scrollWidth']} > {m['width']})")
        if m["chartOverflow"]:
            problems.append(f"{name}: {m['chartOverflow']} chart(s) wider than the screen")
        if size == "desktop":
            if m["navRows"] != 1:
                problems.append(f"{name}: navigation on {m['navRows']} rows")
            if m["navOverflow"] > 0:
                problems.append(f"{name}: navigation runs {m['navOverflow']} px under log-out")
            if m["cutTables"]:
                problems.append(f"{name}: {m['cutTables']} table(s) cut at 1366 px")
        serious = page.evaluate(AXE_RUN)
        problems += [f"{name}: accessibility: {v}" for v in serious]
        shot(page, f"16-{size}-{name}", jpeg=True)
    context.close()
    assert not errors, errors
    assert not problems, json.dumps(problems, indent=1)


def test_keyboard_reaches_filters_and_focus_is_visible(
    demo_server: Server, chromium: object
) -> None:
    """Tab from the top of the orders page reaches the filter form, and the focused
    control shows an outline (focus is never hidden)."""
    context = chromium.new_context(viewport={"width": 1366, "height": 768})  # type: ignore[attr-defined]
    page = context.new_page()
    log_in(page, demo_server.url)
    page.goto(demo_server.url + "/admin/orders")
    reached = None
    for _ in range(40):
        page.keyboard.press("Tab")
        info = page.evaluate(
            """() => { const e = document.activeElement; const s = getComputedStyle(e);
            return {name: e.getAttribute('name'), outline: s.outlineStyle,
                    width: parseFloat(s.outlineWidth), shadow: s.boxShadow}; }"""
        )
        if info["name"] == "creator":
            reached = info
            break
    context.close()
    assert reached is not None, "the creator filter is not reachable with Tab"
    assert (reached["outline"] != "none" and reached["width"] > 0) or reached["shadow"] != "none"
