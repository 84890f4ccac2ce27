"""Portfolio insights at scale (issue 20): 500 creators, 1M clicks, read-time figures.

Data: ``bench/dataset.py``'s creators, links and clicks, with the clicks' fingerprints drawn
from a pool of visitors (so a visitor meets one to a few creators, as real audiences do);
orders placed by some of those visitors an hour after their last click, each with
fingerprint touches on their last clicks (winner: the latest), a fifth carrying a survey
answer (a creator's handle or name, some with a typo or an ``@``), and 20 collaborations on
popular links. Orders and touches are written with multi-row INSERTs (bench tooling).

Timed in-process against the same store, each the median of ``--reps`` runs: the creator
report under ``last`` (the baseline, same run), under ``data_driven`` (the chain fitted on
every path), the data-driven fit alone, the exposure curves, the survey report and the
collaboration report. Printed with the machine's load average: figures taken on a shared
machine are relative (compare the ratio to the baseline, not the milliseconds).

    .venv/bin/python bench/journeys.py --clicks 1000000 --orders 5000
    .venv/bin/python bench/journeys.py --database-url postgresql://postgres@127.0.0.1/bench
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
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.dataset import Dataset, bench_settings, insert_rows, opened_store, settle  # noqa: E402
from tracker.core import clock  # noqa: E402
from tracker.reports import build as reports  # noqa: E402
from tracker.reports import collabs, exposure, paths, survey  # noqa: E402


def _typo(rng: random.Random, text: str) -> str:
    if len(text) < 4 or rng.random() < 0.5:
        return text
    i = rng.randrange(len(text) - 1)
    return text[:i] + text[i + 1] + text[i] + text[i + 2 :]  # two letters swapped


def plant(data: Dataset, visitors: int, orders: int, seed: int = 20) -> dict[str, list[Any]]:
    """Fingerprints from a visitor pool; orders, touches, collabs and survey answers."""
    rng = random.Random(seed)
    pool = [f"{rng.getrandbits(128):032x}" for _ in range(visitors)]
    clicks = []
    by_visitor: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for row in data.clicks:
        fp = pool[int(visitors * rng.random() ** 1.5)]  # some visitors come back more
        new = (*row[:5], fp, *row[6:])
        clicks.append(new)
        if not new[9]:
            by_visitor[fp].append(new)
    data.clicks = clicks
    now = clock.now_iso()
    shop = {
        "id": "sh_bench",
        "slug": "bench",
        "name": "bench",
        "platform": "generic",
        "secret": "whsec_" + "A" * 40,
        "pixel_token": "",
        "currency": "USD",
        "status": "active",
        "created_at": now,
        "updated_at": now,
    }
    handles = {c["id"]: (c["handle"], c["name"]) for c in data.creators}
    out: dict[str, list[Any]] = {"shops": [shop], "orders": [], "touches": []}
    buyers = rng.sample(sorted(by_visitor), min(orders, len(by_visitor)))
    for n, fp in enumerate(buyers):
        seen = sorted(by_visitor[fp], key=lambda r: r[1])[-3:]
        placed = clock.shift(seen[-1][1], timedelta(hours=1))
        total = rng.randint(1_500, 25_000)
        answer = None
        if rng.random() < 0.2:
            handle, name = handles[rng.choice(seen)[4]]
            answer = rng.choice([f"@{handle}", _typo(rng, handle), name, "instagram"])
        out["orders"].append(
            {
                "id": f"or_b{n}",
                "shop_id": shop["id"],
                "external_id": f"b{n}",
                "placed_at": placed,
                "source_updated_at": placed,
                "currency": "USD",
                "total_minor": total,
                "net_minor": total,
                "status": "paid",
                "fingerprint": fp,
                "creator_id": seen[-1][4],
                "method": "fingerprint",
                "survey_answer": answer,
                "created_at": now,
                "updated_at": now,
            }
        )
        for i, click in enumerate(seen):
            out["touches"].append(
                {
                    "id": f"to_b{n}_{i}",
                    "order_id": f"or_b{n}",
                    "method": "fingerprint",
                    "creator_id": click[4],
                    "link_id": click[3],
                    "campaign_id": None,
                    "at": click[1],
                    "matched": 1,
                    "winner": int(i == len(seen) - 1),
                    "confidence": 0.95,
                }
            )
    return out


async def load(settings: Any, data: Dataset, extra: dict[str, list[Any]]) -> None:
    async with opened_store(settings) as store:
        await data.load(store)
        for table in ("shops", "orders", "touches"):
            await insert_rows(store, table, extra[table])
        popular = sorted({r[3] for r in data.clicks[:5000]})[:20]
        links = {x["id"]: x for x in data.links}
        ids = [c["id"] for c in data.creators]
        for i, link_id in enumerate(popular):
            owner = links[link_id]["creator_id"]
            other = ids[(ids.index(owner) + 1) % len(ids)]
            await store.create_collab(f"collab {i}", link_id, None, [(owner, 6000), (other, 4000)])
        await settle(store)


async def timed(fn: Callable[[], Awaitable[Any]], reps: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(reps):
        t0 = time.perf_counter()
        out = await fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000, out


async def measure(settings: Any, reps: int) -> dict[str, float]:
    p = reports.params_from({"start": clock.iso(clock.now() - 35 * 86400)[:10]}, settings)
    dd = replace(p, model="data_driven")
    figures: dict[str, float] = {}
    async with opened_store(settings) as store:
        jobs: list[tuple[str, Callable[[], Awaitable[Any]]]] = [
            (
                "creator report, last (baseline)",
                lambda: reports.build(store, settings, p, "creator"),
            ),
            ("creator report, data_driven", lambda: reports.build(store, settings, dd, "creator")),
            ("data-driven fit alone", lambda: _fit(store, dd)),
            ("exposure curves", lambda: exposure.report(store, p)),
            ("survey report", lambda: survey.report(store, p, settings.survey_min_score)),
            ("collab report", lambda: collabs.report(store, settings, p)),
        ]
        for name, job in jobs:
            ms, out = await timed(job, reps)
            figures[name] = ms
            print(f"  {name:36s} {ms:8.0f} ms  {_check(name, out)}")
    return figures


async def _fit(store: Any, p: reports.Params) -> Any:
    touches = await store.credited_touches(p.start_at, p.end_at)
    return await paths.fit(store, p, touches)


def _check(name: str, out: Any) -> str:
    if name.startswith("creator report"):
        dd = out.get("data_driven") or {}
        used = f", credit: {dd['model_used']}" if dd else ""
        return f"({out['totals']['orders']:.0f} orders, {out['totals']['clicks']:,} clicks{used})"
    if name.startswith("data-driven"):
        return f"({out.conversions} converting, {out.non_converting:,} non-converting paths)"
    if name.startswith("exposure"):
        sat = out["portfolio"]["saturation_creators"]
        return f"(saturation: {sat.get('label') or sat['reason']})"
    if name.startswith("survey"):
        return f"({out['answers']} answers, {out['matched']} matched)"
    return f"({len(out['rows'])} collaborations)"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--creators", type=int, default=500)
    ap.add_argument("--clicks", type=int, default=1_000_000)
    ap.add_argument("--visitors", type=int, default=300_000)
    ap.add_argument("--orders", type=int, default=5_000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--database-url", help="default: a SQLite file in a temporary directory")
    ap.add_argument("--keep", type=Path, help="data dir to build once and reuse")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        env = {"TRACKER_DATABASE_URL": args.database_url} if args.database_url else {}
        settings = bench_settings(args.keep or Path(tmp), **env)
        if not (args.keep and (args.keep / "loaded").exists()):
            t0 = time.perf_counter()
            data = Dataset.generate(
                creators=args.creators, links=args.creators * 4, clicks=args.clicks
            )
            extra = plant(data, args.visitors, args.orders)
            asyncio.run(load(settings, data, extra))
            if args.keep:
                (args.keep / "loaded").write_text("loaded\n")
            print(
                f"insights bench: {args.creators} creators, {len(data.clicks):,} clicks, "
                f"{len(extra['orders']):,} orders, {len(extra['touches']):,} touches "
                f"(loaded in {time.perf_counter() - t0:.0f} s)"
            )
        print(
            f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} "
            f"on {os.cpu_count()} cores"
        )
        figures = asyncio.run(measure(settings, args.reps))
        base = figures["creator report, last (baseline)"]
        print(
            "  ratio to the baseline: "
            + ", ".join(
                f"{k.split(',')[0] if 'report' not in k else k}: {v / base:.2f}x"
                for k, v in figures.items()
                if "baseline" not in k
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
