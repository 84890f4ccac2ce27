"""Two real tracker processes on one PostgreSQL: every click once, a webhook sent to both
nodes at once applied once, and a link change seen by the other node within the cache TTL."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.conftest import Server, free_port, server_env
from tests.postback_helpers import SHOPIFY_BODY, SHOPIFY_SECRET, shopify_headers

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


async def clicks(urls: list[str], n: int) -> list[str]:
    ids: list[str] = []
    async with httpx.AsyncClient(timeout=30) as client:
        sem = asyncio.Semaphore(32)

        async def one(i: int) -> None:
            async with sem:
                r = await client.get(
                    urls[i % len(urls)], headers={"user-agent": f"Mozilla/5.0 n{i}"}
                )
                assert r.status_code == 302
                ids.append(parse_qs(urlsplit(r.headers["location"]).query)["cl_cid"][0])

        await asyncio.gather(*(one(i) for i in range(n)))
    return ids


async def same_webhook_to_both(a: str, b: str) -> list[dict[str, str]]:
    headers = shopify_headers(SHOPIFY_BODY, webhook_id="wh-race")
    async with httpx.AsyncClient(timeout=30) as client:
        rs = await asyncio.gather(
            *(
                client.post(f"{url}/postbacks/shopify/demo", content=SHOPIFY_BODY, headers=headers)
                for url in (a, b, a, b)
            )
        )
    assert all(r.status_code == 200 for r in rs), [r.text for r in rs]
    return [r.json() for r in rs]


def test_two_nodes_one_postgres(tmp_path: Path, pg_schema_url: str) -> None:
    env = server_env(tmp_path, pg_schema_url, TRACKER_LINK_CACHE_TTL="1")
    a = Server(env, free_port(), tmp_path / "a.log").start()
    b = Server(env, free_port(), tmp_path / "b.log").start()
    try:
        a.cli("creator", "create", "--handle", "maya")
        a.cli(
            "link",
            "create",
            "--destination",
            "https://shop.example.com/",
            "--slug",
            "go",
            "--creator",
            "maya",
        )
        a.cli(
            "shop", "create", "--slug", "demo", "--platform", "shopify", "--secret", SHOPIFY_SECRET
        )
        a.cli("code", "create", "--code", "TENOFF", "--creator", "maya")
        ids = asyncio.run(clicks([f"{a.url}/go", f"{b.url}/go"], 1000))
        results = asyncio.run(same_webhook_to_both(a.url, b.url))
        assert sorted(r["status"] for r in results) == [
            "created",
            "duplicate",
            "duplicate",
            "duplicate",
        ]
        # a link disabled through node A reaches node B within its cache TTL (1 s here)
        token = a.cli("token", "create", "t").strip()
        auth = {"Authorization": f"Bearer {token}"}
        assert httpx.get(f"{b.url}/go").status_code == 302
        httpx.delete(f"{a.url}/api/v1/links/go", headers=auth)
        deadline = time.monotonic() + 5
        while httpx.get(f"{b.url}/go").status_code != 410:
            assert time.monotonic() < deadline, "node B never saw the change"
            time.sleep(0.2)
    finally:
        a.stop()
        b.stop()
    srv = Server(env, free_port(), tmp_path / "c.log").start()
    try:
        token = srv.cli("token", "create", "t2").strip()
        auth = {"Authorization": f"Bearer {token}"}
        stats = httpx.get(f"{srv.url}/api/v1/links/go/stats", headers=auth).json()
        orders = httpx.get(f"{srv.url}/api/v1/orders", headers=auth).json()["items"]
        stored: list[str] = []
        for offset in (0, 1000):
            page = httpx.get(
                f"{srv.url}/api/v1/clicks?link=go&limit=1000&offset={offset}", headers=auth
            ).json()["items"]
            stored += [c["id"] for c in page]
    finally:
        srv.stop()
    print(f"clicks acknowledged={len(ids)} stored={stats['clicks']} orders={len(orders)}")
    assert len(set(ids)) == 1000
    assert set(ids) <= set(stored) and len(stored) == len(set(stored)) == stats["clicks"]
    assert len(orders) == 1 and orders[0]["net_minor"] == 19965
    assert json.dumps(orders).count("450789469") == 1
