"""Bench data set: creators, campaigns, links and clicks (and orders once that table exists).

Deterministic (seeded) and quick to load: rows are generated in Python and written with
multi-row ``INSERT`` statements inside one transaction per table, through the store's own
engine (so the schema, migrations and pragmas are exactly the server's), and clicks through
``Store.insert_clicks`` (the writer's own batch path). 500 creators with 100,000 links load
in a few seconds on SQLite; the same code runs against PostgreSQL.

Reusable by other benches and by tests::

    data = Dataset.generate(creators=500, links=100_000, clicks=200_000)
    async with opened_store(settings) as store:
        await data.load(store)

or from the shell: ``.venv/bin/python bench/dataset.py --data-dir /tmp/x --creators 500``.
Loading SQL lives here and not in ``tracker/store/`` on purpose: it is bench tooling, never
run by the server.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from tracker.core import clock  # noqa: E402
from tracker.settings import Settings  # noqa: E402
from tracker.store import Store, open_store  # noqa: E402

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"  # shortuuid's
PLATFORMS = ("instagram", "tiktok", "youtube", "pinterest", "twitch")
CATEGORIES = ("beauty", "fitness", "food", "fashion", "gaming", "travel", "tech", "home")
SHOP = "https://shop.example.com"
PRODUCTS = ("serum", "cleanser", "sunscreen", "toner", "mask", "kit")
#: Devices as the capture writes them, with rough shares of influencer traffic.
DEVICES = (
    ("mobile", "iOS", "Mobile Safari"),
    ("mobile", "Android", "Chrome Mobile"),
    ("mobile", "iOS", "Instagram"),
    ("desktop", "Windows", "Chrome"),
    ("tablet", "iOS", "Mobile Safari"),
)
#: Insert this many rows per statement (well under both engines' parameter limits).
CHUNK_PARAMS = 15_000


def _rid(rng: random.Random, prefix: str) -> str:
    return f"{prefix}_{''.join(rng.choices(ALPHABET, k=22))}"


@dataclass
class Dataset:
    """Rows per table (column -> value dicts) plus click rows in ``CLICK_COLUMNS`` order."""

    creators: list[dict[str, Any]] = field(default_factory=list)
    campaigns: list[dict[str, Any]] = field(default_factory=list)
    links: list[dict[str, Any]] = field(default_factory=list)
    clicks: list[tuple[Any, ...]] = field(default_factory=list)

    @property
    def slugs(self) -> list[str]:
        return [link["slug"] for link in self.links]

    @classmethod
    def generate(
        cls,
        *,
        creators: int = 500,
        campaigns: int = 5,
        links: int = 100_000,
        clicks: int = 0,
        days: int = 30,
        seed: int = 8,
    ) -> Dataset:
        """``links`` spread evenly over creators and campaigns; ``clicks`` over ``days``."""
        rng = random.Random(seed)
        now = time.time()
        stamp = clock.iso(now - days * 86400)
        data = cls()
        for i in range(creators):
            handle = f"creator_{i:04d}"
            followers = int(rng.paretovariate(1.2) * 2_000)
            data.creators.append(
                {
                    "id": _rid(rng, "cr"),
                    "handle": handle,
                    "handle_key": handle,
                    "name": f"Creator {i}",
                    "platform": PLATFORMS[i % len(PLATFORMS)],
                    "followers": min(followers, 5_000_000),
                    "category": CATEGORIES[i % len(CATEGORIES)],
                    "email": "",
                    "status": "active",
                    "created_at": stamp,
                    "updated_at": stamp,
                }
            )
        for i in range(campaigns):
            name = f"Campaign {i}"
            data.campaigns.append(
                {
                    "id": _rid(rng, "cp"),
                    "name": name,
                    "name_key": name.lower(),
                    "starts_on": None,
                    "ends_on": None,
                    "budget_minor": 500_000 * (i + 1),
                    "currency": "USD",
                    "status": "active",
                    "created_at": stamp,
                    "updated_at": stamp,
                }
            )
        seen: set[str] = set()
        for i in range(links):
            slug = "".join(rng.choices(ALPHABET, k=7))
            while slug in seen:
                slug = "".join(rng.choices(ALPHABET, k=7))
            seen.add(slug)
            creator = data.creators[i % creators] if creators else None
            campaign = data.campaigns[i % campaigns] if campaigns else None
            data.links.append(
                {
                    "id": _rid(rng, "ln"),
                    "slug": slug,
                    "creator_id": creator["id"] if creator else None,
                    "campaign_id": campaign["id"] if campaign else None,
                    "destination": f"{SHOP}/products/{PRODUCTS[i % len(PRODUCTS)]}?variant={i % 97}",
                    "utm_source": creator["platform"] if creator else None,
                    "utm_medium": "influencer",
                    "utm_campaign": campaign["name_key"].replace(" ", "_") if campaign else None,
                    "utm_content": creator["handle"] if creator else None,
                    "utm_term": None,
                    "utm_override": 0,
                    "content_type": "",
                    "title": "",
                    "status": "active",
                    "expires_at": None,
                    "created_at": stamp,
                    "updated_at": stamp,
                }
            )
        data.clicks = list(_clicks(rng, data.links, clicks, now, days))
        return data

    async def load(self, store: Store) -> None:
        """Write every row; the store must be migrated and hold none of these ids yet."""
        for table, rows in (
            ("creators", self.creators),
            ("campaigns", self.campaigns),
            ("links", self.links),
        ):
            await insert_rows(store, table, rows)
        for start in range(0, len(self.clicks), 20_000):
            await store.insert_clicks(self.clicks[start : start + 20_000])


def _clicks(
    rng: random.Random, links: list[dict[str, Any]], n: int, now: float, days: int
) -> Iterator[tuple[Any, ...]]:
    """Click rows skewed towards a few popular links, as real creator traffic is."""
    if not links:
        return
    for _ in range(n):
        link = links[min(int(rng.paretovariate(1.1)) - 1, len(links) - 1) * 7919 % len(links)]
        device, os_, browser = rng.choice(DEVICES)
        bot = rng.random() < 0.05
        yield (
            "".join(rng.choices(ALPHABET, k=16)),
            clock.iso(now - rng.random() * days * 86400),
            link["slug"],
            link["id"],
            link["creator_id"],
            f"{rng.getrandbits(128):032x}",
            device,
            os_,
            browser,
            int(bot),
            "previewer:facebookexternalhit" if bot else None,
            0,
            "l.instagram.com" if rng.random() < 0.6 else None,
            None,
            "GET",
            f"{rng.getrandbits(16):04x}",
            "e3f1",
        )


async def insert_rows(store: Store, table: str, rows: list[dict[str, Any]]) -> None:
    """Multi-row INSERTs in one transaction (bench tooling; the server never does this)."""
    if not rows:
        return
    cols = list(rows[0])
    per = max(1, CHUNK_PARAMS // len(cols))
    one = "(" + ", ".join("?" for _ in cols) + ")"
    async with store.db.transaction() as tx:
        for start in range(0, len(rows), per):
            chunk = rows[start : start + per]
            sql = f"INSERT INTO {table} ({', '.join(cols)}) VALUES " + ", ".join(one for _ in chunk)
            await tx.execute(sql, [r[c] for r in chunk for c in cols])


async def settle(store: Store) -> None:
    """After a bulk load, what a running PostgreSQL has done by itself (autovacuum): the
    planner statistics and the visibility map. Without them a fresh table is planned from
    guesses (posting times picked a fingerprint index for a time range: 6.6 s instead of
    0.8) and no scan is index-only. SQLite runs no ANALYZE by itself, and nor does this."""
    if store.db.dialect == "postgres":
        await store.db.execute("VACUUM ANALYZE")


@asynccontextmanager
async def opened_store(settings: Settings) -> AsyncIterator[Store]:
    store = await open_store(settings)
    try:
        yield store
    finally:
        await store.close()


def bench_settings(data_dir: Path, **env: str) -> Settings:
    """Settings for a bench data dir (SQLite file inside it unless TRACKER_DATABASE_URL given)."""
    environ = {"TRACKER_DATA_DIR": str(data_dir), "TRACKER_LOG_LEVEL": "warning", **env}
    return Settings.from_env(environ)


async def build(data_dir: Path, data: Dataset, **env: str) -> None:
    async with opened_store(bench_settings(data_dir, **env)) as store:
        await data.load(store)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Generate and load the bench data set.")
    p.add_argument("--data-dir", type=Path, required=True)
    p.add_argument("--database-url", default="", help="default: SQLite in --data-dir")
    p.add_argument("--creators", type=int, default=500)
    p.add_argument("--campaigns", type=int, default=5)
    p.add_argument("--links", type=int, default=100_000)
    p.add_argument("--clicks", type=int, default=200_000)
    p.add_argument("--seed", type=int, default=8)
    args = p.parse_args(argv)
    t0 = time.perf_counter()
    data = Dataset.generate(
        creators=args.creators,
        campaigns=args.campaigns,
        links=args.links,
        clicks=args.clicks,
        seed=args.seed,
    )
    t1 = time.perf_counter()
    env = {"TRACKER_DATABASE_URL": args.database_url} if args.database_url else {}
    asyncio.run(build(args.data_dir, data, **env))
    print(
        f"generated in {t1 - t0:.1f}s, loaded in {time.perf_counter() - t1:.1f}s: "
        f"{len(data.creators)} creators, {len(data.campaigns)} campaigns, "
        f"{len(data.links)} links, {len(data.clicks)} clicks into {args.data_dir}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
