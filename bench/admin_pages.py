"""Server-side time of the admin pages over a 500-creator portfolio (a benchmark, not a test).

Builds (once, cached in bench/results/admin.db) 500 creators, 2,500 links and N clicks
(default 1,000,000) spread over 90 days in time order, then requests each page through the real app
(httpx over ASGI, logged in, no network) and prints the median and worst of R runs.

    .venv/bin/python bench/admin_pages.py [--clicks 1000000] [--runs 7]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from admin.passwords import hash_password  # noqa: E402
from tracker.app import create_app  # noqa: E402
from tracker.catalogue.creators import PLATFORMS  # noqa: E402
from tracker.core import clock, ids  # noqa: E402
from tracker.settings import Settings  # noqa: E402

PAGES = [
    "/admin/",
    "/admin/creators",
    "/admin/creators?sort=followers&dir=desc&tier=micro",
    "/admin/creators?q=c04&platform=tiktok",
    "/admin/creators?page=10",
    "/admin/links",
    "/admin/campaigns",
    "/admin/creators/c0007",
    "/admin/creators/c0000",
    "/admin/creators?band=poor",
    "/admin/codes",
    "/admin/shops",
    "/admin/costs",
    "/admin/reports",
    "/admin/reports?page=5&sort=clicks",
    "/admin/reports?format=csv",
    "/admin/links?q=c04",
    "/admin/links?state=active&page=20",
    "/admin/codes",
    "/admin/orders",
    "/admin/orders?unattributed=1",
    "/admin/portfolio",
    "/admin/portfolio/overlap",
    "/admin/portfolio/leaks",
    "/admin/portfolio/advice",
]


async def build(store: object, n_clicks: int) -> None:
    rng = random.Random(7)
    cats = ["beauty", "fitness", "food", "tech", "travel", "gaming"]
    creators = [
        {
            "handle": f"c{i:04d}",
            "platform": rng.choice(PLATFORMS[:4]),
            "followers": int(rng.lognormvariate(10, 1.3)),
            "category": rng.choice(cats),
        }
        for i in range(500)
    ]
    await store.import_creators(creators)  # type: ignore[attr-defined]
    rows = await store.search_creators(limit=1000)  # type: ignore[attr-defined]
    links = []
    for c in rows[0]:
        for j in range(5):
            link = await store.create_link(
                {  # type: ignore[attr-defined]
                    "slug": f"{c['handle']}-{j}",
                    "creator_id": c["id"],
                    "destination": "https://shop.example.com/p",
                }
            )
            links.append((link["id"], link["slug"], c["id"]))
    # Clicks arrive in time order, as the click writer stores them (rows near in time are
    # near on disk, which is what range scans over `at` rely on).
    now = time.time()
    batch: list[tuple[object, ...]] = []
    per_day = n_clicks // 90
    for day in range(90, 0, -1):
        stamps = sorted(now - day * 86400 + rng.random() * 86400 for _ in range(per_day))
        for ts in stamps:
            link_id, slug, creator_id = links[int(rng.paretovariate(1.2)) % len(links)]
            bot = 1 if rng.random() < 0.1 else 0
            batch.append(
                (
                    ids.click_id(),
                    clock.iso(ts),
                    slug,
                    link_id,
                    creator_id,
                    f"fp{rng.randrange(200000)}",
                    "mobile",
                    "iOS",
                    "Safari",
                    bot,
                    "crawler" if bot else None,
                    0,
                    None,
                    None,
                    "GET",
                )
            )
            if len(batch) == 50_000:
                await store.insert_clicks(batch)  # type: ignore[attr-defined]
                batch = []
    if batch:
        await store.insert_clicks(batch)  # type: ignore[attr-defined]


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clicks", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--only", default="", help="time only the pages whose path contains this")
    ap.add_argument("--data", default=str(ROOT / "bench" / "results" / "admin"))
    args = ap.parse_args()
    data = Path(args.data)
    data.mkdir(parents=True, exist_ok=True)
    db = data / f"admin-{args.clicks}.db"
    fresh = not db.exists()
    settings = Settings.from_env(
        {
            "TRACKER_DATA_DIR": str(data),
            "TRACKER_SECRET_KEY": "b" * 40,
            "TRACKER_DATABASE_URL": f"sqlite:///{db}",
            "TRACKER_LOG_LEVEL": "warning",
        }
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        store = app.state.tracker.store
        if fresh:
            print(f"building {db} ...", file=sys.stderr)
            await build(store, args.clicks)
            await store.create_admin_user(
                "bench@x.example", "viewer", hash_password("bench password 1")
            )
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            page = await client.get("/admin/login")
            token = page.text.split('name="csrf" value="')[1].split('"')[0]
            r = await client.post(
                "/admin/login",
                data={"csrf": token, "email": "bench@x.example", "password": "bench password 1"},
            )
            assert r.status_code == 303, r.text
            totals = await store.panel_totals()
            print(
                f"data: {totals['creators']} creators, {totals['links']} links, "
                f"{totals['clicks']:,} clicks (SQLite, {db.stat().st_size / 2**20:.0f} MiB)"
            )
            print(f"{'page':58} {'median ms':>10} {'max ms':>8}")
            for path in [p for p in PAGES if args.only in p]:
                times = []
                for _ in range(args.runs):
                    t0 = time.perf_counter()
                    r = await client.get(path)
                    times.append((time.perf_counter() - t0) * 1000)
                    assert r.status_code == 200, (path, r.status_code)
                print(f"{path:58} {statistics.median(times):10.1f} {max(times):8.1f}")


if __name__ == "__main__":
    asyncio.run(main())
