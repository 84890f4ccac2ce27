"""A real server process (uvicorn and granian where the server matters): CLI-made link, redirects over TCP, and no click lost on SIGTERM."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.conftest import Server, free_port, server_env
from tests.reliability.loadgen import flood

pytestmark = pytest.mark.slow


def test_cli_link_redirects_and_click_lands_within_a_second(server: Server) -> None:
    server.cli("creator", "create", "--handle", "maya", "--platform", "instagram")
    link = json.loads(
        server.cli(
            "link",
            "create",
            "--destination",
            "https://shop.example.com/p",
            "--creator",
            "maya",
            "--slug",
            "maya",
        )
    )
    assert link["slug"] == "maya"
    token = server.cli("token", "create", "ci").strip()
    r = httpx.head(f"{server.url}/maya")  # what `curl -sI` does
    assert r.status_code == 302
    loc = r.headers["location"]
    q = parse_qs(urlsplit(loc).query)
    assert q["utm_source"] == ["instagram"] and q["cl_cid"]
    auth = {"Authorization": f"Bearer {token}"}
    for _ in range(20):
        clicks = httpx.get(f"{server.url}/api/v1/clicks?link=maya", headers=auth).json()["items"]
        if clicks:
            break
        asyncio.run(asyncio.sleep(0.05))
    assert [c["id"] for c in clicks] == q["cl_cid"]


async def _flood(url: str, n: int, concurrency: int = 32) -> list[str]:
    ids: list[str] = []
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        sem = asyncio.Semaphore(concurrency)

        async def one(i: int) -> None:
            async with sem:
                r = await client.get(
                    f"{url}?n={i}", headers={"user-agent": f"Mozilla/5.0 t{i % 7}"}
                )
                assert r.status_code == 302
                ids.append(parse_qs(urlsplit(r.headers["location"]).query)["cl_cid"][0])

        await asyncio.gather(*(one(i) for i in range(n)))
    return ids


def test_sigterm_loses_no_click(tmp_path: Path, server_kind: str) -> None:
    db = tmp_path / "tracker.db"
    # a long flush interval: the clicks are still queued in memory when SIGTERM arrives
    env = server_env(
        tmp_path,
        f"sqlite:///{db}",
        TRACKER_FLUSH_INTERVAL_MS="1000",
        TRACKER_FLUSH_MAX_ROWS="100000",
        TRACKER_SERVER=server_kind,
    )
    srv = Server(env, free_port(), tmp_path / "server.log").start()
    try:
        srv.cli("link", "create", "--destination", "https://shop.example.com/", "--slug", "go")
        # raw keep-alive sockets (tests/reliability/loadgen.py): 2,000 clicks in about a
        # second, so most are still queued in memory when SIGTERM comes
        flooded = asyncio.run(
            flood(srv.port, ["/go", "/go?utm_term=t"], conns=32, max_requests=2000, seconds=60)
        )
        ids = list(flooded.acks)
        assert flooded.statuses == {302: 2000} and flooded.errors == 0, flooded.statuses
    finally:
        code = srv.stop()
    assert code in (0, -15)  # uvicorn re-raises SIGTERM after its graceful shutdown; granian 0
    with sqlite3.connect(db) as conn:
        stored = {r[0] for r in conn.execute("SELECT id FROM clicks")}
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    print(f"acknowledged={len(ids)} stored={len(stored)}")
    assert len(ids) == 2000 and set(ids) <= stored and len(stored) == 2000


def test_clicks_survive_restart(tmp_path: Path, database_url: str) -> None:
    env = server_env(tmp_path, database_url)
    srv = Server(env, free_port(), tmp_path / "a.log").start()
    srv.cli("link", "create", "--destination", "https://shop.example.com/", "--slug", "keep")
    ids = asyncio.run(_flood(f"{srv.url}/keep", 50, 8))
    srv.stop()
    srv2 = Server(env, free_port(), tmp_path / "b.log").start()
    try:
        token = srv2.cli("token", "create", "t").strip()
        stats = httpx.get(
            f"{srv2.url}/api/v1/links/keep/stats", headers={"Authorization": f"Bearer {token}"}
        ).json()
        assert stats["clicks"] == len(ids) == 50
    finally:
        srv2.stop()


def test_click_then_shopify_order_is_attributed_over_real_http(server: Server) -> None:
    from datetime import UTC, datetime

    from tests.postback_helpers import SHOPIFY_SECRET, dumps, shopify_headers, shopify_order

    server.cli("creator", "create", "--handle", "maya")
    server.cli(
        "link",
        "create",
        "--destination",
        "https://shop.example.com/",
        "--creator",
        "maya",
        "--slug",
        "maya",
    )
    server.cli(
        "shop", "create", "--slug", "demo", "--platform", "shopify", "--secret", SHOPIFY_SECRET
    )
    token = server.cli("token", "create", "t").strip()
    r = httpx.get(
        f"{server.url}/maya", headers={"user-agent": "Mozilla/5.0 (X11; Linux) Firefox/120"}
    )
    click_id = parse_qs(urlsplit(r.headers["location"]).query)["cl_cid"][0]
    order = shopify_order(
        discount_codes=[],
        discount_applications=[],
        landing_site=f"https://shop.example.com/?utm_source=instagram&cl_cid={click_id}",
        created_at=datetime.now(UTC).isoformat(),
    )
    body = dumps(order)
    time.sleep(0.3)  # a shopper takes longer than one flush interval (50 ms) to check out
    r = httpx.post(
        f"{server.url}/postbacks/shopify/demo",
        content=body,
        headers=shopify_headers(body, topic="orders/create"),
    )
    assert r.status_code == 200 and r.json()["status"] == "created"
    auth = {"Authorization": f"Bearer {token}"}
    data = httpx.get(f"{server.url}/api/v1/orders/{r.json()['order_id']}", headers=auth).json()
    assert data["winning_signal"] == "click" and data["touches"][0]["click_id"] == click_id
    maya = json.loads(server.cli("creator", "get", "maya"))
    assert data["creator_id"] == maya["id"]
