"""The portfolio insights of issue 20 over 500 creators and 1M clicks: how long each takes.

Data: ``bench/dataset.py``'s creators, links and clicks (30 days), plus, written straight
into the tables (bench tooling, not the server's path): one shop; orders reached through a
human click (touch = that click, placed minutes later) in the last 30 days and orders with a
code touch over the 150 days before (the forecast's history); a fee per creator per month
for 6 months with amounts that vary; 12 posts per creator over 180 days, each naming one of
the creator's links, 2% of them with bought likes.

Then, in-process against the same database, each analysis runs ``--reps`` times; the figure
is the median wall time, beside the ROI report per creator (``reports.build``, the existing
baseline) measured in the same run, and the ratio to it. Run::

    .venv/bin/python bench/insights.py                      # 500 creators, 1M clicks
    .venv/bin/python bench/insights.py --clicks 100000 --reps 1
    .venv/bin/python bench/insights.py --database-url postgresql://postgres@127.0.0.1/test
    .venv/bin/python bench/insights.py --keep /tmp/ins --only forecast  # load once, reuse
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.dataset import Dataset, bench_settings, insert_rows, opened_store, settle  # noqa: E402
from tracker.core import clock  # noqa: E402
from tracker.reports import build, engagement, forecast, scores, timing  # noqa: E402
from tracker.store import Store  # noqa: E402

FORMATS = ("reel", "story", "post", "video", "short")


def _orders(
    data: Dataset, rng: random.Random, n_click: int, n_code: int
) -> tuple[list[Any], list[Any]]:
    now = time.time()
    stamp = clock.iso(now)
    orders, touches = [], []
    human = [c for c in data.clicks if not c[9]]
    for i in range(n_click + n_code):
        oid = f"or_bench{i:08d}"
        if i < n_click:
            click = human[rng.randrange(len(human))]
            at = click[1]
            placed = clock.iso(min(clock.epoch(at) + rng.uniform(60, 7200), now - 1))
            creator, link, method, click_id = click[4], click[3], "click", click[0]
        else:
            c = data.creators[int(rng.paretovariate(1.3)) % len(data.creators)]
            placed = at = clock.iso(now - rng.uniform(30, 180) * 86400)
            creator, link, method, click_id = c["id"], None, "code", None
        total = rng.randint(2_000, 20_000)
        orders.append(
            {
                "id": oid, "shop_id": "sh_bench", "external_id": str(i), "placed_at": placed,
                "source_updated_at": placed, "currency": "USD", "total_minor": total,
                "net_minor": total, "status": "paid", "customer_hash": f"{rng.getrandbits(64):016x}",
                "new_customer": 1, "creator_id": creator, "method": method, "created_at": stamp,
                "updated_at": stamp,
            }
        )  # fmt: skip
        touches.append(
            {
                "id": f"tc_bench{i:08d}", "order_id": oid, "method": method, "creator_id": creator,
                "link_id": link, "campaign_id": None, "code": None if click_id else "BENCH",
                "click_id": click_id, "at": at, "matched": 1, "winner": 1,
            }
        )  # fmt: skip
    return orders, touches


def _costs_and_posts(data: Dataset, rng: random.Random) -> tuple[list[Any], list[Any]]:
    today = datetime.now(UTC).date()
    stamp = clock.iso(time.time())
    links: dict[str, list[str]] = {}
    for link in data.links:
        links.setdefault(link["creator_id"], []).append(link["id"])
    costs, posts = [], []
    for i, c in enumerate(data.creators):
        for month in range(6):
            costs.append(
                {
                    "id": f"co_bench{i:05d}{month}", "creator_id": c["id"], "kind": "fee",
                    "amount_minor": rng.choice((0, 10_000, 25_000, 50_000, 80_000)),
                    "currency": "USD", "created_at": stamp,
                    "incurred_on": (today - timedelta(days=30 * month + 2)).isoformat(),
                }
            )  # fmt: skip
        followers = max(int(c["followers"]), 500)
        base = rng.lognormvariate(-3.4, 0.4)
        for k in range(12):
            likes = int(followers * base * rng.lognormvariate(0, 0.2))
            if rng.random() < 0.02:
                likes *= 8  # bought likes
            posts.append(
                {
                    "id": f"po_bench{i:05d}{k:02d}", "creator_id": c["id"], "platform": c["platform"],
                    "format": FORMATS[k % len(FORMATS)], "url": "", "category": c["category"],
                    "posted_at": clock.iso(time.time() - (180 - 15 * k) * 86400),
                    "likes": likes, "comments": int(likes * rng.lognormvariate(-3.5, 0.3)),
                    "shares": 0, "saves": 0, "followers_at_post": followers,
                    "link_id": rng.choice(links[c["id"]]), "created_at": stamp,
                }
            )  # fmt: skip
    return costs, posts


async def load(store: Store, creators: int, clicks: int, orders: int) -> dict[str, int]:
    t0 = time.perf_counter()
    data = Dataset.generate(creators=creators, links=creators * 4, clicks=clicks, seed=20)
    await data.load(store)
    rng = random.Random(20)
    stamp = clock.iso(time.time())
    await insert_rows(
        store,
        "shops",
        [
            {
                "id": "sh_bench", "slug": "bench", "name": "Bench", "platform": "generic",
                "secret": "x" * 32, "pixel_token": "p" * 32, "created_at": stamp,
                "updated_at": stamp,
            }
        ],
    )  # fmt: skip
    order_rows, touch_rows = _orders(data, rng, orders, orders * 3 // 2)
    await insert_rows(store, "orders", order_rows)
    await insert_rows(store, "touches", touch_rows)
    costs, posts = _costs_and_posts(data, rng)
    await insert_rows(store, "costs", costs)
    await insert_rows(store, "posts", posts)
    await settle(store)
    return {
        "creators": creators,
        "clicks": clicks,
        "orders": len(order_rows),
        "posts": len(posts),
        "load_s": round(time.perf_counter() - t0, 1),
    }


async def _time(fn: Callable[[], Awaitable[Any]], reps: int) -> float:
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        await fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


async def measure(store: Store, settings: Any, reps: int, only: str = "") -> dict[str, float]:
    p = build.params_from({}, settings)
    creators = {r["id"]: r for r in await store.creators_meta()}
    some = next(iter(creators))
    cases: dict[str, Callable[[], Awaitable[Any]]] = {
        "roi report per creator (baseline)": lambda: build.build(store, settings, p, "creator"),
        "engagement": lambda: engagement.report(store, p, creators),
        "scores and advice": lambda: scores.scorecard(store, settings, p),
        "posting times, portfolio": lambda: timing.hours(store, p, "all"),
        "posting times, per platform": lambda: timing.hours(store, p, "platform"),
        "posting times, one creator": lambda: timing.hours(store, p, "all", some),
        "content types per tier": lambda: timing.content(store, settings, p),
        "forecast by tier": lambda: forecast.forecast(store, p, by="tier"),
        "forecast by creator": lambda: forecast.forecast(store, p, by="creator"),
    }
    out: dict[str, float] = {}
    for name, fn in cases.items():
        if only and only not in name and "baseline" not in name:
            continue
        out[name] = await _time(fn, reps)
        print(f"  {name:38s} {out[name] * 1000:8.0f} ms", flush=True)
    return out


async def main_async(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-insights-") as tmp:
        env = {"TRACKER_DATABASE_URL": args.database_url} if args.database_url else {}
        settings = bench_settings(args.keep or Path(tmp), **env)
        async with opened_store(settings) as store:
            if not (args.keep and (args.keep / "loaded").exists()):
                facts = await load(store, args.creators, args.clicks, args.orders)
                print(f"data: {facts}", flush=True)
                if args.keep:
                    (args.keep / "loaded").write_text(str(facts))
            figures = await measure(store, settings, args.reps, args.only)
    base = figures["roi report per creator (baseline)"]
    load_avg = os.getloadavg()
    print(f"load average {load_avg[0]:.2f} {load_avg[1]:.2f} {load_avg[2]:.2f} (2 cores)")
    for name, seconds in figures.items():
        flag = "" if seconds < 1 else "  (over 1 s)"
        print(f"{name:38s} {seconds * 1000:8.0f} ms  {seconds / base:5.2f}x baseline{flag}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--creators", type=int, default=500)
    ap.add_argument("--clicks", type=int, default=1_000_000)
    ap.add_argument("--orders", type=int, default=20_000, help="click orders (code: 1.5x more)")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--database-url", default="", help="PostgreSQL URL (default: SQLite)")
    ap.add_argument("--keep", type=Path, help="data dir to load once and reuse")
    ap.add_argument("--only", default="", help="time only the analyses whose name holds this")
    asyncio.run(main_async(ap.parse_args(argv)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
