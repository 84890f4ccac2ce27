"""Events out across real processes: two nodes on one PostgreSQL deliver each event once;
a sender killed with -9 mid-delivery loses nothing (the lease runs out, another process
delivers)."""

from __future__ import annotations

import asyncio
import json
import signal
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import Server, free_port, server_env
from tests.events_helpers import SLOW, Receiver, verify
from tests.postback_helpers import dumps, generic_headers

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

FAST = {
    "TRACKER_WEBHOOK_ALLOW_PRIVATE": "true",
    "TRACKER_WEBHOOK_POLL_MS": "20",
    "TRACKER_WEBHOOK_RETRY_BASE_SECONDS": "1",
    "TRACKER_WEBHOOK_RETRY_MAX_SECONDS": "2",
    # no approval run: it would also publish a code.leak_flagged (60 code orders, no clicks)
    "TRACKER_COMMISSION_APPROVE_INTERVAL_MINUTES": "0",
}


async def setup(url: str, token: str, receiver: str) -> tuple[dict[str, str], str, str]:
    auth = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=url, headers=auth, timeout=30) as c:
        assert (await c.post("/api/v1/creators", json={"handle": "maya"})).status_code == 201
        r = await c.post("/api/v1/codes", json={"code": "MAYA10", "creator_id": "maya"})
        assert r.status_code == 201
        r = await c.post("/api/v1/shops", json={"slug": "gen", "platform": "generic"})
        shop_secret = r.json()["secret"]
        r = await c.post("/api/v1/webhooks", json={"url": receiver})
        assert r.status_code == 201, r.text
        return auth, shop_secret, r.json()["secret"]


async def send_orders(urls: list[str], shop_secret: str, n: int, prefix: str) -> None:
    async with httpx.AsyncClient(timeout=30) as c:
        for i in range(n):
            data: dict[str, Any] = {
                "order_id": f"{prefix}-{i}",
                "created_at": "2026-11-20T10:00:00Z",
                "currency": "EUR",
                "total_minor": 1000 + i,
                "discount_codes": ["MAYA10"],
            }
            body = dumps(data)
            h = generic_headers(body, shop_secret, f"m-{prefix}-{i}")
            r = await c.post(
                f"{urls[i % len(urls)]}/postbacks/generic/gen", content=body, headers=h
            )
            assert r.status_code == 200, r.text
            if i % 3 == 0:  # a refund too: a second event of the same order, after the first
                data["refunds"] = [{"id": "r", "amount_minor": 100}]
                body = dumps(data)
                h = generic_headers(body, shop_secret, f"m-{prefix}-{i}-r")
                r = await c.post(f"{urls[-1]}/postbacks/generic/gen", content=body, headers=h)
                assert r.status_code == 200, r.text


async def all_event_ids(url: str, auth: dict[str, str]) -> set[str]:
    async with httpx.AsyncClient(base_url=url, headers=auth, timeout=30) as c:
        r = await c.get("/api/v1/events?limit=1000")
        return {e["id"] for e in r.json()["items"]}


@pytest.mark.postgres
async def test_two_nodes_deliver_each_event_once(tmp_path: Path, pg_schema_url: str) -> None:
    env = server_env(tmp_path, pg_schema_url, **FAST)
    async with Receiver(default="sleep:0.02") as rx:
        a = Server(env, free_port(), tmp_path / "a.log").start()
        b = Server(env, free_port(), tmp_path / "b.log").start()
        try:
            token = a.cli("token", "create", "t").strip()
            auth, shop_secret, secret = await setup(a.url, token, rx.url)
            await send_orders([a.url, b.url], shop_secret, 60, "N")
            expected = await all_event_ids(a.url, auth)
            assert len(expected) == 80  # 60 attributed + 20 refunds
            await rx.wait(lambda r: {h.id for h in r.hits} >= expected, timeout=60)
            await asyncio.sleep(1.0)  # time for any duplicate to show up
            counts = Counter(h.id for h in rx.hits)
            assert set(counts) == expected and max(counts.values()) == 1
            for h in rx.hits:
                verify(secret, h)
            # per order: attributed strictly before updated
            seen: dict[str, list[str]] = {}
            for h in rx.hits:
                body = json.loads(h.body)
                seen.setdefault(body["data"]["order"]["id"], []).append(body["type"])
            for types in seen.values():
                assert types[0] == "order.attributed" and types.count("order.attributed") == 1
        finally:
            a.stop()
            b.stop()


async def test_kill_9_mid_delivery_loses_nothing(tmp_path: Path, database_url: str) -> None:
    env = server_env(tmp_path, database_url, **FAST, TRACKER_WEBHOOK_TIMEOUT_SECONDS="2")
    async with Receiver(script=["sleep:1.5"]) as rx:
        a = Server(env, free_port(), tmp_path / "a.log").start()
        try:
            token = a.cli("token", "create", "t").strip()
            auth, shop_secret, secret = await setup(a.url, token, rx.url)
            await send_orders([a.url], shop_secret, 6, "K")
            await rx.wait(lambda r: len(r.hits) >= 1)
            assert rx.hits[0].status == SLOW
            a.stop(signal.SIGKILL)  # mid-request: its lease is still held
        finally:
            if a.proc and a.proc.poll() is None:
                a.stop(signal.SIGKILL)
        b = Server(env, free_port(), tmp_path / "b.log").start()
        try:
            expected = await all_event_ids(b.url, auth)
            assert len(expected) == 8
            # the killed node's lease (2 s timeout + 5 s margin) runs out; b delivers it all
            await rx.wait(lambda r: {h.id for h in r.ok()} >= expected, timeout=30)
            for h in rx.hits:
                verify(secret, h)
            assert Counter(h.id for h in rx.ok())[rx.hits[0].id] == 1
        finally:
            b.stop()
