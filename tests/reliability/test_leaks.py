"""Leaks: 100 start/stop cycles of the app in one process, and a bounded soak of a real
server, with open files, threads and memory back to (or flat at) their baseline.

The soak separates caches filling from a leak (issue 21): the server runs with small caches
(a 4 MiB SQLite page cache per connection), so they are full by half time. Then memory must
be flat over the second half (a leak grows with requests, a full cache does not), and its
growth since warm-up must stay below what the configured caches can hold plus a margin.
Soak length: ``TRACKER_TEST_SOAK_SECONDS`` (default 10, of which 2 warm-up; run 120+ before
a release). With the small caches a 10 s soak still fails a planted 1 KiB-per-request leak
on each server and engine (measured 1 Dec: 33-42 MB over the 4 s second half
against the 6 MiB margin, from 75,000-99,000 redirects; without the leak 0.2-1.2 MB).
"""

from __future__ import annotations

import asyncio
import gc
import os
import random
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import Server, free_port, make_settings, running, server_env
from tests.postback_helpers import SHOPIFY_SECRET, dumps, shopify_headers, shopify_order
from tests.reliability.loadgen import Flood, flood
from tracker.store.sqlite import CONNECTIONS

CYCLES = 100
SOAK_SECONDS = float(os.environ.get("TRACKER_TEST_SOAK_SECONDS", "10"))
SOAK_CACHE_MIB = 4  # TRACKER_SQLITE_CACHE_MIB for the soak: full within seconds
SOAK_LINK_CACHE = 1000  # TRACKER_LINK_CACHE_SIZE for the soak (a few hundred links are made)
LINK_ENTRY_KIB = 4  # generous size of one cached link with its compiled rules
FLAT_MARGIN_KIB = 6 * 1024  # allowed drift over the second half (allocator noise)
BOUND_MARGIN_KIB = 24 * 1024  # beyond the caches: pools, buffers, the click queue at rest


def open_fds(pid: int | str = "self") -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


async def settle(fds: int, threads: int) -> tuple[int, int]:
    """Threads of closed connections exit a moment after close(); give them that moment."""
    for _ in range(100):
        gc.collect()
        now = (open_fds(), threading.active_count())
        if now[0] <= fds and now[1] <= threads:
            return now
        await asyncio.sleep(0.02)
    return open_fds(), threading.active_count()


@pytest.mark.anyio
async def test_start_stop_100_times(
    tmp_path: Path, database_url: str, figures: Callable[[str, Any], None]
) -> None:
    settings = make_settings(tmp_path, database_url)

    async def cycle() -> None:
        async with running(settings) as live:
            auth = await live.token()
            await live.client.post(
                "/api/v1/links",
                headers=auth,
                json={"destination": "https://shop.example.com/", "slug": None},
            )
            assert (await live.client.get("/nosuch")).status_code == 404
            assert (await live.client.get("/api/v1/links", headers=auth)).status_code == 200

    await cycle()  # warm-up: lazy imports, caches, the default executor
    base_fds, base_threads = await settle(10**6, 10**6)
    for _ in range(CYCLES):
        await cycle()
    fds, threads = await settle(base_fds, base_threads)
    figures("open fds before / after 100 cycles", f"{base_fds} / {fds}")
    figures("threads before / after 100 cycles", f"{base_threads} / {threads}")
    assert fds <= base_fds, f"file descriptors leaked: {base_fds} -> {fds}"
    assert threads <= base_threads, f"threads leaked: {base_threads} -> {threads}"


@pytest.fixture
def soak_server(tmp_path: Path, database_url: str, server_kind: str) -> Iterator[Server]:
    env = server_env(
        tmp_path,
        database_url,
        TRACKER_SERVER=server_kind,
        TRACKER_SQLITE_CACHE_MIB=str(SOAK_CACHE_MIB),
        TRACKER_LINK_CACHE_SIZE=str(SOAK_LINK_CACHE),
    )
    srv = Server(env, free_port(), tmp_path / "server.log").start()
    try:
        yield srv
    finally:
        if srv.proc and srv.proc.poll() is None:
            srv.stop()


def cache_allowance_kib(database_url: str) -> int:
    """What the configured caches may hold once full: the SQLite page caches (SQLite only;
    PostgreSQL's cache is in its own processes) and the link cache."""
    sqlite = CONNECTIONS * SOAK_CACHE_MIB * 1024 if database_url.startswith("sqlite") else 0
    return sqlite + SOAK_LINK_CACHE * LINK_ENTRY_KIB


