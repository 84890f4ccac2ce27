"""The click write in isolation: SQLite CPU per click row through the server's own engine.

The redirect's budget is a few tens of microseconds per request, and the durable write of
the click is the largest part of it. This script measures that part alone, in-process, with
no HTTP and no event-loop contention: click rows shaped like the server's (100,000 links
over 500 creators, time-ordered ids, real user agents' fingerprints) go through
``Store.insert_clicks`` in batches the size one flush interval collects under load.

Baseline, measured in the same run: the same rows into a copy of the clicks table with no
secondary index and no day roll-up (the floor the schema cannot go below). Each variant is printed as CPU
microseconds per row and as a ratio to that floor, so noisy machines still compare.

    .venv/bin/python bench/writes.py                 # ~1 minute
    .venv/bin/python bench/writes.py --rows 100000 --fingerprints 8

``--fingerprints N``: distinct visitors (default 0 = every click a new visitor, the real
world; the HTTP bench sends from one address with 8 user agents, so 8 visitors there).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.dataset import Dataset, bench_settings, opened_store  # noqa: E402
from tracker.core import clock, ids  # noqa: E402
from tracker.store import Store  # noqa: E402
from tracker.store.engine import CLICK_COLUMNS  # noqa: E402

#: A creator's audience: a few countries most of the time (weights as repetitions).
COUNTRIES = ("US",) * 6 + ("GB", "DE", "FR", "BR", "IN", "CA", "ES", "IT", "MX", None)


def click_rows(data: Dataset, n: int, fingerprints: int, rate: float = 9_000.0) -> list[tuple]:
    """``n`` click rows as the writer hands them to the store, ``rate`` clicks a second."""
    rng = random.Random(3)
    start = time.time()
    prints = [os.urandom(16).hex() for _ in range(fingerprints)]
    rows = []
    for i in range(n):
        link = rng.choice(data.links)
        at = start + i / rate
        human = rng.random() > 0.125
        fp = rng.choice(prints) if prints else os.urandom(16).hex()
        rows.append(
            (
                ids.click_id(at),
                clock.iso(at),
                link["slug"],
                link["id"],
                link["creator_id"],
                fp,
                "mobile",
                "iOS",
                "Mobile Safari",
                0 if human else 1,
                None if human else "previewer:facebookexternalhit",
                0,
                "l.instagram.com",
                None,
                "GET",
                None,
                None,
                rng.choice(COUNTRIES),  # the CDN's country header (the reach roll-up's key)
                None,
            )
        )
    return rows


def _bare_write(conn: Any, rows: list[tuple]) -> None:
    from tracker.store.sqlite import _insert_click_rows

    pad = (None,) * (len(CLICK_COLUMNS) - len(rows[0]))
    conn.execute("BEGIN IMMEDIATE")
    _insert_click_rows(conn, [r + pad for r in rows])
    conn.execute("COMMIT")


async def measure(store: Store, rows: list[tuple], batch: int, *, bare: bool = False) -> float:
    """Process CPU (every thread) per row, in microseconds. ``bare``: the rows alone, as
    the engine binds them, without the day roll-ups (the floor)."""
    started = time.process_time()
    for i in range(0, len(rows), batch):
        if bare:
            db = store.db
            async with db._write_lock:  # type: ignore[attr-defined]
                await db._in_clicks_thread(_bare_write, db._clicks, rows[i : i + batch])  # type: ignore[attr-defined]
        else:
            await store.insert_clicks(rows[i : i + batch])
    return (time.process_time() - started) / len(rows) * 1e6


async def bare_table(store: Store) -> None:
    """The floor: the clicks table with its primary key only, under the same name."""
    async with store.db.transaction() as tx:
        rows = await tx.fetch_all(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'clicks' "
            "AND sql IS NOT NULL"
        )
        for r in rows:
            await tx.execute(f"DROP INDEX {r['name']}")


async def run(args: argparse.Namespace) -> dict[str, Any]:
    data = Dataset.generate(creators=args.creators, links=args.links)
    rows = click_rows(data, args.rows, args.fingerprints)
    figures: dict[str, Any] = {}
    for name in ("floor", "schema"):
        with tempfile.TemporaryDirectory(prefix="creatorlink-writes-") as tmp:
            async with opened_store(bench_settings(Path(tmp))) as store:
                await data.load(store)
                if name == "floor":
                    await bare_table(store)
                indexes = await store.db.fetch_all(
                    "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'clicks'"
                )
                bare = name == "floor"
                await measure(store, rows[: args.batch * 4], args.batch, bare=bare)  # warm-up
                us = await measure(store, rows[args.batch * 4 :], args.batch, bare=bare)
            figures[name] = {"us_per_row": round(us, 1), "indexes": [r["name"] for r in indexes]}
    return figures


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rows", type=int, default=200_000)
    p.add_argument("--batch", type=int, default=450, help="rows per flush (50 ms at 9,000/s)")
    p.add_argument("--links", type=int, default=100_000)
    p.add_argument("--creators", type=int, default=500)
    p.add_argument("--fingerprints", type=int, default=0, help="distinct visitors; 0 = all")
    args = p.parse_args(argv)
    figures = asyncio.run(run(args))
    floor = figures["floor"]["us_per_row"]
    print(f"click write, {args.rows:,} rows in batches of {args.batch}, SQLite, same run:")
    print(f"  columns: {len(CLICK_COLUMNS)}; fingerprints: {args.fingerprints or 'all distinct'}")
    for name, f in figures.items():
        print(
            f"  {name:7s} {f['us_per_row']:6.1f} us CPU/row  {f['us_per_row'] / floor:4.2f}x  "
            f"indexes: {', '.join(f['indexes'])}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
