"""Data-driven attribution (issue 20): the Markov removal effect, pure.

Known answers: a chain small enough to solve by hand; the one-inverse shortcut against
removing each creator and solving again; planted creator contributions recovered from
simulated paths within a stated tolerance; the fallback below the volume threshold.
"""

from __future__ import annotations

import random

import numpy as np
import pytest

from tracker.attribution import datadriven as dd
from tracker.attribution.credit import Credited, credits, split

AT = "2026-11-20T10:00:00.000000Z"


def counts_of(paths: list[tuple[list[str], bool, int]]) -> dd.Counts:
    counts: dd.Counts = {}
    for path, converted, n in paths:
        dd.add_path(counts, path, converted, n)
    return counts


def test_hand_computed_chain() -> None:
    # start -> A 1/2, start -> B 1/2; A -> conversion 1/5; B -> A 1/2, B -> null 1/2.
    # P = 1/2 * 1/5 + 1/2 * 1/2 * 1/5 = 0.15. Without A: 0 -> RE_A = 1.
    # Without B: 1/2 * 1/5 = 0.10 -> RE_B = 0.05 / 0.15 = 1/3. Shares 3/4 and 1/4.
    counts = counts_of(
        [
            (["A"], True, 10),
            (["A"], False, 40),
            (["B", "A"], True, 5),
            (["B", "A"], False, 20),
            (["B"], False, 25),
        ]
    )
    p, effects = dd.removal_effects(counts)
    assert p == pytest.approx(0.15)
    assert effects["A"] == pytest.approx(1.0)
    assert effects["B"] == pytest.approx(1 / 3)
    f = dd.fit(counts, 15, 85, threshold=10)
    assert f.used == "data_driven" and f.share() == pytest.approx({"A": 0.75, "B": 0.25})


def test_repeats_collapse_and_self_loops_change_nothing() -> None:
    assert dd.collapse(["A", "A", "B", "B", "A"]) == ["A", "B", "A"]
    one = counts_of([(["A", "B"], True, 3), (["B"], False, 5)])
    two = counts_of([(["A", "A", "B", "B"], True, 3), (["B", "B"], False, 5)])
    assert dd.removal_effects(one) == dd.removal_effects(two)


def _direct_without(counts: dd.Counts, k: str) -> float:
    """P(conversion) with k removed, solved from scratch (no shortcut)."""
    states = sorted(c for c in counts if c not in (dd.START, dd.CONVERSION, dd.NULL) and c != k)
    idx = {c: i for i, c in enumerate(states)}
    n = len(states)
    q, r = np.zeros((n, n)), np.zeros(n)
    for c, i in idx.items():
        row = {t: v for t, v in counts.get(c, {}).items() if t != c}
        total = sum(row.values())
        for t, v in row.items():
            if t == dd.CONVERSION:
                r[i] += v / total
            elif t in idx:
                q[i, idx[t]] += v / total
    start = counts[dd.START]
    s = np.array([start.get(c, 0) for c in states]) / sum(start.values())
    return float(s @ np.linalg.solve(np.eye(n) - q, r))


def test_shortcut_matches_removing_each_creator() -> None:
    rng = random.Random(7)
    names = [f"c{i}" for i in range(8)]
    paths = []
    for _ in range(600):
        path = [rng.choice(names) for _ in range(rng.randint(1, 4))]
        paths.append((path, rng.random() < 0.3, 1))
    counts = counts_of(paths)
    p, effects = dd.removal_effects(counts)
    for k in names:
        assert effects[k] == pytest.approx((p - _direct_without(counts, k)) / p, abs=1e-9)


#: The planted chain: where visitors start, where each creator sends them next.
PLANTED = {
    dd.START: {"star": 0.3, "steady": 0.3, "opener": 0.3, "dud": 0.1},
    "star": {dd.CONVERSION: 0.30, dd.NULL: 0.60, "steady": 0.10},
    "steady": {dd.CONVERSION: 0.10, dd.NULL: 0.85, "star": 0.05},
    "opener": {"star": 0.40, "steady": 0.20, dd.NULL: 0.40},  # converts only through others
    "dud": {dd.NULL: 1.0},  # never leads anywhere
}


def _walk(rng: random.Random) -> tuple[list[str], bool]:
    state, path = dd.START, []
    while True:
        targets = PLANTED[state]
        state = rng.choices(list(targets), weights=list(targets.values()))[0]
        if state in (dd.CONVERSION, dd.NULL):
            return path, state == dd.CONVERSION
        path.append(state)


def _planted_counts(scale: int) -> dd.Counts:
    """The planted chain itself as counts (probabilities x scale)."""
    return {a: {b: round(p * scale) for b, p in row.items()} for a, row in PLANTED.items()}


def test_planted_contributions_recovered_within_tolerance() -> None:
    """20,000 simulated visitors: each creator's normalised removal effect is within 0.03
    (absolute) of the planted chain's, and the dud gets nothing."""
    truth = dd.fit(_planted_counts(1_000_000), 10**6, 0, 1).share()
    rng = random.Random(20)
    counts: dd.Counts = {}
    conversions = 0
    for _ in range(20_000):
        path, converted = _walk(rng)
        dd.add_path(counts, path, converted)
        conversions += converted
    f = dd.fit(counts, conversions, 20_000 - conversions, threshold=300)
    assert f.used == "data_driven"
    got = f.share()
    for creator, expected in truth.items():
        assert got[creator] == pytest.approx(expected, abs=0.03), creator
    assert got["dud"] == 0.0
    assert got["star"] > got["steady"] > 0 and got["opener"] > 0.1  # it opens star's paths


def test_below_threshold_falls_back_to_position_and_says_so() -> None:
    counts = counts_of([(["A", "B", "C"], True, 5), (["B"], False, 50)])
    f = dd.fit(counts, 5, 50, threshold=300)
    assert f.used == "position" and f.weights is None
    assert "only 5 converting paths" in f.reason and "300" in f.reason
    touches = [Credited(c, f"2026-11-1{i}T00:00:00.000000Z") for i, c in enumerate("ABC")]
    assert credits(touches, "data_driven", AT, weights=f.weights) == credits(
        touches, "position", AT
    )


def test_order_credit_follows_removal_effects_and_sums_exactly() -> None:
    weights = {"A": 0.6, "B": 0.2, "C": 0.0}
    touches = [
        Credited("A", "2026-11-10T00:00:00.000000Z"),
        Credited("B", "2026-11-11T00:00:00.000000Z"),
        Credited("A", "2026-11-12T00:00:00.000000Z"),
        Credited("C", "2026-11-13T00:00:00.000000Z"),
    ]
    shares = credits(touches, "data_driven", AT, weights=weights)
    assert shares == pytest.approx([0.375, 0.25, 0.375, 0.0])
    for amount in (1, 999, 10_001, 123_457):
        assert sum(split(amount, shares)) == amount
    # an order whose creators all have no weight: position-based for that order
    none = [Credited("C", AT), Credited("Z", AT)]
    assert credits(none, "data_driven", AT, weights=weights) == [0.5, 0.5]
