"""Response curves for the budget forecast: revenue as a function of spend, with diminishing
returns, fitted from history; pure, standard library only (issue 20).

The model, per unit (a tier or a creator), from one point per period (spend, revenue):

    revenue = c + a x (1 - exp(-spend / b))

``c`` >= 0 is the revenue a period brings without spend (codes still in use, late orders),
``a`` >= 0 the most that spend adds (the ceiling), ``b`` > 0 the spend at which 63% of the
ceiling is reached: the marginal return (a / b) x exp(-spend / b) falls as spend grows.
For a given ``b`` the best ``c`` and ``a`` are a two-variable least-squares solution in
closed form, so the fit is a one-dimensional search over ``b`` (a log grid from 1/50 to 20
times the largest spend, refined by golden section).

With fewer than 3 periods with spend, or fewer than 3 distinct spends, no curvature can be
seen: the unit gets a ``linear`` curve through the origin at its pooled ROAS (sum of revenue
/ sum of spend), flagged, and never extrapolated beyond twice its largest spend.

Uncertainty: a bootstrap over periods (draw the periods with replacement, refit on the
grid, predict), the 5th and 95th percentiles of the draws. Seeded: the same data gives the
same interval.
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from operator import itemgetter

GRID = 24
LOW, HIGH = 1 / 50, 20.0
DRAWS = 200
GOLDEN = (math.sqrt(5) - 1) / 2


@dataclass(frozen=True)
class Curve:
    kind: str  # saturating | linear | none
    a: float
    b: float
    c: float
    points: int
    max_spend: float
    r2: float | None = None

    def revenue(self, spend: float) -> float:
        if self.kind == "saturating":
            return self.c + self.a * (1 - math.exp(-spend / self.b))
        if self.kind == "linear":
            return self.a * spend
        return 0.0

    def marginal(self, spend: float) -> float:
        """Extra revenue per extra unit of spend at ``spend``."""
        if self.kind == "saturating":
            return self.a / self.b * math.exp(-spend / self.b)
        return self.a if self.kind == "linear" else 0.0


def _solve(n: float, sf: float, sff: float, sy: float, syf: float) -> tuple[float, float]:
    """Least squares of y = c + a f with c, a >= 0."""
    det = n * sff - sf * sf
    if det > 1e-12 * max(1.0, n * sff):
        a = (n * syf - sf * sy) / det
        c = (sy - a * sf) / n
        if a >= 0 and c >= 0:
            return c, a
    a_only = max(syf / sff, 0.0) if sff > 0 else 0.0
    c_only = max(sy / n, 0.0)
    # the better of the two boundary fits
    sse_a = -2 * a_only * syf + a_only * a_only * sff
    sse_c = -2 * c_only * sy + n * c_only * c_only
    return (0.0, a_only) if sse_a <= sse_c else (c_only, 0.0)


def _sse(xs: Sequence[float], ys: Sequence[float], b: float) -> tuple[float, float, float]:
    f = [1 - math.exp(-x / b) for x in xs]
    n = len(xs)
    sf, sff = sum(f), sum(v * v for v in f)
    sy, syf = sum(ys), sum(y * v for y, v in zip(ys, f, strict=True))
    c, a = _solve(n, sf, sff, sy, syf)
    sse = sum((y - c - a * v) ** 2 for y, v in zip(ys, f, strict=True))
    return sse, c, a


def grid(max_spend: float) -> list[float]:
    lo, hi = math.log(max_spend * LOW), math.log(max_spend * HIGH)
    return [math.exp(lo + (hi - lo) * i / (GRID - 1)) for i in range(GRID)]


def linear(points: Sequence[tuple[float, float]]) -> Curve:
    spend = sum(x for x, _ in points)
    revenue = sum(y for _, y in points)
    top = max((x for x, _ in points), default=0.0)
    if spend <= 0:
        return Curve("none", 0.0, 1.0, 0.0, len(points), top)
    return Curve("linear", revenue / spend, 1.0, 0.0, len(points), top)


def fit(points: Sequence[tuple[float, float]]) -> Curve:
    xs = [float(x) for x, _ in points]
    ys = [float(y) for _, y in points]
    top = max(xs, default=0.0)
    if sum(1 for x in xs if x > 0) < 3 or len({x for x in xs if x > 0}) < 3:
        return linear(points)
    bs = grid(top)
    scores = [_sse(xs, ys, b)[0] for b in bs]
    i = min(range(len(bs)), key=lambda k: scores[k])
    lo, hi = math.log(bs[max(i - 1, 0)]), math.log(bs[min(i + 1, len(bs) - 1)])
    for _ in range(30):  # golden section on log b between the grid neighbours
        m1, m2 = hi - GOLDEN * (hi - lo), lo + GOLDEN * (hi - lo)
        if _sse(xs, ys, math.exp(m1))[0] <= _sse(xs, ys, math.exp(m2))[0]:
            hi = m2
        else:
            lo = m1
    b = math.exp((lo + hi) / 2)
    sse, c, a = _sse(xs, ys, b)
    mean = sum(ys) / len(ys)
    total = sum((y - mean) ** 2 for y in ys)
    r2 = None if total <= 0 else round(1 - sse / total, 4)
    return Curve("saturating", a, b, c, len(xs), top, r2)


def _draw_fit(
    idx: list[int],
    ys: Sequence[float],
    pre: list[tuple[float, list[float], list[float], list[float]]],
) -> tuple[float, float, float]:
    """(b, c, a) of one bootstrap draw, searched on the grid (``pre``: b, then per point
    f, f^2 and y f): the sums of the drawn points and the SSE in closed form,
    sum(y^2) - 2c sum(y) - 2a sum(yf) + n c^2 + 2ca sum(f) + a^2 sum(f^2)."""
    g = itemgetter(*idx)
    yd = g(ys)
    n = len(idx)
    sy = sum(yd)
    syy = sum(y * y for y in yd)
    best = (math.inf, 1.0, 0.0, 0.0)
    for b, f, ff, yf in pre:
        sf, sff, syf = sum(g(f)), sum(g(ff)), sum(g(yf))
        c, a = _solve(n, sf, sff, sy, syf)
        sse = syy - 2 * c * sy - 2 * a * syf + n * c * c + 2 * c * a * sf + a * a * sff
        if sse < best[0]:
            best = (sse, b, c, a)
    return best[1], best[2], best[3]


def bootstrap(
    points: Sequence[tuple[float, float]],
    spends: Sequence[float],
    curve: Curve,
    *,
    draws: int = DRAWS,
    seed: int = 20,
) -> list[list[float]]:
    """``draws`` rows of predicted revenue at each of ``spends``, from curves refitted to
    the periods drawn with replacement."""
    rng = random.Random(seed)
    xs = [float(x) for x, _ in points]
    ys = [float(y) for _, y in points]
    n = len(points)
    if n == 0:
        return [[0.0] * len(spends) for _ in range(draws)]
    pre: list[tuple[float, list[float], list[float], list[float]]] = []
    if curve.kind == "saturating":
        for b in grid(curve.max_spend):
            f = [1 - math.exp(-x / b) for x in xs]
            pre.append((b, f, [v * v for v in f], [y * v for y, v in zip(ys, f, strict=True)]))
    out = []
    for _ in range(draws):
        idx = [rng.randrange(n) for _ in range(n)]
        if n == 1:
            idx = idx * 2  # itemgetter of one index returns a bare value
        if pre and len({xs[i] for i in idx if xs[i] > 0}) >= 3:
            b, c, a = _draw_fit(idx, ys, pre)
            out.append([c + a * (1 - math.exp(-s / b)) for s in spends])
        else:
            spend = sum(xs[i] for i in idx)
            r = sum(ys[i] for i in idx) / spend if spend > 0 else 0.0
            out.append([r * s for s in spends])
    return out


def percentile(values: Sequence[float], q: float) -> float:
    """Linear interpolation between order statistics (``statistics.quantiles`` inclusive)."""
    vals = sorted(values)
    if not vals:
        return 0.0
    pos = (len(vals) - 1) * q
    lo = math.floor(pos)
    hi = min(lo + 1, len(vals) - 1)
    return vals[lo] + (vals[hi] - vals[lo]) * (pos - lo)


def allocate(
    curves: dict[str, Curve], total: float, caps: dict[str, float], steps: int = 400
) -> dict[str, float]:
    """Split ``total`` to maximise the summed revenue: each step of total/steps goes to the
    unit whose next step earns the most (optimal for concave curves), never beyond a unit's
    cap (twice its largest historical spend: the curves know nothing past their data)."""
    out = dict.fromkeys(curves, 0.0)
    if total <= 0 or not curves:
        return out
    step = total / steps
    heap = [(-(c.revenue(step) - c.revenue(0.0)), k) for k, c in curves.items() if caps[k] > 0]
    heapq.heapify(heap)
    left = total
    while heap and left > 1e-9:
        gain, k = heapq.heappop(heap)
        if gain >= 0:
            break  # nothing earns more: keep the rest unspent
        amount = min(step, left, caps[k] - out[k])
        out[k] += amount
        left -= amount
        if out[k] < caps[k] - 1e-9:
            c = curves[k]
            heapq.heappush(heap, (-(c.revenue(out[k] + step) - c.revenue(out[k])), k))
    return out
