"""Cumulative exposure: how conversion changes with the number of creators (and clicks) a
visitor met before buying, portfolio-wide and per tier, and where extra exposure stops
helping.

A visitor is a fingerprint with human creator clicks in the range. Their exposure counts
the clicks before their first counted order in the range (every click when they bought
nothing): ``creators`` distinct creators met, ``clicks`` human clicks. Per tier, only that
tier's creators and clicks count. Counts from ``CAP`` up are one bucket (``10+``).

Figures per exposure level k: ``visitors``, ``buyers`` (visitors with a counted order in the
range), ``conversion_rate`` = buyers / visitors, ``revenue_minor`` (buyers' net revenue of
counted orders in the range, reporting currency) and ``revenue_per_visitor_minor`` =
revenue / visitors.

Above ``paths.SAMPLE_CLICKS`` human creator clicks in the range the curves are read from a
uniform sample of visitors (by fingerprint, ``sample_rate``): counts are the sample's, rates
and revenue per visitor are unbiased estimates, and the saturation test uses the sample's
sizes (so it is conservative, never overconfident).

The saturation point (``saturation``) is the smallest level k with at least ``min_visitors``
visitors such that no higher level (with as many visitors) converts significantly better:
for every j > k, rate_j <= rate_k + 1.96 * sqrt(rate_k(1-rate_k)/n_k + rate_j(1-rate_j)/n_j)
(a one-sided two-proportion test at 2.5%). When that level is the highest one observed,
conversion was still rising there: no saturation point is claimed.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from tracker.reports import roi
from tracker.reports.paths import SAMPLE_CLICKS

if TYPE_CHECKING:
    from tracker.reports.build import Params
    from tracker.store import Store

CAP = 10
Z = 1.96
MIN_VISITORS = 30


def point(level: int, visitors: int, buyers: int, revenue: float) -> dict[str, Any]:
    return {
        "level": level,
        "label": f"{level}+" if level >= CAP else str(level),
        "visitors": visitors,
        "buyers": buyers,
        "conversion_rate": round(buyers / visitors, 6) if visitors else None,
        "revenue_minor": round(revenue),
        "revenue_per_visitor_minor": round(revenue / visitors) if visitors else None,
    }


def saturation(points: list[dict[str, Any]], min_visitors: int = MIN_VISITORS) -> dict[str, Any]:
    """The saturation point of one curve (see the module's definition), with its reason."""
    ok = [p for p in sorted(points, key=lambda p: p["level"]) if p["visitors"] >= min_visitors]
    if len(ok) < 2:
        return {
            "level": None,
            "reason": f"fewer than two exposure levels with {min_visitors}+ visitors",
        }
    for i, p in enumerate(ok):
        rate, n = p["buyers"] / p["visitors"], p["visitors"]
        better = [
            q
            for q in ok[i + 1 :]
            if q["buyers"] / q["visitors"]
            > rate
            + Z
            * math.sqrt(
                rate * (1 - rate) / n
                + (q["buyers"] / q["visitors"]) * (1 - q["buyers"] / q["visitors"]) / q["visitors"]
            )
        ]
        if better:
            continue
        if i == len(ok) - 1:
            return {
                "level": None,
                "reason": f"conversion still rising at the highest level observed ({p['label']})",
            }
        return {
            "level": p["level"],
            "label": p["label"],
            "conversion_rate": round(rate, 6),
            "reason": f"no level above {p['label']} converts significantly better "
            f"(one-sided two-proportion test, z = {Z})",
        }
    return {"level": None, "reason": "no level qualifies"}  # unreachable: the last one does


def curves(
    counts: list[dict[str, Any]], revenue: dict[str, float]
) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """``Store.exposure_counts`` rows -> {scope: {"creators": points, "clicks": points}}."""
    acc: dict[tuple[str, str, int], list[float]] = defaultdict(lambda: [0, 0, 0.0])
    for r in counts:
        scope, n = str(r["tier"]), int(r["visitors"])
        buyer = r["buyer"]
        for axis, level in (
            ("creators", min(int(r["creators"]), CAP)),
            ("clicks", int(r["clicks"])),
        ):
            a = acc[(scope, axis, level)]
            a[0] += n
            if buyer is not None:
                a[1] += n
                a[2] += revenue.get(buyer, 0.0)
    out: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(
        lambda: {"creators": [], "clicks": []}
    )
    for (scope, axis, level), (v, b, rev) in sorted(acc.items()):
        out[scope][axis].append(point(level, int(v), int(b), rev))
    return dict(out)


async def report(store: Store, p: Params, min_visitors: int = MIN_VISITORS) -> dict[str, Any]:
    """Exposure curves portfolio-wide (``portfolio``) and per tier, each with its saturation."""
    revenue: dict[str, float] = defaultdict(float)
    missing: set[str] = set()
    for r in await store.buyer_revenue(p.start_at, p.end_at):
        value = roi.convert(int(r["net_minor"]), r["currency"], p.currency, p.rates)
        if value is None:
            missing.add(r["currency"])
            continue
        revenue[r["fingerprint"]] += value
    below, rate = await store.visitor_sample(p.start_at, p.end_at, SAMPLE_CLICKS)
    counts = await store.exposure_counts(p.start_at, p.end_at, p.tiers, CAP, below)
    scopes = curves(counts, revenue)

    def block(scope: str) -> dict[str, Any]:
        c = scopes.get(scope, {"creators": [], "clicks": []})
        return {
            "by_creators": c["creators"],
            "by_clicks": c["clicks"],
            "saturation_creators": saturation(c["creators"], min_visitors),
            "saturation_clicks": saturation(c["clicks"], min_visitors),
        }

    tiers = [name for name, _ in p.tiers]
    return {
        "start": p.start.isoformat(),
        "end": p.end.isoformat(),
        "currency": p.currency,
        "cap": CAP,
        "sample_rate": round(rate, 6),
        "min_visitors": min_visitors,
        "portfolio": block("*"),
        "tiers": {t: block(t) for t in tiers if t in scopes},
        "unconverted_currencies": sorted(missing - {p.currency}),
    }
