"""Report parameters: a bad one is a 400 naming the parameter and what to type, never a
Python message ("Invalid isoformat string", "month must be in 1..12" alone)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import Running, make_settings
from tracker.core.errors import BadRequest
from tracker.reports.params import params_from


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"start": "2026-13-01"}, "start: expected a date as YYYY-MM-DD, got '2026-13-01'"),
        ({"end": "x"}, "end: expected a date as YYYY-MM-DD, got 'x'"),
        ({"start": "01/11/2026"}, "start: expected a date as YYYY-MM-DD, got '01/11/2026'"),
        ({"click_days": "7d"}, "click_days: expected a whole number of days, got '7d'"),
        ({"fingerprint_days": "1.5"}, "fingerprint_days: expected a whole number of days"),
        ({"half_life_days": "week"}, "half_life_days: expected a number of days, got 'week'"),
        # the last stored day cannot end a report (its end is the next midnight): the message
        # said "must be between 1970-01-01 and 9999-12-31, got '9999-12-31'" (hostile pass)
        ({"end": "9999-12-31"}, "end: must be between 1970-01-01 and 9999-12-30 (UTC)"),
        ({"start": "1969-12-31"}, "start: must be between 1970-01-01 and 9999-12-30 (UTC)"),
    ],
)
def test_a_bad_parameter_is_named(tmp_path: Path, query: dict[str, str], message: str) -> None:
    settings = make_settings(tmp_path, f"sqlite:///{tmp_path}/t.db")
    with pytest.raises(BadRequest) as exc:
        params_from(query, settings)
    assert exc.value.reason.startswith(message), exc.value.reason


def test_good_parameters_and_defaults(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, f"sqlite:///{tmp_path}/t.db")
    p = params_from({"start": " 2026-11-02 ", "end": "2026-12-01", "click_days": "14"}, settings)
    assert (p.start.isoformat(), p.end.isoformat(), p.click_days) == (
        "2026-11-02",
        "2026-12-01",
        14,
    )
    assert p.fingerprint_days == settings.lookback_fingerprint_days
    assert (p.end - p.start).days == 29


@pytest.mark.anyio
async def test_api_and_panel_say_which_parameter(live: Running, auth: dict[str, str]) -> None:
    r = await live.client.get("/api/v1/reports/creator?start=2026-02-30", headers=auth)
    assert r.status_code == 400
    assert r.json()["detail"] == "start: expected a date as YYYY-MM-DD, got '2026-02-30'"
    r = await live.client.get("/api/v1/commissions/statement?start=bad", headers=auth)
    assert r.status_code == 400 and "within between" not in r.json()["detail"]
    assert r.json()["detail"].startswith("start: expected YYYY-MM-DD between 1970-01-01")
