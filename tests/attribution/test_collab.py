"""Collaborations (issue 20): credit split by basis points, exactly to the minor unit."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracker.attribution.collab import Collabs, check_shares, expand, split_bp


def test_split_by_hand() -> None:
    assert split_bp(10_001, [6000, 4000]) == [6001, 4000]
    assert split_bp(1, [3334, 3333, 3333]) == [1, 0, 0]
    assert split_bp(100, [3334, 3333, 3333]) == [34, 33, 33]
    assert split_bp(-10_001, [6000, 4000]) == [-6001, -4000]  # a refund splits the same way
    assert split_bp(0, [5000, 5000]) == [0, 0]


@given(
    st.integers(min_value=-(10**15), max_value=10**15),
    st.lists(st.integers(min_value=1, max_value=9_999), min_size=1, max_size=8),
)
def test_split_sums_exactly_and_stays_within_one_unit(amount: int, raw: list[int]) -> None:
    total = sum(raw)
    parts = split_bp(amount, raw)
    assert sum(parts) == amount
    for part, bp in zip(parts, raw, strict=True):
        assert abs(part - amount * bp / total) < 1 + 1e-6 * abs(amount) / 10**9


@pytest.mark.parametrize(
    ("shares", "why"),
    [
        ([("a", 10_000)], "at least two"),
        ([("a", 5000), ("a", 5000)], "once"),
        ([("a", 6000), ("b", 3000)], "not 9000"),
        ([("a", 0), ("b", 10_000)], "1..10000"),
    ],
)
def test_bad_shares_say_why(shares: list[tuple[str, int]], why: str) -> None:
    assert why in (check_shares(shares) or "")


def test_good_shares() -> None:
    assert check_shares([("a", 5000), ("b", 2500), ("c", 2500)]) is None


@dataclass(frozen=True)
class C:
    creator_id: str
    share: float
    revenue: int
    method: str
    link_id: str | None
    code: str | None
    collab_id: str | None = None


def test_expand_splits_collab_touches_only() -> None:
    collabs = Collabs.of_rows(
        [
            {
                "id": "co1",
                "name": "Duo",
                "link_id": "ln1",
                "code_key": "duo10",
                "shares": [
                    {"creator_id": "maya", "share_bp": 7000},
                    {"creator_id": "bob", "share_bp": 3000},
                ],
            }
        ]
    )
    credits = [
        C("maya", 0.5, 5_001, "click", "ln1", None),
        C("maya", 0.25, 2_500, "code", None, "DUO10"),
        C("eve", 0.25, 2_500, "click", "ln2", None),
    ]
    out = expand(credits, collabs)
    assert [(c.creator_id, c.revenue, c.collab_id) for c in out] == [
        ("maya", 3_501, "co1"),
        ("bob", 1_500, "co1"),
        ("maya", 1_750, "co1"),
        ("bob", 750, "co1"),
        ("eve", 2_500, None),
    ]
    assert sum(c.revenue for c in out) == 10_001
    assert sum(c.share for c in out) == pytest.approx(1.0)


def test_cli_share_percentages() -> None:
    from tracker.core.errors import Unprocessable
    from tracker.reports.commands import share_bp

    assert share_bp("@maya=33.34") == ("@maya", 3334) and share_bp("bob=60%") == ("bob", 6000)
    for bad in ("maya=60.005", "maya", "=50", "maya=lots"):
        with pytest.raises(Unprocessable):
            share_bp(bad)
