"""SQL statements and CPU per signed Shopify order on SQLite, in process (no HTTP server, no
client in the same CPU budget): what the order path costs, independent of machine load.

    .venv/bin/python -m bench.order_statements [--orders 2000] [--creators 50]

Each order is the documented order #1001 (tests/fixtures) with its own id, e-mail and one
creator's code (as ``bench/postbacks.py`` sends them), a commission rule per creator, and
three shopper mixes, each order its own customer: ``no-device`` (the fixture has no IP or
user agent), ``own-device`` (each order its own address and agent), ``one-device`` (every
order from one phone: the velocity flag fires from the fifth). Every statement the write connection runs is counted
through SQLite's trace callback (BEGIN and COMMIT included). Run it in two checkouts to
compare them (``PYTHONPATH=OTHER_CHECKOUT``).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.dataset import bench_settings
from bench.postbacks import SHOP, orders, prepare, signed_request

PHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148 Instagram 330.0.0.18.90"
)


def _device(order: dict[str, Any], i: int, mix: str) -> dict[str, Any]:
    if mix == "no-device":
        return order
    ip = (
        "198.51.100.23"
        if mix == "one-device"
        else f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}"
    )
    ua = PHONE if mix == "one-device" else f"{PHONE} build/{i}"
    details = {**order.get("client_details", {}), "browser_ip": ip, "user_agent": ua}
    return {**order, "browser_ip": ip, "client_details": details}


async def run(n: int, creators: int, mix: str) -> dict[str, Any]:
    import httpx

    from tracker.app import create_app

    with tempfile.TemporaryDirectory(prefix="orderstmts-") as tmp:
        data_dir = Path(tmp)
        codes = await prepare(data_dir, creators)
        settings = bench_settings(data_dir, TRACKER_COMMISSION_APPROVE_INTERVAL_MINUTES="0")
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            store = app.state.tracker.store
            for c in (await store.creators_meta())[:creators]:
                await store.add_commission_rule(
                    {
                        "creator_id": c["id"],
                        "rate_bp": 1000,
                        "effective_from": "1970-01-01",
                        **({"scope": "creator"} if await _scoped(store) else {}),
                    }
                )
            counts: collections.Counter[str] = collections.Counter()
            raw = store.db._clicks  # the connection group commits (postbacks) write through
            raw.set_trace_callback(lambda sql: counts.update([sql.split(None, 1)[0].upper()]))
            bodies = [_device(o, i, mix) for i, o in enumerate(orders(n, codes))]
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                cpu0, wall0 = time.process_time(), time.perf_counter()
                for o in bodies:
                    head, _, body = signed_request(o, "t").partition(b"\r\n\r\n")
                    headers = dict(line.split(": ", 1) for line in head.decode().split("\r\n")[1:])
                    r = await client.post(
                        f"/postbacks/shopify/{SHOP}", content=body, headers=headers
                    )
                    assert r.status_code == 200, r.text
                cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
            raw.set_trace_callback(None)
            flags = await store.db.fetch_one("SELECT COUNT(*) AS n FROM fraud_flags")
    total = sum(counts.values())
    return {
        "mix": mix,
        "orders": n,
        "statements_per_order": round(total / n, 2),
        "by_kind": {k: round(v / n, 2) for k, v in counts.most_common()},
        "cpu_ms_per_order": round(cpu / n * 1000, 3),
        "orders_per_s_in_process": round(n / wall, 1),
        "fraud_flags": int(flags["n"]) if flags else 0,
    }


async def _scoped(store: Any) -> bool:
    """Whether this checkout's rules have a scope column (migration 0053)."""
    cols = await store.db.fetch_all("PRAGMA table_info(commission_rules)")
    return any(c["name"] == "scope" for c in cols)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--orders", type=int, default=2000)
    p.add_argument("--creators", type=int, default=50)
    p.add_argument("--mix", choices=["no-device", "own-device", "one-device"], action="append")
    args = p.parse_args(argv)
    for mix in args.mix or ["no-device", "own-device", "one-device"]:
        print(json.dumps(asyncio.run(run(args.orders, args.creators, mix))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
