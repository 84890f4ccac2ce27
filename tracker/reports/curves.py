"""Response curves for the budget forecast: revenue as a function of spend, with diminishing
returns, fitted from history; pure, vectorised with numpy (issue 20).

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
grid, predict), the 5th and 95th percentiles of the draws. Seeded (numpy's generator): the
same data gives the same interval.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

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


def _solve(
    n: float, sf: np.ndarray, sff: np.ndarray, sy: np.ndarray, syf: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Least squares of y = c + a f with c, a >= 0, element-wise over arrays of sums: the
    free solution where it is feasible, else the better of the two boundary fits."""
    det = n * sff - sf * sf
    ok = det > 1e-12 * np.maximum(1.0, n * sff)
    with np.errstate(divide="ignore", invalid="ignore"):
        a = (n * syf - sf * sy) / np.where(ok, det, 1.0)
        c = (sy - a * sf) / n
        a_only = np.where(sff > 0, np.maximum(syf / np.where(sff > 0, sff, 1.0), 0.0), 0.0)
    c_only = np.maximum(sy / n, 0.0)
    inner = ok & (a >= 0) & (c >= 0)
    sse_a = -2 * a_only * syf + a_only * a_only * sff
    sse_c = -2 * c_only * sy + n * c_only * c_only
    pick_a = sse_a <= sse_c
    c_out = np.where(inner, c, np.where(pick_a, 0.0, c_only))
    a_out = np.where(inner, a, np.where(pick_a, a_only, 0.0))
    return c_out, a_out


def _sse(xs: np.ndarray, ys: np.ndarray, bs: np.ndarray) -> tuple[np.ndarray, ...]:
    """(SSE, c, a) of each unit (rows of ``xs``/``ys``) at each of its ``bs`` (U x K)."""
    f = 1 - np.exp(-xs[:, None, :] / bs[:, :, None])  # U x K x n
    y = ys[:, None, :]
    n = xs.shape[1]
    c, a = _solve(n, f.sum(-1), (f * f).sum(-1), y.sum(-1), (y * f).sum(-1))
    sse = ((y - c[..., None] - a[..., None] * f) ** 2).sum(-1)
    return sse, c, a


def linear(points: Sequence[tuple[float, float]]) -> Curve:
    spend = sum(x for x, _ in points)
    revenue = sum(y for _, y in points)
    top = max((x for x, _ in points), default=0.0)
    if spend <= 0:
        return Curve("none", 0.0, 1.0, 0.0, len(points), top)
    return Curve("linear", revenue / spend, 1.0, 0.0, len(points), top)


def fit(points: Sequence[tuple[float, float]]) -> Curve:
    return fit_many([points])[0]


def _saturating(points: Sequence[tuple[float, float]]) -> bool:
    xs = [float(x) for x, _ in points]
    return sum(1 for x in xs if x > 0) >= 3 and len({x for x in xs if x > 0}) >= 3


def fit_many(sets: Sequence[Sequence[tuple[float, float]]]) -> list[Curve]:
    """``fit`` of every point set, the saturating ones searched together: units with as
    many points form one array, and the grid and the golden section run on all of them
    at once (numpy; 500 creators' curves in milliseconds, not half a second)."""
    out: list[Curve | None] = [None if _saturating(ps) else linear(ps) for ps in sets]
    by_len: dict[int, list[int]] = {}
    for i, ps in enumerate(sets):
        if out[i] is None:
            by_len.setdefault(len(ps), []).append(i)
    for members in by_len.values():
        xs = np.array([[float(x) for x, _ in sets[i]] for i in members])
        ys = np.array([[float(y) for _, y in sets[i]] for i in members])
        for i, curve in zip(members, _search(xs, ys), strict=True):
            out[i] = curve
    return [c for c in out if c is not None]


