"""Settings: one clear line for a bad, missing or misspelt setting; every setting documented."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tracker.core.errors import SettingsError
from tracker.settings import SETTINGS, Settings

ROOT = Path(__file__).resolve().parents[1]


def test_defaults(tmp_path: Path) -> None:
    s = Settings.from_env({"TRACKER_DATA_DIR": str(tmp_path)})
    assert s.database_url == f"sqlite:///{tmp_path / 'tracker.db'}"
    assert s.click_id_param == "cl_cid" and s.store_raw_ip is False
    assert s.sqlite_synchronous == "full"
    # a dev secret is generated once and kept
    assert (tmp_path / "secret_key").exists()
    assert Settings.from_env({"TRACKER_DATA_DIR": str(tmp_path)}).secret_key == s.secret_key


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"TRACKER_STORE_RAW_IPS": "0"}, "unknown setting TRACKER_STORE_RAW_IPS"),
        ({"TRACKER_STORE_RAW_IP": "maybe"}, "bad value for TRACKER_STORE_RAW_IP"),
        ({"TRACKER_FLUSH_INTERVAL_MS": "0"}, "bad value for TRACKER_FLUSH_INTERVAL_MS"),
        ({"TRACKER_DATABASE_URL": "mysql://x"}, "bad value for TRACKER_DATABASE_URL"),
        ({"TRACKER_TRUSTED_PROXIES": "10.0.0.0/33"}, "bad value for TRACKER_TRUSTED_PROXIES"),
        ({"TRACKER_SECRET_KEY": "short"}, "at least 32"),
        ({"TRACKER_ENV": "production"}, "required"),
        ({"TRACKER_SQLITE_SYNCHRONOUS": "off"}, "bad value"),
        ({"TRACKER_REPORTING_CURRENCY": "ZZZ"}, "ISO 4217 currency"),
        ({"TRACKER_FX_RATES": "EUR=1.1,E1R=2"}, "expected CODE=positive number"),
    ],
)
def test_bad_settings(tmp_path: Path, env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_env({"TRACKER_DATA_DIR": str(tmp_path), **env})


def test_fx_rates_take_any_code_a_shop_may_send(tmp_path: Path) -> None:
    """The reporting currency is chosen (ISO 4217's list); a rate is for whatever a shop's
    orders come in, listed or not, so it takes any three letters."""
    s = Settings.from_env(
        {
            "TRACKER_DATA_DIR": str(tmp_path),
            "TRACKER_REPORTING_CURRENCY": " eur ",
            "TRACKER_FX_RATES": "usd=0.9,CLF=40",
        }
    )
    assert s.reporting_currency == "EUR" and s.fx_rates == {"USD": 0.9, "CLF": 40.0}


def test_test_variables_are_ignored(tmp_path: Path) -> None:
    """TRACKER_TEST_* (the test suite's own knobs) pass the unknown-setting check and change
    nothing; any other unknown TRACKER_* name is still refused."""
    base = {"TRACKER_DATA_DIR": str(tmp_path), "TRACKER_SECRET_KEY": "k" * 40}
    plain = Settings.from_env(base)
    with_tests = Settings.from_env(
        {**base, "TRACKER_TEST_POSTGRES_URL": "x", "TRACKER_TEST_SOAK_SECONDS": "9"}
    )
    assert with_tests == plain
    with pytest.raises(SettingsError, match="unknown setting TRACKER_TESTS_POSTGRES_URL"):
        Settings.from_env({**base, "TRACKER_TESTS_POSTGRES_URL": "x"})


def test_server_refuses_to_start_with_one_clear_line(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "TRACKER_DATA_DIR": str(tmp_path), "TRACKER_FLUSH_MS": "5"}
    out = subprocess.run(
        [sys.executable, "-m", "tracker", "serve", "--port", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2
    assert out.stderr.strip() == "error: unknown setting TRACKER_FLUSH_MS (see README: Settings)"


def test_every_setting_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    documented = set(re.findall(r"`(TRACKER_[A-Z0-9_]+)`", readme))
    missing = [s.name for s in SETTINGS if s.name not in documented]
    assert not missing, f"README lacks: {missing}"
