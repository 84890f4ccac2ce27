"""Signed Shopify order webhooks per second, on SQLite, through a real uvicorn server.

Each order is the documented order #1001 (tests/fixtures) with its own id, number, e-mail
and one creator's discount code, so every request is a new order that is verified (HMAC of
the raw body), normalised, attributed by code and written. The requests are signed here and
sent once each over 32 keep-alive connections by a minimal asyncio HTTP/1.1 client (wrk
cannot sign per request, and replaying pre-signed requests through its Lua stalled at the
end of the list); afterwards the orders table must hold exactly one row per order sent.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import sqlite3
import time
from pathlib import Path
from typing import Any

from bench.dataset import Dataset, bench_settings, build, opened_store

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "shopify-order-1001.json"
SECRET = "shpss_bench_0123456789abcdef"
SHOP = "bench"


def signed_request(order: dict[str, Any], host: str) -> bytes:
    body = json.dumps(order, separators=(",", ":")).encode()
    mac = base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()
    head = (
        f"POST /postbacks/shopify/{SHOP} HTTP/1.1\r\nHost: {host}\r\n"
        "Content-Type: application/json\r\nX-Shopify-Topic: orders/create\r\n"
        f"X-Shopify-Hmac-Sha256: {mac}\r\nX-Shopify-Shop-Domain: bench.myshopify.com\r\n"
        f"X-Shopify-Webhook-Id: bench-{order['id']}\r\nX-Shopify-API-Version: 2024-01\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def orders(n: int, codes: list[str]) -> list[dict[str, Any]]:
    base = json.loads(FIXTURE.read_text())
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())
    out = []
    for i in range(n):
        order = dict(base)
        order.update(
            id=7_000_000_000 + i,
            name=f"#B{i}",
            order_number=100_000 + i,
            email=f"shopper{i}@mail.example.com",
            # each order its own shopper (the fixture's customer would make every order a
            # repeat purchase of one person, and flag each one as a duplicate customer)
            customer={
                **base["customer"],
                "id": 900_000_000 + i,
                "email": f"shopper{i}@mail.example.com",
            },
            created_at=stamp,
            processed_at=stamp,
            discount_codes=[
                {"code": codes[i % len(codes)], "amount": "10.00", "type": "fixed_amount"}
            ],
        )
        out.append(order)
    return out


async def _connection(host: str, port: int, requests: list[bytes]) -> list[tuple[int, float]]:
    """Send each request, read each response (Content-Length framed): (status, seconds)."""
    reader, writer = await asyncio.open_connection(host, port)
    out = []
    try:
        for req in requests:
            t0 = time.perf_counter()
            writer.write(req)
            status = int((await reader.readline()).split()[1])
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            await reader.readexactly(length)
            out.append((status, time.perf_counter() - t0))
    finally:
        writer.close()
    return out


async def send_all(
    host: str, port: int, requests: list[bytes], connections: int
) -> tuple[float, list[tuple[int, float]]]:
    t0 = time.perf_counter()
    parts = await asyncio.gather(
        *(_connection(host, port, requests[i::connections]) for i in range(connections))
    )
    return time.perf_counter() - t0, [r for part in parts for r in part]


async def prepare(data_dir: Path, creators: int, *, links: int = 0, clicks: int = 0) -> list[str]:
    """Creators (with links and clicks), one discount code each, and the signed shop."""
    data = Dataset.generate(
        creators=creators, campaigns=2, links=links or creators * 2, clicks=clicks
    )
    await build(data_dir, data)
    async with opened_store(bench_settings(data_dir)) as store:
        await store.create_shop(
            {
                "slug": SHOP,
                "name": "Bench shop",
                "platform": "shopify",
                "secret": SECRET,
                "pixel_token": "px_bench_token_0123456789",
                "currency": "USD",
            }
        )
        codes = [f"BENCH{i:04d}" for i in range(creators)]
        await store.create_codes(
            [{"code": c, "creator_id": data.creators[i]["id"]} for i, c in enumerate(codes)]
        )
    return codes


def run_postbacks(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    from bench.run import TARGETS, Server, say, start_tracker

    data_dir = tmp / "postbacks"
    codes = asyncio.run(prepare(data_dir, args.creators))
    tracker: Server = start_tracker(tmp, data_dir, "postbacks")
    try:
        n = args.postbacks
        requests = [signed_request(o, f"127.0.0.1:{tracker.port}") for o in orders(n, codes)]
        seconds, answers = asyncio.run(send_all("127.0.0.1", tracker.port, requests, 32))
    finally:
        tracker.stop()
    with sqlite3.connect(f"file:{data_dir / 'tracker.db'}?mode=ro", uri=True) as db:
        stored = db.execute("SELECT COUNT(*) FROM orders").fetchone()[0]
        attributed = db.execute("SELECT COUNT(DISTINCT order_id) FROM touches").fetchone()[0]
    latencies = sorted(t for _, t in answers)
    ok = sum(1 for status, _ in answers if status == 200)
    rate = min(n, stored) / seconds
    out = {
        "orders_sent": n,
        "orders_stored": stored,
        "orders_attributed": attributed,
        "answered_200": ok,
        "errors": n - ok,
        "seconds": round(seconds, 3),
        "per_s": round(rate, 1),
        "connections": 32,
        "p50_ms": round(latencies[len(latencies) // 2] * 1000, 2),
        "p99_ms": round(latencies[int(len(latencies) * 0.99)] * 1000, 2),
        "target_per_s": TARGETS["postbacks_per_s"],
    }
    say(
        f"postbacks: {rate:,.0f} signed Shopify orders/s ({n:,} sent, {stored:,} stored, "
        f"{attributed:,} attributed by code, p50 {out['p50_ms']:.1f} ms, p99 "
        f"{out['p99_ms']:.1f} ms, {n - ok} not 200) -> target >= "
        f"{TARGETS['postbacks_per_s']:,.0f}/s {'met' if rate >= 1000 else 'MISSED'}"
    )
    return out
