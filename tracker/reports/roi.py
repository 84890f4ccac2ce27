"""ROI maths as pure functions: the numbers a brand manager decides on.

All money is integer minor units of the reporting currency; ratios are floats or None when
their denominator is zero (a creator without cost has no CPA, not an infinite ROI).
ROI% = (revenue - cost) / cost x 100; ROAS = revenue / cost; the band reads ROAS as a
ratio: >= 5:1 strong, 3:1-5:1 moderate, < 3:1 poor. ``orders`` are counted orders only
(cancelled and fully refunded ones count 0), so AOV = revenue / orders and CPA = cost /
orders; conversion = orders reached through a click (click id or fingerprint) / human
clicks, with the code-only orders shown beside it (``code_only_orders``).
"""

from __future__ import annotations

from typing import Any

from tracker.core.money import convert as convert  # re-exported: the reports call roi.convert


def ratio(num: float, den: float) -> float | None:
    return None if not den else num / den


def band(roas: float | None) -> str | None:
    if roas is None:
        return None
    if roas >= 5:
        return "strong"
    if roas >= 3:
        return "moderate"
    return "poor"


def derive(row: dict[str, Any]) -> dict[str, Any]:
    """Add the derived metrics to a row of sums (clicks, orders, revenue_minor, cost_minor...)."""
    revenue = row.get("revenue_minor") or 0
    cost = row.get("cost_minor") or 0
    orders = row.get("orders") or 0.0
    human = row.get("human_clicks") or 0
    roas = ratio(revenue, cost)
    roi = None if not cost else (revenue - cost) / cost * 100
    cpa = ratio(cost, orders) if cost else None  # no cost, no CPA (as no ROAS): not 0.00
    out = dict(row)
    out.update(
        conversion_rate=_pct(ratio(row.get("click_orders") or 0, human)),
        aov_minor=_round(ratio(revenue, orders)),
        epc_minor=_round(ratio(revenue, human)),
        cpa_minor=_round(cpa),
        roas=None if roas is None else round(roas, 2),
        roi_pct=None if roi is None else round(roi, 1),
        band=band(roas),
        orders=round(orders, 4),
        new_customers=round(row.get("new_customers") or 0.0, 4),
        engagement_rate=_pct(ratio(row.get("engagements") or 0, row.get("followers_reached") or 0)),
    )
    return out


def _pct(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 2)


def _round(value: float | None) -> int | None:
    return None if value is None else round(value)


def engagement_rate(likes: int, comments: int, shares: int, followers: int | None) -> float | None:
    """(likes + comments + shares) / followers x 100."""
    return _pct(ratio(likes + comments + shares, followers or 0))


def concentration(revenues: list[float], top: int) -> float | None:
    """Share of revenue (percent) from the ``top`` biggest earners."""
    total = sum(revenues)
    if not total:
        return None
    return round(sum(sorted(revenues, reverse=True)[:top]) / total * 100, 2)


def median(values: list[float]) -> float | None:
    vals = sorted(v for v in values if v is not None)
    if not vals:
        return None
    mid = len(vals) // 2
    return vals[mid] if len(vals) % 2 else (vals[mid - 1] + vals[mid]) / 2
