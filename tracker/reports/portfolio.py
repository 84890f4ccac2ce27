"""Portfolio views built on the creator report: concentration, overlap, leaks, advice.

Each recommendation carries the numbers that justify it, so a brand manager can check the
reasoning rather than trust a label.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from tracker.attribution import precision
from tracker.fraud.rules import coupon_site
from tracker.reports import build as reports
from tracker.reports import roi, scores
from tracker.reports.build import Params
from tracker.settings import Settings
from tracker.store import Store


async def overview(
    store: Store, settings: Settings, p: Params, top_n: int = 10, *, distinct: bool = True
) -> dict[str, Any]:
    """``distinct=False`` leaves unique clicks and visitors at 0 (the panel shows neither,
    and the exact counts are most of the time at a million clicks)."""
    report = await reports.build(store, settings, p, "creator", distinct=distinct)
    creators = [r for r in report["rows"] if r["key"]]
    revenues = [r["revenue_minor"] for r in creators]
    bands: dict[str, int] = defaultdict(int)
    for r in creators:
        bands[r["band"] or "no cost"] += 1
    top = [r for r in creators if r["revenue_minor"] > 0][:top_n]
    return {
        "start": report["start"],
        "end": report["end"],
        "model": p.model,
        "currency": p.currency,
        "totals": report["totals"],
        "concentration_pct": {f"top_{n}": roi.concentration(revenues, n) for n in (1, 5, 10)},
        "bands": dict(bands),
        "top": creators[:5],
        "bottom": sorted(
            (r for r in creators if r["cost_minor"]),
            key=lambda r: r["roi_pct"] if r["roi_pct"] is not None else 0,
        )[:5],
        "unattributed": report["unattributed"],
        "unconverted_currencies": report["unconverted_currencies"],
        "overlap": await overlap(
            store, p, [r["key"] for r in top], report, settings.overlap_exact_visitors
        ),
        "fingerprint_precision": precision.estimate(
            await store.fingerprint_checks(p.start_at, p.end_at)
        ),
    }


#: Halvings of the fingerprint space a visitor sample stops at (1 visitor in 65,536).
MAX_SAMPLE_BITS = 16


def visitor_sample(rows: int, exact_up_to: int) -> int:
    """How many times to halve the visitors an overlap counts: 0 (every visitor) while the
    visitor rows to read fit ``exact_up_to``, else the fewest halvings that bring them
    under it."""
    bits = 0
    while rows > exact_up_to and bits < MAX_SAMPLE_BITS:
        rows = (rows + 1) // 2
        bits += 1
    return bits


def sample_below(bits: int) -> str | None:
    """The fingerprints a ``bits`` sample keeps: those sorting before this text. A
    fingerprint is a keyed MAC in lower-case hex, uniform over its space, so the first
    1/2^bits of the space is a random sample, and the same visitors for every creator."""
    return None if bits == 0 else f"{(1 << 32) >> bits:08x}"


async def overlap(
    store: Store,
    p: Params,
    creator_ids: list[str],
    report: dict[str, Any],
    exact_visitors: int,
) -> dict[str, Any]:
    """Audience overlap among the top creators: visitors (fingerprints) and customers
    reached by both, as matrices in the order of ``creators``. Visitors are counted
    exactly while the top creators' visitor sets hold at most ``exact_visitors`` rows
    (a visitor once per day and link) in the range; above it on a hash sample, each count
    multiplied by ``visitors_scale`` (``visitors_exact`` false). Customers are always
    exact."""
    labels = {r["key"]: r["label"] for r in report["rows"]}
    rows = await store.visitor_rows(creator_ids, p.start_at, p.end_at)
    bits = visitor_sample(rows, exact_visitors)
    scale = 1 << bits
    fps: dict[str, set[str]] = defaultdict(set)
    below = sample_below(bits)
    for row in await store.fingerprints_by_creator(creator_ids, p.start_at, p.end_at, below):
        fps[row["creator_id"]].add(row["fingerprint"])
    customers: dict[str, set[str]] = defaultdict(set)
    for t in await store.customers_by_creator(creator_ids, p.start_at, p.end_at):
        customers[t["creator_id"]].add(t["customer_hash"])
    return {
        "creators": [labels.get(c, c) for c in creator_ids],
        "visitors": [[len(fps[a] & fps[b]) * scale for b in creator_ids] for a in creator_ids],
        "visitors_exact": bits == 0,
        "visitors_scale": scale,
        "customers": [[len(customers[a] & customers[b]) for b in creator_ids] for a in creator_ids],
    }


async def code_leaks(store: Store, p: Params) -> list[dict[str, Any]]:
    """Per creator: code redemptions with no click from that creator in the lookback, and
    redemptions arriving from coupon sites. A high share suggests the code escaped."""
    creators = {r["id"]: r for r in await store.creators_meta()}
    out: dict[str, dict[str, Any]] = {}
    for r in await store.code_redemptions(p.start_at, p.end_at, p.click_days):
        row = out.setdefault(
            r["creator_id"],
            {
                "creator_id": r["creator_id"],
                "label": str(creators.get(r["creator_id"], {}).get("handle", r["creator_id"])),
                "redemptions": 0,
                "without_click": 0,
                "from_coupon_sites": 0,
                "codes": set(),
            },
        )
        row["redemptions"] += 1
        row["codes"].add(r["code"])
        if not r["had_click"]:
            row["without_click"] += 1
        if coupon_site(r["referring_site"]):
            row["from_coupon_sites"] += 1
    result = []
    for row in out.values():
        row["codes"] = sorted(row["codes"])
        row["without_click_pct"] = round(row["without_click"] / row["redemptions"] * 100, 1)
        row["flagged"] = row["from_coupon_sites"] > 0 or (
            row["redemptions"] >= 5 and row["without_click_pct"] >= 80
        )
        result.append(row)
    result.sort(key=lambda r: (-r["from_coupon_sites"], -r["without_click_pct"], r["label"]))
    return result


async def recommendations(
    store: Store, settings: Settings, p: Params, *, distinct: bool = True
) -> dict[str, Any]:
    """Rising CPA, creators to scale, and budget reallocation, each with its numbers
    (none of them uses unique counts: ``distinct=False`` skips them). Rising CPA and
    scaling are the roster advice's rules (``tracker.reports.scores``): "scale" lists the
    creators advised to expand."""
    wins = await scores.windows(store, settings, p)  # no unique counts either way
    last, now_rows, old_rows = wins
    card = await scores.scorecard(store, settings, p, wins=wins)
    scale = [
        {
            "creator": c["handle"],
            "roi_pct": c["numbers"]["roi_pct"],
            "roas": c["numbers"]["roas"],
            "cost_minor": c["numbers"]["cost_minor"],
            "portfolio_median_cost_minor": c["numbers"]["portfolio_median_cost_minor"],
        }
        for c in card["creators"]
        if c["advice"] == "expand"
    ]
    ranked = sorted((r for r in now_rows if r["roi_pct"] is not None), key=lambda r: r["roi_pct"])
    q = len(ranked) // 4
    realloc = None
    if q:
        bottom, top = ranked[:q], ranked[-q:]
        moved = sum(r["cost_minor"] for r in bottom)
        realloc = {
            "from": [r["label"] for r in bottom],
            "to": [r["label"] for r in top],
            "budget_minor": moved,
            "bottom_quartile_roas": _pool_roas(bottom),
            "top_quartile_roas": _pool_roas(top),
            "expected_extra_revenue_minor": round(
                moved * ((_pool_roas(top) or 0) - (_pool_roas(bottom) or 0))
            ),
            "assumption": "marginal ROAS equals each quartile's average ROAS over the last 30 days",
        }
    return {
        "window": {"start": last.start.isoformat(), "end": last.end.isoformat()},
        "rising_cpa": scores.rising_cpa(now_rows, old_rows),
        "scale": scale,
        "reallocate": realloc,
    }


def _pool_roas(rows: list[dict[str, Any]]) -> float | None:
    cost = sum(r["cost_minor"] or 0 for r in rows)
    value = roi.ratio(sum(r["revenue_minor"] for r in rows), cost)
    return None if value is None else round(value, 2)
