"""The first hour (issue 16): printed URLs follow the served port, `admin create` without a
terminal says what to do, and `tracker demo` fills every page with recent data."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT, Running, Server, free_port, make_settings, running, server_env
from tracker import demo
from tracker.settings import Settings, url_for_address

PASSWORD = "correct horse battery staple"


@pytest.mark.slow
def test_every_printed_url_uses_the_port_actually_served(tmp_path: Path) -> None:
    port = free_port()
    assert port != 8000
    env = server_env(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite'}")
    srv = Server(env, port, tmp_path / "server.log").start()
    try:
        banner = (tmp_path / "server.log").read_text()
        assert f"http://127.0.0.1:{port}/SLUG" in banner
        assert f"http://127.0.0.1:{port}/admin" in banner
        assert ":8000" not in banner
        # the CLI, run while (or after) the server runs, prints the same address
        srv.cli("creator", "create", "--handle", "maya", "--platform", "instagram")
        link = json.loads(
            srv.cli(
                "link",
                "create",
                "--destination",
                "https://shop.example.com/p",
                "--creator",
                "maya",
                "--slug",
                "maya-spring",
            )
        )
        assert link["short_url"] == f"http://127.0.0.1:{port}/maya-spring"
        shop = json.loads(srv.cli("shop", "create", "--slug", "main", "--platform", "shopify"))
        assert shop["postback_url"] == f"http://127.0.0.1:{port}/postbacks/shopify/main"
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "tracker",
                "admin",
                "create",
                "--email",
                "a@brand.example",
                "--role",
                "admin",
                "--password-stdin",
            ],
            cwd=ROOT,
            env=env,
            input=PASSWORD + "\n",
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert out.returncode == 0, out.stderr
        with httpx.Client(base_url=srv.url) as client:
            page = client.get("/admin/login")
            csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
            r = client.post(
                "/admin/login",
                data={"csrf": csrf, "email": "a@brand.example", "password": PASSWORD},
            )
            assert r.status_code == 303
            links = client.get("/admin/links").text
            creator = client.get(f"/admin/creators/{link['creator_id']}").text
            shops = client.get("/admin/shops").text
        assert f'data-copy="http://127.0.0.1:{port}/maya-spring"' in links
        assert f"QR code for http://127.0.0.1:{port}/maya-spring" in creator
        assert f"http://127.0.0.1:{port}/postbacks/shopify/main" in shops
        for html in (links, creator, shops):
            assert "127.0.0.1:8000" not in html
    finally:
        srv.stop()


def test_base_url_setting_wins_over_the_served_address(tmp_path: Path) -> None:
    (tmp_path / "served_url").write_text("http://127.0.0.1:8611\n")
    env = {"TRACKER_DATA_DIR": str(tmp_path), "TRACKER_SECRET_KEY": "k" * 40}
    assert Settings.from_env(env).base_url == "http://127.0.0.1:8611"
    env["TRACKER_BASE_URL"] = "https://go.brand.example"
    assert Settings.from_env(env).base_url == "https://go.brand.example"
    assert url_for_address("0.0.0.0", 8611) == "http://127.0.0.1:8611"
    assert url_for_address("::", 80) == "http://[::1]:80"


def test_admin_create_without_a_terminal_fails_with_one_clear_line(tmp_path: Path) -> None:
    env = server_env(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite'}")
    out = subprocess.run(
        [sys.executable, "-m", "tracker", "admin", "create", "--email", "a@brand.example"],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 1
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert "--password-stdin" in lines[0] and "12 characters" in lines[0]
    assert "Traceback" not in out.stderr and "EOFError" not in out.stderr


@pytest.mark.anyio
async def test_demo_loads_a_recent_portfolio_through_the_real_ingest(
    tmp_path: Path, database_url: str
) -> None:
    settings = make_settings(tmp_path, database_url)
    async with running(settings) as live:
        counts = await demo.load(live.app, creators=40, orders=150)
        assert counts["creators"] == 40 and counts["orders"] == 150
        assert counts["clicks"] > 1000 and counts["costs"] >= 40 and counts["posts"] >= 40
        await _check_demo(live)
        with pytest.raises(Exception, match="already holds creators"):
            await demo.load(live.app, creators=5, orders=5)


async def _check_demo(live: Running) -> None:
    orders = await live.store.list_orders(limit=1000)
    assert len(orders) == 150
    assert {o["shop"] for o in orders} == {"demo-shopify", "demo-woo", "demo-app"}
    oldest = datetime.now(UTC) - timedelta(days=30)
    assert all(o["placed_at"] >= oldest.isoformat()[:10] for o in orders)
    methods = {o["method"] for o in orders}
    assert {"code", "click"} <= methods
    unattributed = [o for o in orders if o["creator_id"] is None]
    assert unattributed, "the demo should leave orders to triage"
    welcome = [
        t
        for o in unattributed
        for t in await live.store.order_touches(o["id"])
        if t["code"] == demo.UNKNOWN_CODE
    ]
    assert welcome, "some unattributed orders carry the unknown code"
    # the Audience page reads the demo's clicks as it would read real ones: the user agents'
    # device, OS and browser as the click capture describes them (the demo said "pc", and
    # "Chrome Mobile WebView" for a made-up TikTok agent)
    auth = await live.token()
    keys = {}
    for by in ("device", "browser"):
        r = await live.client.get(f"/api/v1/reports/breakdown?by={by}", headers=auth)
        keys[by] = {row["key"] for row in r.json()["rows"]}
    assert keys["device"] == {"mobile", "desktop", "bot"}
    assert {"Instagram", "TikTok", "Chrome", "Safari"} <= keys["browser"]


def test_readme_commands_paste_into_zsh_and_bash() -> None:
    """macOS's default shell, zsh, refuses an unquoted `?` ("no matches found") and both
    shells background at an unquoted `&`: every URL with a query in the README's shell
    blocks is quoted (the Quick start's `curl .../clicks?link=maya` was not)."""
    text = (ROOT / "README.md").read_text()
    unquoted = []
    for block in re.findall(r"```(?:sh|bash|shell)\n(.*?)```", text, re.S):
        for line in block.splitlines():
            bare = re.sub(r"'[^']*'|\"[^\"]*\"", "", line.split(" #")[0])
            if re.search(r"https?://\S*[?&]", bare):
                unquoted.append(line)
    assert unquoted == []
