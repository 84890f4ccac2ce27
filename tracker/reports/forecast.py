"""Budget forecast (issue 20): a what-if over a budget split across tiers or creators, from
each unit's response curve (``tracker.reports.curves``) fitted to its own history.

History: ``periods`` periods of ``period_days`` days ending on the range's last day. Per
unit and period, spend = the fee, product and labor costs incurred in it (commissions follow
revenue, so they are not budget), and revenue = the attributed net revenue of orders placed
in it under the chosen model, both in the reporting currency. A tier is the creator's tier
today.

The current split is each unit's spend in the last period. The proposed split is the one
given (``split``: unit -> spend per period in minor units; units not named keep their
current spend), or, if none is given, the current total re-allocated to maximise the
forecast revenue (``curves.allocate``). For both: expected revenue per period with its 90%
bootstrap interval, ROI, and the marginal ROAS (what the next unit of spend returns).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

from tracker.catalogue.creators import tier_for
from tracker.core.errors import BadRequest
from tracker.core.money import MAX_MINOR
from tracker.reports import build, curves, roi
from tracker.reports import stored as reports_stored
from tracker.reports.build import Params
from tracker.store import Store
from tracker.store.engine import Row

UNITS = ("tier", "creator")
SPEND_KINDS = ("fee", "product", "labor")
MAX_UNITS_FULL_DRAWS = 50
MIN_DRAWS = 40


def parse_split(text: str | None) -> dict[str, int]:
    """'micro:150000,mid:300000' -> {'micro': 150000, 'mid': 300000} (minor units)."""
    out: dict[str, int] = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        key, sep, value = part.rpartition(":")
        key = key.strip()
        try:
            amount = int(value.strip())
        except ValueError:
            amount = -1
        if not sep or not key or not 0 <= amount <= MAX_MINOR:
            raise BadRequest(
                f"split_minor: expected key:amount pairs with whole minor units, got {part[:64]!r}"
            )
        out[key] = amount
    if len(out) > 1000:
        raise BadRequest("split_minor: at most 1000 units")
    return out


def periods_of(end: date, period_days: int, periods: int) -> list[date]:
    """First day of each period, oldest first; the last period ends on ``end``."""
    last_start = end - timedelta(days=period_days - 1)
    return [last_start - timedelta(days=period_days * (periods - 1 - i)) for i in range(periods)]


def history(
    creators: dict[str, Row],
    costs: list[Row],
    revenue: list[tuple[str, str, float]],
    starts: list[date],
    by: str,
    p: Params,
) -> dict[str, list[list[float]]]:
    """unit -> [[spend, revenue] per period]; ``revenue``: (creator, UTC day, credited
    revenue) in the reporting currency."""
    out: dict[str, list[list[float]]] = defaultdict(lambda: [[0.0, 0.0] for _ in starts])
    bounds = [s.isoformat() for s in starts]

    def period(day: str) -> int:
        i = len(bounds) - 1
        while i > 0 and day < bounds[i]:
            i -= 1
        return i

    def unit(creator_id: str) -> str:
        if by == "creator":
            return creator_id
        creator = creators.get(creator_id)
        return tier_for(int(creator["followers"]), p.tiers) if creator else "(none)"

    for cost in costs:
        if cost["kind"] not in SPEND_KINDS or cost["incurred_on"] < bounds[0]:
            continue
        amount = roi.convert(int(cost["amount_minor"]), cost["currency"], p.currency, p.rates)
        if amount is not None:
            out[unit(cost["creator_id"])][period(cost["incurred_on"])][0] += amount
    for creator_id, day, amount in revenue:
        if day >= bounds[0]:
            out[unit(creator_id)][period(day)][1] += amount
    return out


async def credited_revenue(
    store: Store, hist: Params
) -> tuple[list[tuple[str, str, float]], set[str]]:
    """(creator, day, revenue) of the range's credit under its model, and the currencies
    that could not be converted: the stored credit summed in SQL per creator and day for
    orders in the reporting currency (when it holds this model under these settings), the
    rest computed from the touches by the reports' own rule (``build.order_credits``)."""
    stored = await build.stored_usable(store, hist)
    touches = await store.credited_touches(
        hist.start_at, hist.end_at, unstored=hist.currency if stored else None
    )
    computed, missing = build.order_credits(touches, hist)
    out = [(c.creator_id, c.placed_at[:10], float(c.revenue)) for c in computed]
    if stored:
        sums = await store.credit_sums(reports_stored.query(hist, "creator"), daily=True)
        out += [(r["key"], r["day"], float(r["revenue_minor"] or 0)) for r in sums]
    return out, missing


def _resolve(
    split: dict[str, int], by: str, units: set[str], creators: dict[str, Row]
) -> dict[str, int]:
    out = {}
    handles = {str(c["handle"]).lower(): cid for cid, c in creators.items()}
    for key, amount in split.items():
        k = key
        if by == "creator" and k not in creators:
            k = handles.get(key.lower().lstrip("@"), key)
        if k not in units and not (by == "creator" and k in creators):
            raise BadRequest(f"split_minor: no {by} {key[:64]!r} with history in this range")
        out[k] = amount
    return out


def _side(curve: curves.Curve, spend: float, draws: list[float]) -> dict[str, Any]:
    revenue = curve.revenue(spend)
    return {
        "spend_minor": round(spend),
        "revenue_minor": round(revenue),
        "revenue_low_minor": round(curves.percentile(draws, 0.05)),
        "revenue_high_minor": round(curves.percentile(draws, 0.95)),
        "roi_pct": None if not spend else round((revenue - spend) / spend * 100, 1),
        "marginal_roas": round(curve.marginal(spend), 3),
        "beyond_history": spend > 1.5 * curve.max_spend,
    }


