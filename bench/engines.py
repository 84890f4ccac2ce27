"""Redirects/s and signed postbacks/s on SQLite (1 process) and PostgreSQL (1 and 2 processes).

One run, same machine, same wrk command per node, figures as ratios to SQLite's. With two
nodes, wrk drives both at once (half the connections each) and the postbacks are split
between them; totals are summed. The nodes share one PostgreSQL, as several tracker
machines behind a load balancer would. Where PostgreSQL's Unix socket exists, one more
one-node row goes through it instead of TCP on 127.0.0.1 (a loopback TCP statement cost the
client about 64 us of CPU here, against 26 us through the socket). Each row prints the CPU
one order cost the tracker, PostgreSQL and the whole machine (with the sending client)
while the postbacks ran: the cores a target needs.

    .venv/bin/python bench/engines.py --pg postgresql://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import asyncpg

from bench import run
from bench.dataset import Dataset, bench_settings, build, opened_store
from bench.postbacks import SECRET, SHOP, orders, send_all, signed_request
from bench.scenarios import EIGHT_VISITORS


async def _schema(pg: str, name: str, create: bool) -> None:
    conn = await asyncpg.connect(pg)
    try:
        await conn.execute(f"CREATE SCHEMA {name}" if create else f"DROP SCHEMA {name} CASCADE")
    finally:
        await conn.close()


async def prepare(
    data_dir: Path, env: dict[str, str], creators: int, links: int
) -> tuple[list[str], list[str]]:
    data = Dataset.generate(creators=creators, campaigns=2, links=links, clicks=0)
    await build(data_dir, data, **env)
    async with opened_store(bench_settings(data_dir, **env)) as store:
        await store.create_shop(
            {
                "slug": SHOP,
                "name": "Bench",
                "platform": "shopify",
                "secret": SECRET,
                "pixel_token": "px_" + "0" * 24,
                "currency": "USD",
            }
        )
        codes = [f"BENCH{i:04d}" for i in range(creators)]
        await store.create_codes(
            [{"code": c, "creator_id": data.creators[i]["id"]} for i, c in enumerate(codes)]
        )
    return data.slugs, codes


def _socket_url(pg: str, directory: str) -> str:
    """The same user and database as ``pg``, through the Unix socket in ``directory``."""
    parts = urlsplit(pg)
    user = f"{parts.username}@" if parts.username else ""
    return f"postgresql://{user}/{parts.path.lstrip('/')}?host={directory}"


def _postgres_cpu() -> float:
    """CPU seconds of every PostgreSQL process on this machine (server and backends)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() in ("postgres", "postmaster"):
                total += run.proc_cpu_seconds(int(entry.name))
        except (OSError, ValueError, IndexError):
            continue  # gone meanwhile
    return total


