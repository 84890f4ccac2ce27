"""Reliability suite plumbing: measured figures, printed at the end of every run.

Tests call ``figures(name, value)``; the values are printed in a "reliability figures"
section of pytest's summary (visible in ``make test`` without ``-s``) and written to
``tests/artifacts/reliability.json`` for docs/guarantees.md.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
_FIGURES: dict[str, Any] = {}


@pytest.fixture
def figures(request: pytest.FixtureRequest) -> Callable[[str, Any], None]:
    test = request.node.name

    def record(name: str, value: Any) -> None:
        _FIGURES[f"{test}: {name}"] = value
        print(f"{test}: {name} = {value}")

    return record


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _FIGURES:
        return
    terminalreporter.section("reliability figures")
    for key, value in _FIGURES.items():
        terminalreporter.write_line(f"{key} = {value}")
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "reliability.json").write_text(json.dumps(_FIGURES, indent=2, default=str))