@pytest.mark.slow
@pytest.mark.anyio
async def test_soak_memory_and_files_flat(
    soak_server: Server, database_url: str, figures: Callable[[str, Any], None]
) -> None:
    """Mixed redirects (links, unknown slugs, bots), API calls and signed Shopify postbacks
    (new orders and replays) against a real server, on each HTTP server."""
    server = soak_server
    slugs = [f"soak{i}" for i in range(20)]
    for slug in slugs[:2]:
        server.cli(
            "link", "create", "--slug", slug, "--destination", f"https://shop.example.com/{slug}"
        )
    token = server.cli("token", "create", "soak").strip()
    auth = {"Authorization": f"Bearer {token}"}
    assert server.proc is not None
    pid = server.proc.pid
    paths = (
        [f"/{s}" for s in slugs]
        + [f"/{s}?utm_term=t&ref={i}" for i, s in enumerate(slugs[:2])]
        + ["/orphan-a", "/orphan-b"]
    )
    stop = asyncio.Event()
    api_calls = 0

    async def api_load() -> None:
        nonlocal api_calls
        rnd = random.Random(1)
        async with httpx.AsyncClient(base_url=server.url, headers=auth, timeout=30) as client:
            n = 2
            while not stop.is_set():
                if rnd.random() < 0.3:
                    slug = f"soak{n % 20}"
                    await client.post(
                        "/api/v1/links",
                        json={"slug": f"{slug}x{n}", "destination": "https://shop.example.com/"},
                    )
                    n += 1
                await client.get("/api/v1/links", params={"limit": 50})
                await client.get("/api/v1/links/soak0/stats")
                await client.get("/api/v1/clicks", params={"limit": 20})
                api_calls += 3
                await asyncio.sleep(0.01)

    postbacks: dict[int, int] = {}

    async def postback_load() -> None:
        """Signed Shopify order webhooks: new orders (some carrying a recent click id) and
        replays of earlier ones, as a shop sends them on a busy day."""
        rnd = random.Random(2)
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            r = await client.post(
                "/api/v1/shops",
                headers=auth,
                json={"slug": "demo", "platform": "shopify", "secret": SHOPIFY_SECRET},
            )
            assert r.status_code == 201, r.text
            n = 0
            while not stop.is_set():
                order_id = 10**9 + (rnd.randrange(n) if n and rnd.random() < 0.2 else n)
                n += 1
                cid = next(reversed(result.acks), "none") if result.acks else "none"
                body = dumps(
                    shopify_order(
                        id=order_id, name=f"#{order_id}", landing_site=f"/products/tee?cl_cid={cid}"
                    )
                )
                hook = f"wh-{order_id}-{rnd.random()}"
                r = await client.post(
                    "/postbacks/shopify/demo",
                    content=body,
                    headers=shopify_headers(body, webhook_id=hook),
                )
                postbacks[r.status_code] = postbacks.get(r.status_code, 0) + 1
                await asyncio.sleep(0.02)

    result = Flood()
    started = time.monotonic()
    api = asyncio.create_task(api_load())
    hooks = asyncio.create_task(postback_load())
    load = asyncio.create_task(
        flood(
            server.port,
            paths,
            conns=8,
            seconds=SOAK_SECONDS + 5,
            max_requests=10**7,
            stop=stop,
            out=result,
        )
    )
    warmup = min(6.0, SOAK_SECONDS / 5)
    await asyncio.sleep(warmup)  # caches start filling, pools open
    start_rss, start_fds = rss_kib(pid), open_fds(pid)
    samples = [(round(time.monotonic() - started, 1), start_rss, start_fds)]
    while time.monotonic() - started < SOAK_SECONDS:
        await asyncio.sleep(1.0)
        samples.append((round(time.monotonic() - started, 1), rss_kib(pid), open_fds(pid)))
    end_rss, end_fds = samples[-1][1], samples[-1][2]
    half = [s for s in samples if s[0] >= (warmup + SOAK_SECONDS) / 2]
    mid_rss = half[0][1]
    second_half_growth = max(s[1] for s in half) - mid_rss
    stop.set()
    await asyncio.gather(api, load, hooks)
    health = httpx.get(server.url + "/healthz").json()
    print("soak samples (s, rss KiB, fds):", samples)
    figures("soak seconds", SOAK_SECONDS)
    figures("requests (redirects / API)", f"{result.sent} / {api_calls}")
    figures("Shopify postbacks by status", postbacks)
    allowance = cache_allowance_kib(database_url)
    figures(
        "server RSS KiB after warm-up / at half time / at end",
        f"{start_rss} / {mid_rss} / {end_rss}",
    )
    figures("RSS growth over the second half KiB", second_half_growth)
    figures("cache allowance KiB (configured caches)", allowance)
    figures("server open fds after warm-up / at end", f"{start_fds} / {end_fds}")
    figures("click writer at end", health["click_writer"])
    assert result.sent > 1000 and api_calls > 30
    assert sum(postbacks.values()) > 20 and set(postbacks) <= {200, 201, 202}, postbacks
    assert sum(result.statuses.get(s, 0) for s in (500, 502, 503)) == 0, result.statuses
    assert health["click_writer"]["dropped"] == 0
    # Flat: fds within a few (keep-alive sockets come and go).
    assert end_fds <= start_fds + 8, samples
    # Flat over the second half, once the caches are full: a leak keeps growing.
    assert second_half_growth <= FLAT_MARGIN_KIB, samples
    # Bounded: no more than the configured caches can hold, plus a margin.
    assert end_rss - start_rss <= allowance + BOUND_MARGIN_KIB, samples