def _warnings(c: curves.Curve, rows: list[list[float]], proposed: float) -> list[str]:
    out = []
    paid = sum(1 for s, _ in rows if s > 0)
    if c.kind == "linear":
        out.append(
            f"no diminishing returns visible ({paid} periods with spend, "
            f"{len({s for s, _ in rows if s > 0})} distinct amounts; 3 of each needed): "
            "a straight line at the pooled ROAS, optimistic at higher spend"
        )
    elif c.kind == "none":
        out.append("no spend in the history: nothing to forecast from")
    if c.kind == "saturating" and c.b >= curves.HIGH * c.max_spend * 0.99:
        out.append("no saturation reached in the history: the ceiling is a guess")
    if proposed > 1.5 * c.max_spend:
        out.append("proposed spend beyond 1.5 times the largest past spend")
    return out


def _curve_out(c: curves.Curve) -> dict[str, Any]:
    out: dict[str, Any] = {
        "kind": c.kind,
        "points": c.points,
        "max_spend_minor": round(c.max_spend),
    }
    if c.kind == "saturating":
        out.update(
            baseline_minor=round(c.c),
            ceiling_minor=round(c.a),
            half_scale_minor=round(c.b),
            r2=c.r2,
        )
    elif c.kind == "linear":
        out["roas"] = round(c.a, 3)
    return out


async def forecast(
    store: Store,
    p: Params,
    *,
    by: str = "tier",
    split: dict[str, int] | None = None,
    period_days: int = 30,
    periods: int = 6,
) -> dict[str, Any]:
    # long: load, fit, split, then one row per unit and the totals
    if by not in UNITS:
        raise BadRequest(f"by: one of {', '.join(UNITS)}")
    if not (7 <= period_days <= 92 and 3 <= periods <= 24):
        raise BadRequest("period_days 7..92 and periods 3..24")
    starts = periods_of(p.end, period_days, periods)
    hist = replace(p, start=starts[0])
    meta, costs, (revenue, missing) = await asyncio.gather(  # at once on PostgreSQL's pool
        store.creators_meta(),
        store.costs_between(starts[0].isoformat(), (p.end + timedelta(days=1)).isoformat()),
        credited_revenue(store, hist),
    )
    creators = {r["id"]: r for r in meta}
    data = history(creators, costs, revenue, starts, by, p)
    units = {k for k, rows in data.items() if any(s > 0 for s, _ in rows)}
    chosen = _resolve(split or {}, by, units, creators)
    units |= set(chosen)
    points = {k: [(x, y) for x, y in data[k]] for k in units}
    ordered = sorted(units)
    fits = dict(zip(ordered, curves.fit_many([points[k] for k in ordered]), strict=True))
    current = {k: data[k][-1][0] for k in units}
    caps = {k: 2 * max(fits[k].max_spend, current[k]) for k in units}
    if chosen:
        proposed = {k: float(chosen.get(k, current[k])) for k in units}
        how = "given"
    else:
        proposed = curves.allocate(fits, sum(current.values()), caps)
        how = "optimal re-allocation of the current total"
    n_draws = curves.DRAWS if len(units) <= MAX_UNITS_FULL_DRAWS else MIN_DRAWS
    rows: list[dict[str, Any]] = []
    cur_draws, new_draws = [0.0] * n_draws, [0.0] * n_draws
    for k in sorted(units):
        c = fits[k]
        draws = curves.bootstrap(points[k], [current[k], proposed[k]], c, draws=n_draws)
        for i, (a, b) in enumerate(draws):
            cur_draws[i] += a
            new_draws[i] += b
        rows.append(
            {
                "key": k,
                "label": str(creators[k]["handle"]) if by == "creator" and k in creators else k,
                "curve": _curve_out(c),
                "history": [
                    {"start": s.isoformat(), "spend_minor": round(x), "revenue_minor": round(y)}
                    for s, (x, y) in zip(starts, data[k], strict=True)
                ],
                "warnings": _warnings(c, data[k], proposed[k]),
                "current": _side(c, current[k], [d[0] for d in draws]),
                "proposed": _side(c, proposed[k], [d[1] for d in draws]),
            }
        )
    rows.sort(key=lambda r: -r["proposed"]["revenue_minor"])

    def total(side: str, draws: list[float]) -> dict[str, Any]:
        spend = sum(r[side]["spend_minor"] for r in rows)
        revenue = sum(fits[r["key"]].revenue(r[side]["spend_minor"]) for r in rows)
        return {
            "spend_minor": spend,
            "revenue_minor": round(revenue),
            "revenue_low_minor": round(curves.percentile(draws, 0.05)),
            "revenue_high_minor": round(curves.percentile(draws, 0.95)),
            "roi_pct": None if not spend else round((revenue - spend) / spend * 100, 1),
        }

    return {
        "by": by,
        "currency": p.currency,
        "model": p.model,
        "period_days": period_days,
        "periods": [s.isoformat() for s in starts],
        "proposed_split": how,
        "draws": n_draws,
        "units": rows,
        "current": total("current", cur_draws),
        "proposed": total("proposed", new_draws),
        "unconverted_currencies": sorted(missing - {p.currency}),
    }
