"""The fingerprint's precision, estimated from the brand's own orders.

An order that carries a click id AND a fingerprint is a labelled example: its click id
says which creator sent it, and at ingest the fingerprint is looked up as if the click id
were missing (``tracker.attribution.touches.find``). Precision = how often the fingerprint
alone picked the same creator, overall and per confidence band. Caveat, shown with it:
these orders came back in the browser that clicked, so the estimate is an upper bound for
fingerprint-only orders (cross-device buyers never match at all, which costs recall, not
precision).
"""

from __future__ import annotations

from typing import Any

#: Confidence bands (lower bound inclusive), from the most trusted down.
BANDS = ((0.8, "high (>= 0.8)"), (0.5, "medium (0.5-0.8)"), (0.0, "low (< 0.5)"))


def estimate(checks: list[dict[str, Any]]) -> dict[str, Any]:
    """``checks``: rows of fp_check ('same' | 'other') and fp_check_confidence."""

    def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
        same = sum(1 for r in rows if r["fp_check"] == "same")
        return {
            "orders": len(rows),
            "same_creator": same,
            "precision_pct": round(same / len(rows) * 100, 1) if rows else None,
        }

    bands = []
    for i, (low, name) in enumerate(BANDS):
        high = BANDS[i - 1][0] if i else 2.0
        inside = [r for r in checks if low <= float(r["fp_check_confidence"] or 0) < high]
        bands.append({"band": name, **summary(inside)})
    return {
        **summary(checks),
        "by_confidence": bands,
        "definition": "orders with a click id and a fingerprint: share where the fingerprint "
        "alone picked the click's creator",
    }
