"""Server-side time of every admin page over a 500-creator portfolio, per engine (a
benchmark, not a test).

Builds once, with ``bench/history.py``'s loader: 500 creators, 2,500 links, a discount code
and a fee each, N clicks (default 1,000,000) over 90 days in time order with their day
roll-ups, and M orders (default 25,000: the issue's 1,600 orders per 60k clicks, scaled)
with their touches and stored credit. The data is kept for the next run: SQLite in
``bench/results/admin/c{N}-o{M}/``, PostgreSQL in the schema ``bench_admin_c{N}_o{M}``
(``--drop`` removes it afterwards). Then requests each page through the real app (httpx over
ASGI, logged in, no network, background jobs off) and prints the median and worst of R runs
after one warm-up.

    .venv/bin/python bench/admin_pages.py [--engine sqlite|postgres] [--clicks 1000000]
        [--orders 25000] [--runs 5] [--only /admin/reports]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from admin.passwords import hash_password  # noqa: E402
from bench.dataset import Dataset, bench_settings, opened_store, settle  # noqa: E402
from bench.history import load_clicks, load_orders, log_in  # noqa: E402
from tracker.app import create_app  # noqa: E402

PAGES = [
    "/admin/",
    "/admin/creators",
    "/admin/creators?sort=followers&dir=desc&tier=micro",
    "/admin/creators?q=creator_04&platform=tiktok",
    "/admin/creators?page=5",
    "/admin/creators?band=poor",
    "/admin/creators/{top}",
    "/admin/creators/{mid}",
    "/admin/links",
    "/admin/links?q=creator_04",
    "/admin/links?state=active&page=20",
    "/admin/links/{link}",
    "/admin/campaigns",
    "/admin/codes",
    "/admin/shops",
    "/admin/costs",
    "/admin/orders",
    "/admin/orders?unattributed=1",
    "/admin/orders/{order}",
    "/admin/reports",
    "/admin/reports?page=5&sort=clicks",
    "/admin/reports?start={start90}",
    "/admin/reports?format=csv",
    "/admin/reports?model=data_driven",
    "/admin/portfolio",
    "/admin/portfolio/overlap",
    "/admin/portfolio/leaks",
    "/admin/portfolio/advice",
    "/admin/reach",
    "/admin/audience",
    "/admin/audience?creator_id={top}",
    "/admin/insights",
    "/admin/insights/scores",
    "/admin/insights/timing",
    "/admin/insights/content",
    "/admin/insights/forecast",
    "/admin/insights/forecast?by=creator",
    "/admin/journeys",
    "/admin/journeys/exposure",
    "/admin/journeys/collabs",
    "/admin/journeys/survey",
    "/admin/commissions",
    "/admin/fraud",
    "/admin/webhooks",
    "/admin/tokens",
    "/admin/settings",
]
ENV = {  # background jobs off: they would take the same cores as the timings
    "TRACKER_SECRET_KEY": "b" * 40,
    "TRACKER_RETENTION_INTERVAL_MINUTES": "0",
    "TRACKER_REMATCH_INTERVAL_SECONDS": "0",
    "TRACKER_COMMISSION_APPROVE_INTERVAL_MINUTES": "0",
}


async def settings_for(args: argparse.Namespace) -> Any:
    name = f"c{args.clicks}-o{args.orders}"
    data = ROOT / "bench" / "results" / "admin" / name
    data.mkdir(parents=True, exist_ok=True)
    if args.engine == "sqlite":
        return bench_settings(data, **ENV)
    schema = "bench_admin_" + name.replace("-", "_")
    conn = await asyncpg.connect(args.pg)
    try:
        await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    finally:
        await conn.close()
    sep = "&" if "?" in args.pg else "?"
    return bench_settings(data, **ENV, TRACKER_DATABASE_URL=f"{args.pg}{sep}search_path={schema}")


async def build(settings: Any, args: argparse.Namespace) -> None:
    async with opened_store(settings) as store:
        if await store.db.fetch_one("SELECT id FROM creators LIMIT 1"):
            return
        t0 = time.perf_counter()
        data = Dataset.generate(creators=500, links=2500, clicks=0, days=args.days)
        await data.load(store)
        n = await load_clicks(store, data, args, time.time())
        m = await load_orders(store, data, args, time.time())
        await store.rebuild_credits()  # written around the ingest: their stored credit too
        await settle(store)  # PostgreSQL: what autovacuum would have done
        await store.create_admin_user("bench@x.example", "viewer", hash_password("bench pw 1"))  # type: ignore[attr-defined]
        print(f"built: {n:,} clicks, {m:,} orders in {time.perf_counter() - t0:.0f} s")


async def refs(store: Any) -> dict[str, str]:
    one = store.db.fetch_one
    top = await one(
        "SELECT c.handle FROM creators c JOIN orders o ON o.creator_id = c.id "
        "GROUP BY c.handle ORDER BY COUNT(*) DESC LIMIT 1"
    )
    mid = await one("SELECT handle FROM creators ORDER BY handle LIMIT 1 OFFSET 250")
    link = await one("SELECT id FROM links ORDER BY slug LIMIT 1")
    order = await one("SELECT id FROM orders ORDER BY placed_at DESC LIMIT 1")
    start90 = (datetime.now(UTC).date() - timedelta(days=89)).isoformat()
    return {
        "top": top["handle"],
        "mid": mid["handle"],
        "link": link["id"],
        "order": order["id"],
        "start90": start90,
    }


async def time_pages(app: Any, args: argparse.Namespace) -> None:
    store = app.state.tracker.store
    row = await store.db.fetch_one(
        "SELECT (SELECT COUNT(*) FROM creators) AS creators, (SELECT COUNT(*) FROM links) AS "
        "links, (SELECT COUNT(*) FROM clicks) AS clicks, (SELECT COUNT(*) FROM orders) AS orders"
    )
    print(
        f"data ({args.engine}): {row['creators']} creators, {row['links']:,} links, "
        f"{row['clicks']:,} clicks, {row['orders']:,} orders"
    )
    at = await refs(store)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        await log_in(client, "bench@x.example", "bench pw 1")
        print(f"{'page':58} {'median ms':>10} {'max ms':>8}")
        for template in [p for p in PAGES if args.only in p]:
            path = template.format(**at)
            times = []
            for _ in range(args.runs + 1):
                t0 = time.perf_counter()
                r = await client.get(path)
                times.append((time.perf_counter() - t0) * 1000)
                assert r.status_code == 200, (path, r.status_code)
            runs = times[1:]
            flag = "  <- over 1 s" if statistics.median(runs) >= 1000 else ""
            print(f"{template:58} {statistics.median(runs):10.1f} {max(runs):8.1f}{flag}")


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--engine", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/test")
    ap.add_argument("--clicks", type=int, default=1_000_000)
    ap.add_argument("--orders", type=int, default=25_000)
    ap.add_argument("--days", type=int, default=90)
    ap.add_argument("--fingerprint-days", type=int, default=30)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--only", default="", help="time only the pages whose path contains this")
    ap.add_argument("--drop", action="store_true", help="PostgreSQL: drop the schema after")
    args = ap.parse_args()
    settings = await settings_for(args)
    await build(settings, args)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        await time_pages(app, args)
    if args.drop and args.engine == "postgres":
        conn = await asyncpg.connect(args.pg)
        try:
            schema = settings.database_url.rsplit("search_path=", 1)[1]
            await conn.execute(f"DROP SCHEMA {schema} CASCADE")
        finally:
            await conn.close()


if __name__ == "__main__":
    asyncio.run(main())
