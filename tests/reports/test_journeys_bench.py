"""bench/journeys.py must not rot: a tiny run completes and reports every figure (no
timing is asserted; the figures belong to the README, with the machine's load)."""

from __future__ import annotations

import pytest

from bench import journeys as insights


def test_tiny_insights_bench_runs(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--creators", "12", "--clicks", "3000", "--visitors", "600", "--orders", "80"]
    assert insights.main([*args, "--reps", "1"]) == 0
    out = capsys.readouterr().out
    for figure in ("baseline", "data_driven", "fit alone", "exposure", "survey", "collab"):
        assert figure in out
    assert "converting" in out and "ratio to the baseline" in out
