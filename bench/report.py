"""The ROI report over the 500-creator data set: how long ``reports.build`` takes.

Data: 500 creators with links and clicks spread over 30 days (``bench/dataset.py``), one
discount code and one fee per creator, and orders that arrive the real way - signed
Shopify webhooks through a running server - so every order has its attributed touches.
Then, in-process against the same SQLite file, the creator report (default model, last
35 days) is built several times; the figure is the median wall time, with the rows and
the orders it covered as a check that it reported something.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.dataset import bench_settings, opened_store
from bench.postbacks import orders, prepare, send_all, signed_request


async def _add_costs(data_dir: Path) -> int:
    day = (datetime.now(UTC).date() - timedelta(days=10)).isoformat()
    async with opened_store(bench_settings(data_dir)) as store:
        creators = await store.list_creators(limit=100_000)
        return int(
            await store.add_costs(
                [
                    {
                        "creator_id": c["id"],
                        "kind": "fee",
                        "amount_minor": 25_000 + 100 * i,
                        "currency": "USD",
                        "incurred_on": day,
                    }
                    for i, c in enumerate(creators)
                ]
            )
        )


async def _time_reports(data_dir: Path, reps: int) -> dict[str, Any]:
    from tracker.reports import build as reports

    settings = bench_settings(data_dir)
    start = (datetime.now(UTC).date() - timedelta(days=35)).isoformat()
    params = reports.params_from({"start": start}, settings)
    out: dict[str, Any] = {}
    async with opened_store(settings) as store:
        for dimension in ("creator", "campaign"):
            times, report = [], {}
            for _ in range(reps if dimension == "creator" else 1):
                t0 = time.perf_counter()
                report = await reports.build(store, settings, params, dimension)
                times.append(time.perf_counter() - t0)
            totals = report.get("totals", {})
            out[dimension] = {
                "median_ms": round(statistics.median(times) * 1000, 1),
                "min_ms": round(min(times) * 1000, 1),
                "runs": len(times),
                "rows": len(report.get("rows", [])),
                "orders": totals.get("orders"),
                "clicks": totals.get("clicks"),
            }
    return out


def run_report(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    from bench.run import say, start_tracker

    data_dir = tmp / "report"
    t0 = time.perf_counter()
    codes = asyncio.run(
        prepare(data_dir, args.creators, links=args.creators * 4, clicks=args.report_clicks)
    )
    costs = asyncio.run(_add_costs(data_dir))
    tracker = start_tracker(tmp, data_dir, "report")
    try:
        n = args.report_orders
        requests = [signed_request(o, f"127.0.0.1:{tracker.port}") for o in orders(n, codes)]
        asyncio.run(send_all("127.0.0.1", tracker.port, requests, 16))
    finally:
        tracker.stop()
    built = time.perf_counter() - t0
    figures = asyncio.run(_time_reports(data_dir, 5))
    c = figures["creator"]
    say(
        f"ROI report: creator table over {args.creators} creators, {args.report_clicks:,} "
        f"clicks, {n:,} orders, {costs} costs: median {c['median_ms']:,.0f} ms "
        f"(min {c['min_ms']:,.0f}, {c['runs']} runs; {c['rows']} rows, {c['orders']} orders, "
        f"{c['clicks']} clicks reported); campaign table {figures['campaign']['median_ms']:,.0f}"
        f" ms; data set built in {built:.0f} s"
    )
    return {
        "creators": args.creators,
        "clicks": args.report_clicks,
        "orders": n,
        "costs": costs,
        **figures,
    }