def _search(xs: np.ndarray, ys: np.ndarray) -> list[Curve]:
    """The log grid of b, then 30 golden-section steps between the best point's
    neighbours, for every row at once; c and a in closed form at each b."""
    top = xs.max(axis=1)
    bs = _grids(top)
    i = _sse(xs, ys, bs)[0].argmin(axis=1)
    rows = np.arange(len(xs))
    lo = np.log(bs[rows, np.maximum(i - 1, 0)])
    hi = np.log(bs[rows, np.minimum(i + 1, GRID - 1)])
    for _ in range(30):  # golden section on log b between the grid neighbours
        m1, m2 = hi - GOLDEN * (hi - lo), lo + GOLDEN * (hi - lo)
        sse = _sse(xs, ys, np.exp(np.stack([m1, m2], axis=1)))[0]
        left = sse[:, 0] <= sse[:, 1]
        hi, lo = np.where(left, m2, hi), np.where(left, lo, m1)
    b = np.exp((lo + hi) / 2)
    sse, c, a = (v[:, 0] for v in _sse(xs, ys, b[:, None]))
    total = ((ys - ys.mean(axis=1, keepdims=True)) ** 2).sum(axis=1)
    return [
        Curve(
            "saturating",
            float(a[k]),
            float(b[k]),
            float(c[k]),
            xs.shape[1],
            float(top[k]),
            None if total[k] <= 0 else round(1 - float(sse[k]) / float(total[k]), 4),
        )
        for k in range(len(xs))
    ]


def _grids(top: np.ndarray) -> np.ndarray:
    lo, hi = np.log(top * LOW), np.log(top * HIGH)
    return np.exp(lo[:, None] + (hi - lo)[:, None] * np.arange(GRID)[None, :] / (GRID - 1))


def bootstrap(
    points: Sequence[tuple[float, float]],
    spends: Sequence[float],
    curve: Curve,
    *,
    draws: int = DRAWS,
    seed: int = 20,
) -> list[list[float]]:
    """``draws`` rows of predicted revenue at each of ``spends``, from curves refitted (on
    the grid) to the periods drawn with replacement. All draws at once: each draw is a
    count per period, so its sums are one matrix product with the per-period terms."""
    n = len(points)
    if n == 0:
        return [[0.0] * len(spends) for _ in range(draws)]
    xs = np.array([float(x) for x, _ in points])
    ys = np.array([float(y) for _, y in points])
    idx = np.random.default_rng(seed).integers(0, n, size=(draws, n))
    flat = (np.arange(draws)[:, None] * n + idx).ravel()
    counts = np.bincount(flat, minlength=draws * n).reshape(draws, n).astype(float)
    s = np.array([float(v) for v in spends])
    # a draw with fewer than 3 distinct positive spends refits as linear (its pooled ROAS)
    values = np.unique(xs[xs > 0])
    seen = (counts @ (xs[:, None] == values[None, :]).astype(float)) > 0
    curved = (seen.sum(axis=1) >= 3) & (curve.kind == "saturating")
    spend, revenue = counts @ xs, counts @ ys
    with np.errstate(divide="ignore", invalid="ignore"):
        roas = np.where(spend > 0, revenue / np.where(spend > 0, spend, 1.0), 0.0)
    out = roas[:, None] * s[None, :]
    if curved.any():
        bs = _grids(np.array([curve.max_spend]))[0]  # G
        f = 1 - np.exp(-xs[None, :] / bs[:, None])  # G x n
        k = counts[curved]
        sf, sff, syf = k @ f.T, k @ (f * f).T, k @ (f * ys[None, :]).T  # draws x G
        sy, syy = (k @ ys)[:, None], (k @ (ys * ys))[:, None]
        c, a = _solve(n, sf, sff, sy, syf)
        sse = syy - 2 * c * sy - 2 * a * syf + n * c * c + 2 * c * a * sf + a * a * sff
        best = sse.argmin(axis=1)
        rows = np.arange(len(k))
        b, cb, ab = bs[best], c[rows, best], a[rows, best]
        out[curved] = cb[:, None] + ab[:, None] * (1 - np.exp(-s[None, :] / b[:, None]))
    return [[float(v) for v in row] for row in out.tolist()]


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