def measure(
    name: str, nodes: int, env: dict[str, str], args: argparse.Namespace, wrk: str, tmp: Path
) -> dict[str, Any]:
    data_dir = tmp / name
    slugs, codes = asyncio.run(prepare(data_dir, env, args.creators, args.links))
    slugfile = tmp / f"{name}-slugs.txt"
    slugfile.write_text("\n".join(slugs) + "\n")
    run.TRACKER_ENV.clear()
    run.TRACKER_ENV.update({**env, "TRACKER_POSTBACK_FAILURES_PER_MIN": "0"})
    servers = [run.start_tracker(tmp, data_dir, f"{name}-{i}") for i in range(nodes)]
    try:
        per_node = argparse.Namespace(threads=1, connections=max(1, args.connections // nodes))
        sc = EIGHT_VISITORS
        cmds = [run.wrk_command(wrk, s.url, per_node, args.duration, slugfile, sc) for s in servers]
        for cmd in cmds:  # warm-up, not counted
            run.run_wrk([c if not c.startswith("-d") else "-d2s" for c in cmd])
        results: list[Any] = [None] * nodes

        def go(i: int) -> None:
            results[i] = run.run_wrk(cmds[i])

        threads = [threading.Thread(target=go, args=(i,)) for i in range(nodes)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        rps = sum(r.rps for r in results)
        reqs = [signed_request(o, "127.0.0.1") for o in orders(args.postbacks, codes)]

        async def post_all() -> float:
            t0 = time.perf_counter()
            await asyncio.gather(
                *(
                    send_all("127.0.0.1", s.port, reqs[i::nodes], 32 // nodes)
                    for i, s in enumerate(servers)
                )
            )
            return time.perf_counter() - t0

        pg0, ours0 = _postgres_cpu(), sum(run.proc_cpu_seconds(s.pid) for s in servers)
        busy0 = run.machine_busy_seconds()
        seconds = asyncio.run(post_all())
        busy = run.machine_busy_seconds() - busy0
        pg = _postgres_cpu() - pg0
        ours = sum(run.proc_cpu_seconds(s.pid) for s in servers) - ours0
    finally:
        for s in servers:
            s.stop()

    async def count() -> int:
        async with opened_store(bench_settings(data_dir, **env)) as store:
            row = await store.db.fetch_one("SELECT COUNT(*) AS n FROM orders")
            return int(row["n"]) if row else 0

    stored = asyncio.run(count())
    out = {
        "config": name,
        "nodes": nodes,
        "redirects_per_s": round(rps),
        "postbacks_per_s": round(min(stored, args.postbacks) / seconds),
        "orders_stored": stored,
        "orders_sent": args.postbacks,
        # CPU per order during the postbacks, by whom: where 1,000/s would need the cores
        "tracker_cpu_us_per_order": round(ours / args.postbacks * 1e6),
        "postgres_cpu_us_per_order": round(pg / args.postbacks * 1e6),
        "machine_cpu_us_per_order": round(busy / args.postbacks * 1e6),
    }
    run.say(
        f"{name}: {out['redirects_per_s']:,} redirects/s, {out['postbacks_per_s']:,} "
        f"signed Shopify orders/s ({stored:,}/{args.postbacks:,} stored); CPU per order: "
        f"tracker {out['tracker_cpu_us_per_order']:,} us, PostgreSQL "
        f"{out['postgres_cpu_us_per_order']:,} us, whole machine (with the client) "
        f"{out['machine_cpu_us_per_order']:,} us"
    )
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/test")
    p.add_argument("--duration", type=int, default=8)
    p.add_argument("--connections", type=int, default=64)
    p.add_argument("--links", type=int, default=20_000)
    p.add_argument("--creators", type=int, default=500)
    p.add_argument("--postbacks", type=int, default=2_000)
    p.add_argument(
        "--pg-socket",
        default="/var/run/postgresql",
        help="directory of PostgreSQL's Unix socket: one more one-node row through it when "
        "it exists (empty: skip)",
    )
    args = p.parse_args(argv)
    wrk = run.find_wrk()
    configs = [("postgres-1", 1, args.pg), ("postgres-2", 2, args.pg)]
    if args.pg_socket and (Path(args.pg_socket) / ".s.PGSQL.5432").exists():
        configs.append(("postgres-1-socket", 1, _socket_url(args.pg, args.pg_socket)))
    rows = []
    with tempfile.TemporaryDirectory(prefix="creatorlink-engines-") as tmpdir:
        tmp = Path(tmpdir)
        rows.append(measure("sqlite-1", 1, {}, args, wrk, tmp))
        for name, nodes, pg in configs:
            schema = f"bench_{secrets.token_hex(4)}"
            asyncio.run(_schema(args.pg, schema, True))
            try:
                url = f"{pg}{'&' if '?' in pg else '?'}search_path={schema}"
                rows.append(measure(name, nodes, {"TRACKER_DATABASE_URL": url}, args, wrk, tmp))
            finally:
                asyncio.run(_schema(args.pg, schema, False))
    base = rows[0]
    print(
        "\n| engine, processes | redirects/s | ratio | signed Shopify orders/s | ratio "
        "| CPU per order: tracker / PostgreSQL / machine (us) |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['config']} | {r['redirects_per_s']:,} | "
            f"{r['redirects_per_s'] / base['redirects_per_s']:.2f}x | "
            f"{r['postbacks_per_s']:,} | {r['postbacks_per_s'] / base['postbacks_per_s']:.2f}x | "
            f"{r['tracker_cpu_us_per_order']:,} / {r['postgres_cpu_us_per_order']:,} / "
            f"{r['machine_cpu_us_per_order']:,} |"
        )
    ok = all(r["orders_stored"] == r["orders_sent"] for r in rows)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
