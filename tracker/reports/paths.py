"""The creator paths the data-driven model fits on, read for one report range.

Converting paths: each counted order's matched creator touches inside the report's lookback,
in time order (the same touches the other models split); when the report reads the stored
credit, the orders with one kept touch are counted per creator from it instead
(``Store.single_touch_paths``). Non-converting paths: each visitor (fingerprint) with human
creator clicks in the range and no order placed in it, their creators in click order
(``Store.path_transitions``, already counted as transitions).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from tracker.attribution import datadriven
from tracker.attribution.touches import within_lookback
from tracker.store.engine import Row

if TYPE_CHECKING:
    from tracker.reports.build import Params
    from tracker.store import Store

#: Above about this many human creator clicks in the range, non-converting paths (and the
#: exposure curves) are read from a uniform sample of visitors (``Store.visitor_sample``).
SAMPLE_CLICKS = 50_000


def converting_paths(touches: list[Row], click_days: int, fingerprint_days: int) -> list[list[str]]:
    """One creator path per counted order with a touch inside the lookback."""
    by_order: dict[str, list[Row]] = defaultdict(list)
    for t in touches:
        by_order[t["order_id"]].append(t)
    out = []
    for rows in by_order.values():
        placed = rows[0]["placed_at"]
        if not int(rows[0].get("counted", 1) or 0):
            continue
        kept = [
            r
            for r in rows
            if within_lookback(r["method"], r["at"], placed, click_days, fingerprint_days)
        ]
        if kept:
            kept.sort(key=lambda r: r["at"])
            out.append([r["creator_id"] for r in kept])
    return out


def add_transitions(counts: datadriven.Counts, rows: list[Row], scale: float = 1.0) -> int:
    """Add ``path_transitions`` rows to ``counts`` (each count times ``scale``, the inverse
    of the visitor sample's rate); return the number of visitors they stand for."""
    visitors = 0
    for r in rows:
        n, cur, prev = round(int(r["n"]) * scale), r["cur"], r["prev"]
        if prev is None:
            counts.setdefault(datadriven.START, {})
            counts[datadriven.START][cur] = counts[datadriven.START].get(cur, 0) + n
        elif prev != cur:
            counts.setdefault(prev, {})
            counts[prev][cur] = counts[prev].get(cur, 0) + n
        if int(r["last"]):
            counts.setdefault(cur, {})
            counts[cur][datadriven.NULL] = counts[cur].get(datadriven.NULL, 0) + n
            visitors += n
    return visitors


async def fit(store: Store, p: Params, touches: list[Row], stored: bool = False) -> datadriven.Fit:
    """The data-driven model for the report's range (or its fallback, with the reason).
    ``stored``: ``touches`` leaves out the orders whose stored credit has one kept touch
    (``load``); their one-creator paths are counted from it instead."""
    paths = converting_paths(touches, p.click_days, p.fingerprint_days)
    counts: datadriven.Counts = {}
    for path in paths:
        datadriven.add_path(counts, path, True)
    conversions = len(paths)
    if stored:
        for r in await store.single_touch_paths(p.start_at, p.end_at, p.currency):
            datadriven.add_path(counts, [r["creator_id"]], True, int(r["n"]))
            conversions += int(r["n"])
    if conversions < p.min_conversions:  # below the threshold: no need to read the clicks
        return datadriven.fit(counts, conversions, 0, p.min_conversions)
    below, rate = await store.visitor_sample(p.start_at, p.end_at, SAMPLE_CLICKS)
    rows = await store.path_transitions(p.start_at, p.end_at, below)
    visitors = add_transitions(counts, rows, 1 / rate)
    # off the event loop: LAPACK releases the GIL, so redirects keep flowing meanwhile
    return await asyncio.to_thread(
        datadriven.fit, counts, conversions, visitors, p.min_conversions, rate
    )


def describe(f: datadriven.Fit, labels: dict[str, str], top: int = 50) -> dict[str, Any]:
    """The report's ``data_driven`` block: which model gave the credit and why, and the
    largest removal effects (creator, removal effect, normalised share)."""
    shares = f.share()
    ranked = sorted(f.removal_effect.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    return {
        "model_used": f.used,
        "fallback": f.used != "data_driven",
        "reason": f.reason,
        "converting_paths": f.conversions,
        "non_converting_paths": f.non_converting,
        "non_converting_sample_rate": round(f.sample_rate, 6),
        "threshold": f.threshold,
        "conversion_probability": round(f.conversion_probability, 6),
        "removal_effects": [
            {
                "creator_id": c,
                "label": labels.get(c, c),
                "removal_effect": round(v, 6),
                "share": round(shares.get(c, 0.0), 6),
            }
            for c, v in ranked
        ],
    }


def fallback_note(block: dict[str, Any] | None) -> str | None:
    """The line a text report (the CLI) prints when ``model=data_driven`` fell back, as the
    API's ``data_driven.fallback`` / ``reason`` say it; None when it did not."""
    if not block or not block.get("fallback"):
        return None
    return (
        f"data_driven: not trusted here, credit is {block['model_used']}-based instead: "
        f"{block['reason']}"
    )
