"""Every setting, read from the environment in one place.

Each setting is declared once (name, parser, default, help) in ``SETTINGS``
(``tracker/setting_table.py``); the README's
settings table is checked against this list by a test. Start-up fails with one clear line
(``SettingsError``) on a bad value or on an unknown ``TRACKER_*`` name, because a typo such
as ``TRACKER_STORE_RAW_IPS=0`` must never silently fall back to a default that weakens
durability or privacy.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from tracker.core import setting_values as values
from tracker.core.errors import SettingsError
from tracker.setting_table import SETTINGS

#: Names under TRACKER_ that belong to the test suite, never to a server.
TEST_PREFIX = "TRACKER_TEST_"

_BY_NAME = {s.name: s for s in SETTINGS}


@dataclass(frozen=True)
class Settings:
    env: str
    data_dir: Path
    database_url: str
    secret_key: str
    base_url: str
    click_id_param: str
    allowed_hosts: tuple[str, ...]
    trusted_proxies: tuple[Any, ...]
    country_headers: tuple[str, ...]
    geoip_database: str
    country_builtin: bool
    store_raw_ip: bool
    fingerprint_ipv4_prefix: int
    fingerprint_ipv6_prefix: int
    flush_interval_ms: int
    flush_max_rows: int
    click_queue_max: int
    link_cache_size: int
    link_cache_ttl: int
    sqlite_synchronous: str
    sqlite_busy_timeout_ms: int
    sqlite_cache_mib: int
    pg_pool_size: int
    max_body_bytes: int
    server: str
    header_timeout: int
    body_timeout: int
    max_connections_per_ip: int
    lookback_click_days: int
    lookback_fingerprint_days: int
    conflict_policy: str
    fingerprint_min_confidence: float
    overlap_exact_visitors: int
    rematch_interval_seconds: int
    log_level: str
    api_rate_per_sec: int
    api_rate_burst: int
    unseen_agents_per_sec: int
    unseen_agents_burst: int
    retention_fingerprint_days: int
    retention_raw_body_days: int
    retention_click_days: int
    retention_interval_minutes: int
    postback_failures_per_min: int
    secret_grace_hours: int
    attribution_model: str
    half_life_days: int
    data_driven_min_conversions: int
    survey_min_score: int
    survey_credit: str
    reporting_currency: str
    fx_rates: dict[str, float]
    tiers: tuple[tuple[str, int], ...]
    webhook_timeout_seconds: float
    webhook_retry_base_seconds: float
    webhook_retry_max_seconds: float
    webhook_max_attempts: int
    webhook_disable_after: int
    webhook_poll_ms: int
    webhook_allow_private: bool
    event_retention_days: int
    commission_hold_days: int
    commission_approve_interval_minutes: int
    fraud_velocity_orders: int
    fraud_velocity_hours: int
    fraud_duplicate_days: int
    fraud_far_days: int
    fraud_far_mode: str
    guests: tuple[str, ...]
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Read, validate and complete the settings; raise SettingsError with one clear line."""
        env = dict(os.environ if environ is None else environ)
        unknown = sorted(
            k
            for k in env
            if k.startswith("TRACKER_") and k not in _BY_NAME and not k.startswith(TEST_PREFIX)
        )
        if unknown:
            raise SettingsError(f"unknown setting {unknown[0]} (see README: Settings)")
        values: dict[str, Any] = {}
        for s in SETTINGS:
            raw = env.get(s.name)
            key = s.name.removeprefix("TRACKER_").lower()
            if raw is None or raw == "":
                values[key] = None if s.default is None else s.parse(s.default)
                continue
            try:
                values[key] = s.parse(raw)
            except ValueError as exc:
                raise SettingsError(f"bad value for {s.name}: {exc}") from None
        values.update(overrides)
        data_dir = Path(values["data_dir"])
        values["data_dir"] = data_dir
        if values["database_url"] is None:
            values["database_url"] = f"sqlite:///{data_dir / 'tracker.db'}"
        production = values["env"] == "production"
        if production and not env.get("TRACKER_BASE_URL") and "base_url" not in overrides:
            raise SettingsError("TRACKER_BASE_URL is required when TRACKER_ENV=production")
        if not production and not env.get("TRACKER_BASE_URL") and "base_url" not in overrides:
            values["base_url"] = served_url(data_dir) or values["base_url"]
        if values["secret_key"] is None:
            if production:
                raise SettingsError("TRACKER_SECRET_KEY is required when TRACKER_ENV=production")
            values["secret_key"] = _dev_secret(data_dir)
        keep = values["retention_fingerprint_days"]
        if keep and keep < values["lookback_fingerprint_days"]:
            raise SettingsError(
                "TRACKER_RETENTION_FINGERPRINT_DAYS must be 0 or at least "
                "TRACKER_LOOKBACK_FINGERPRINT_DAYS (fingerprints are needed "
                "for that long)"
            )
        clicks = values["retention_click_days"]
        if clicks and clicks < max(values["lookback_click_days"], keep or 0):
            raise SettingsError(
                "TRACKER_RETENTION_CLICK_DAYS must be 0 or at least the click lookback and "
                "TRACKER_RETENTION_FINGERPRINT_DAYS (attribution reads those clicks)"
            )
        if len(values["secret_key"]) < 32:
            raise SettingsError("TRACKER_SECRET_KEY must be at least 32 characters")
        return cls(**values)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite:")

    @property
    def sqlite_path(self) -> Path:
        return Path(self.database_url.removeprefix("sqlite:///"))


SERVED_URL_FILE = "served_url"


def url_for_address(host: str, port: int) -> str:
    """The URL a browser on this machine reaches ``tracker serve --host H --port P`` at
    (a wildcard address is reached through the loopback one)."""
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"
    elif host == "::":
        host = "[::1]"
    elif ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}"


def served_url(data_dir: Path) -> str | None:
    """The address the last development server of this data directory listened on, so the
    CLI prints the same short links as the running server (None if never served)."""
    try:
        return values.base_url((data_dir / SERVED_URL_FILE).read_text())
    except (OSError, ValueError):
        return None


def with_served_address(settings: Settings, host: str, port: int) -> Settings:
    """In development without TRACKER_BASE_URL, printed URLs follow the address actually
    served (``PORT=8611 make run`` prints :8611), and the CLI learns it from DATA_DIR."""
    if settings.env == "production" or os.environ.get("TRACKER_BASE_URL"):
        return settings
    url = url_for_address(host, port)
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        (settings.data_dir / SERVED_URL_FILE).write_text(url + "\n")
    except OSError:
        pass  # a read-only data dir: the server still prints the right URLs
    return replace(settings, base_url=url)


def _dev_secret(data_dir: Path) -> str:
    """A development secret, generated once and kept, so fingerprints stay stable across runs."""
    path = data_dir / "secret_key"
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        if path.exists():
            return path.read_text().strip()
        key = secrets.token_urlsafe(48)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(key + "\n")
        return key
    except FileExistsError:
        return path.read_text().strip()
    except OSError as exc:
        raise SettingsError(f"cannot keep a secret key in {data_dir}: {exc}") from None
