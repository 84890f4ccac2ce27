"""``bench/insights.py`` must not rot (issue 20): a small run loads its data set and times
every analysis. No timing is asserted."""

from __future__ import annotations

import pytest

from bench import insights


def test_small_insights_bench_runs(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        insights.main(["--creators", "12", "--clicks", "3000", "--orders", "60", "--reps", "1"])
        == 0
    )
    out = capsys.readouterr().out
    assert "'creators': 12" in out and "'posts': 144" in out
    for name in (
        "engagement",
        "scores and advice",
        "posting times, per platform",
        "forecast by creator",
    ):
        assert name in out
