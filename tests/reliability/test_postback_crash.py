"""A postback is answered 2xx only after its order is committed; a crash before the commit
makes the shop retry, and the retry is applied once.

A burst of signed Shopify orders is sent concurrently, the server is killed with SIGKILL in
the middle, restarted, and every order is sent again with the same webhook id (what Shopify
does for any delivery without a 2xx). Every order acknowledged before the kill must be in the
database and answer ``duplicate`` on retry; every order ends up stored exactly once.
"""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path

import httpx
import pytest

from tests.conftest import Server, free_port, server_env
from tests.postback_helpers import SHOPIFY_BODY, SHOPIFY_SECRET, shopify_headers

pytestmark = pytest.mark.slow
N = 300


def bodies() -> list[bytes]:
    base = json.loads(SHOPIFY_BODY)
    out = []
    for i in range(N):
        base["id"] = 10_000 + i
        out.append(json.dumps(base).encode())
    return out


async def send_all(
    url: str, payloads: list[bytes], kill_after: int | None, on_kill: object = None
) -> dict[int, str]:
    """Send every order once (32 at a time); return index -> status for the 2xx answers."""
    acked: dict[int, str] = {}
    sem = asyncio.Semaphore(32)
    async with httpx.AsyncClient(timeout=10) as client:

        async def one(i: int, body: bytes) -> None:
            async with sem:
                try:
                    r = await client.post(
                        f"{url}/postbacks/shopify/demo",
                        content=body,
                        headers=shopify_headers(body, webhook_id=f"wh-{i}"),
                    )
                except httpx.HTTPError:
                    return  # the server died: no 2xx, the shop will retry
                if r.status_code == 200:
                    acked[i] = r.json()["status"]
                    if kill_after is not None and len(acked) == kill_after and callable(on_kill):
                        on_kill()

        await asyncio.gather(*(one(i, b) for i, b in enumerate(payloads)))
    return acked


def test_crash_mid_burst_then_retry_applies_each_order_once(
    tmp_path: Path, database_url: str
) -> None:
    env = server_env(tmp_path, database_url, TRACKER_POSTBACK_FAILURES_PER_MIN="0")
    srv = Server(env, free_port(), tmp_path / "a.log").start()
    srv.cli("shop", "create", "--slug", "demo", "--platform", "shopify", "--secret", SHOPIFY_SECRET)
    payloads = bodies()
    assert srv.proc is not None
    proc = srv.proc
    first = asyncio.run(
        send_all(srv.url, payloads, N // 3, lambda: proc.send_signal(signal.SIGKILL))
    )
    srv.stop(sig=signal.SIGKILL)
    srv2 = Server(env, free_port(), tmp_path / "b.log").start()
    try:
        second = asyncio.run(send_all(srv2.url, payloads, None))
        token = srv2.cli("token", "create", "t").strip()
        auth = {"Authorization": f"Bearer {token}"}
        stored: list[str] = []
        for offset in (0, 1000):
            page = httpx.get(
                f"{srv2.url}/api/v1/orders?limit=1000&offset={offset}", headers=auth
            ).json()["items"]
            stored += [o["external_id"] for o in page]
    finally:
        srv2.stop()
    print(f"acknowledged before the kill={len(first)} retried={len(second)} stored={len(stored)}")
    assert len(first) >= N // 3 and len(first) < N  # the kill landed mid-burst
    assert len(second) == N  # every retry is answered 2xx
    assert all(second[i] == "duplicate" for i in first)  # acknowledged = committed
    assert sorted(stored) == sorted(str(10_000 + i) for i in range(N))  # each order once
