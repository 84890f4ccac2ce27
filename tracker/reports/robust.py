"""Robust statistics for the portfolio analyses, pure and standard library only.

- ``robust_z(x, values)``: how far ``x`` sits from the middle of ``values``, in robust
  standard deviations: (x - median) / (1.4826 x MAD), the MAD floored so a group of nearly
  equal values does not turn a small difference into a huge z. 1.4826 makes the MAD a
  consistent estimate of the standard deviation for normal data; |z| > 3.5 is the usual
  outlier cut (Iglewicz and Hoaglin), and a handful of planted outliers cannot move the
  median or the MAD the way they move a mean and a standard deviation.
- ``percentile_rank(x, values)``: 0..100, the share of values below x (ties count half).
- ``robust_cv(values)``: 1.4826 x MAD / median, a coefficient of variation that a single
  viral post does not dominate.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

CONSISTENCY = 1.4826
OUTLIER_Z = 3.5


def mad(values: Sequence[float], center: float | None = None) -> float:
    """Median absolute deviation from ``center`` (default: the median)."""
    if not values:
        return 0.0
    c = statistics.median(values) if center is None else center
    return float(statistics.median(abs(v - c) for v in values))


def robust_z(x: float, values: Sequence[float], *, floor: float = 0.0) -> float | None:
    """None when ``values`` is empty or has no spread even after the floor."""
    if not values:
        return None
    center = statistics.median(values)
    spread = CONSISTENCY * max(mad(values, center), floor)
    if spread <= 0:
        return None
    return (x - center) / spread


@dataclass(frozen=True)
class Spread:
    """The median and MAD of a group, computed once, for the z of many values."""

    n: int
    median: float
    mad: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        if not values:
            return cls(0, 0.0, 0.0)
        center = float(statistics.median(values))
        return cls(len(values), center, mad(values, center))

    def z(self, x: float, *, floor: float = 0.0) -> float | None:
        spread = CONSISTENCY * max(self.mad, floor)
        if not self.n or spread <= 0:
            return None
        return (x - self.median) / spread


def percentile_rank(x: float, values: Sequence[float]) -> float | None:
    if not values:
        return None
    below = sum(1 for v in values if v < x)
    equal = sum(1 for v in values if v == x)
    return round(100 * (below + 0.5 * equal) / len(values), 1)


def robust_cv(values: Sequence[float]) -> float | None:
    if len(values) < 2:
        return None
    center = statistics.median(values)
    if center <= 0:
        return None
    return CONSISTENCY * mad(values, center) / center


def safe_log(value: float, floor: float = 1e-6) -> float:
    return math.log(max(value, floor))


def poisson_zero(expected: float) -> float:
    """P(no event) when ``expected`` events were due: how surprising a zero count is."""
    return math.exp(-max(expected, 0.0))
