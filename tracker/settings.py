"""Every setting, read from the environment in one place.

Each setting is declared once (name, parser, default, help) in ``SETTINGS``; the README's
settings table is checked against this list by a test. Start-up fails with one clear line
(``SettingsError``) on a bad value or on an unknown ``TRACKER_*`` name, because a typo such
as ``TRACKER_STORE_RAW_IPS=0`` must never silently fall back to a default that weakens
durability or privacy.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from tracker import guests
from tracker.core import setting_values as values
from tracker.core.errors import SettingsError

#: Names under TRACKER_ that belong to the test suite, never to a server.
TEST_PREFIX = "TRACKER_TEST_"


@dataclass(frozen=True)
class Setting:
    name: str
    parse: Callable[[str], Any]
    default: str | None
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "TRACKER_ENV",
        values.choice("development", "production"),
        "development",
        "development generates and keeps a secret key in the data dir; production "
        "requires TRACKER_SECRET_KEY and TRACKER_BASE_URL.",
    ),
    Setting(
        "TRACKER_DATA_DIR",
        values.text,
        "./data",
        "Directory for the SQLite file and the dev secret.",
    ),
    Setting(
        "TRACKER_DATABASE_URL",
        values.database_url,
        None,
        "sqlite:///path/to/file.db (default: DATA_DIR/tracker.db) or postgresql://...",
    ),
    Setting(
        "TRACKER_SECRET_KEY",
        values.text,
        None,
        "Keys fingerprints, customer hashes and admin sessions. At least 32 characters.",
    ),
    Setting(
        "TRACKER_BASE_URL",
        values.base_url,
        "http://127.0.0.1:8000",
        "Public URL of this server, used to print short links and postback URLs. Unset in "
        "development: the address `tracker serve` listens on (kept in DATA_DIR/served_url).",
    ),
    Setting(
        "TRACKER_CLICK_ID_PARAM",
        values.param_name,
        "cl_cid",
        "Query parameter that carries the click id to the shop.",
    ),
    Setting(
        "TRACKER_ALLOWED_HOSTS",
        values.hosts,
        "",
        "Comma-separated destination hosts (subdomains included). Empty: any public host.",
    ),
    Setting(
        "TRACKER_TRUSTED_PROXIES",
        values.networks,
        "",
        "CIDRs of load balancers whose X-Forwarded-For / Forwarded is believed.",
    ),
    Setting(
        "TRACKER_STORE_RAW_IP",
        values.boolean,
        "false",
        "Store the client IP with each click. Off: only a keyed fingerprint is kept.",
    ),
    Setting(
        "TRACKER_FINGERPRINT_IPV4_PREFIX",
        values.int_range(8, 32),
        "24",
        "IPv4 prefix length kept in the fingerprint.",
    ),
    Setting(
        "TRACKER_FINGERPRINT_IPV6_PREFIX",
        values.int_range(16, 128),
        "48",
        "IPv6 prefix length kept in the fingerprint.",
    ),
    Setting(
        "TRACKER_FLUSH_INTERVAL_MS",
        values.int_range(1, 1000),
        "30",
        "Click writer flushes at least this often (a click is durable within about this plus "
        "one commit).",
    ),
    Setting(
        "TRACKER_FLUSH_MAX_ROWS",
        values.int_range(1, 100000),
        "2000",
        "Click writer flushes as soon as this many clicks wait.",
    ),
    Setting(
        "TRACKER_CLICK_QUEUE_MAX",
        values.int_range(100, 10000000),
        "50000",
        "Clicks held in memory at most; beyond it a redirect waits for the writer.",
    ),
    Setting(
        "TRACKER_LINK_CACHE_SIZE",
        values.int_range(0, 10000000),
        "200000",
        "Links kept in the in-process cache.",
    ),
    Setting(
        "TRACKER_LINK_CACHE_TTL",
        values.int_range(0, 3600),
        "5",
        "Seconds a cached link is trusted; how long a change made on another node "
        "(or by the CLI) takes to reach this one.",
    ),
    Setting(
        "TRACKER_SQLITE_SYNCHRONOUS",
        values.choice("full", "normal"),
        "full",
        "SQLite synchronous level in WAL mode: full survives power loss, normal may "
        "lose the last commits on power loss (never on a process crash).",
    ),
    Setting(
        "TRACKER_SQLITE_CACHE_MIB",
        values.int_range(1, 4096),
        "64",
        "SQLite page cache per connection, in MiB (four connections: writer, reader, click "
        "writer, checkpointer); memory grows to at most four times this as the file is read.",
    ),
    Setting(
        "TRACKER_SQLITE_BUSY_TIMEOUT_MS",
        values.int_range(0, 600000),
        "5000",
        "How long SQLite waits for a lock before failing.",
    ),
    Setting(
        "TRACKER_PG_POOL_SIZE", values.int_range(1, 200), "10", "PostgreSQL connections per node."
    ),
    Setting(
        "TRACKER_MAX_BODY_BYTES",
        values.int_range(1024, 100_000_000),
        "1000000",
        "Largest request body accepted (413 beyond).",
    ),
    Setting(
        "TRACKER_SERVER",
        values.choice("uvicorn", "granian"),
        "granian",
        "HTTP server under the app (one worker per process): granian (Rust) or uvicorn. "
        "`tracker serve --server` overrides it. Both give every guarantee; see Serving.",
    ),
    Setting(
        "TRACKER_HEADER_TIMEOUT",
        values.int_range(1, 60),
        "5",
        "Seconds a client has to send a request's line and headers, counted from connecting "
        "or from the previous response (so also how long an idle kept-alive connection "
        "stays open); then it is disconnected.",
    ),
    Setting(
        "TRACKER_BODY_TIMEOUT",
        values.int_range(1, 600),
        "30",
        "Seconds a request body may take to arrive in full once its headers are in; 408 beyond.",
    ),
    Setting(
        "TRACKER_MAX_CONNECTIONS_PER_IP",
        values.int_range(0, 1_000_000),
        "256",
        "Connections one client address may hold open at once (uvicorn; requests in flight "
        "on granian); more are closed at once. Addresses in TRACKER_TRUSTED_PROXIES, "
        "127.0.0.1 and ::1 (a proxy on the same host) are exempt. 0: no cap.",
    ),
    Setting(
        "TRACKER_LOOKBACK_CLICK_DAYS",
        values.int_range(0, 365),
        "30",
        "A click id found on an order counts if the click is at most this old.",
    ),
    Setting(
        "TRACKER_LOOKBACK_FINGERPRINT_DAYS",
        values.int_range(0, 365),
        "7",
        "A fingerprint match counts if the click is at most this old.",
    ),
    Setting(
        "TRACKER_CONFLICT_POLICY",
        values.choice("code", "click"),
        "code",
        "Which signal wins when a code and a click point at different creators.",
    ),
    Setting(
        "TRACKER_FINGERPRINT_MIN_CONFIDENCE",
        values.float_range(0.0, 1.0),
        "0.3",
        "A fingerprint touch below this confidence (0..1) is shown but wins no credit.",
    ),
    Setting(
        "TRACKER_REMATCH_INTERVAL_SECONDS",
        values.int_range(0, 86_400),
        "60",
        "Every this many seconds, orders without a creator are matched again against clicks "
        "committed since (0: only on demand, `tracker rematch` or POST /api/v1/orders/rematch).",
    ),
    Setting(
        "TRACKER_LOG_LEVEL",
        values.choice("debug", "info", "warning", "error"),
        "info",
        "Log level.",
    ),
    # -- reliability: rate limits, retention (tracker/ratelimit.py, tracker/retention.py) --
    Setting(
        "TRACKER_API_RATE_PER_SEC",
        values.int_range(0, 1_000_000),
        "50",
        "Sustained API requests per second per client IP (0: no limit); 429 beyond.",
    ),
    Setting(
        "TRACKER_API_RATE_BURST",
        values.int_range(1, 1_000_000),
        "500",
        "API requests a client IP may make at once before the sustained rate applies.",
    ),
    Setting(
        "TRACKER_UNSEEN_AGENTS_PER_SEC",
        values.int_range(0, 1_000_000),
        "100",
        "Redirects with a user agent not seen recently, per second per client network (the "
        "fingerprint's /24 or /48; 0: no limit). Beyond it the 302 is delayed (at most 1 s, "
        "never refused, the click still recorded), so one client flooding unique agents "
        "cannot slow other shoppers down. Private and loopback clients (an unlisted proxy) "
        "are not limited.",
    ),
    Setting(
        "TRACKER_UNSEEN_AGENTS_BURST",
        values.int_range(1, 1_000_000),
        "500",
        "Unseen user agents a client network may send at once before that rate applies.",
    ),
    Setting(
        "TRACKER_RETENTION_FINGERPRINT_DAYS",
        values.int_range(0, 3650),
        "30",
        "Click fingerprints (and raw IPs) older than this are erased by `tracker purge` "
        "and the periodic retention job (0: keep forever). At least the fingerprint "
        "lookback.",
    ),
    Setting(
        "TRACKER_RETENTION_RAW_BODY_DAYS",
        values.int_range(0, 3650),
        "90",
        "Raw postback bodies (kept for audit) older than this are erased; the order and "
        "its attribution stay (0: keep forever).",
    ),
    Setting(
        "TRACKER_RETENTION_INTERVAL_MINUTES",
        values.int_range(0, 10080),
        "60",
        "How often a running server applies the retention rules (0: only `tracker purge`).",
    ),
    Setting(
        "TRACKER_POSTBACK_FAILURES_PER_MIN",
        values.int_range(0, 1_000_000),
        "60",
        "Rejected postbacks (bad signature, bad payload) a client IP may send per minute to "
        "one shop before its unsigned or badly signed ones get 429s (0: no limit). A "
        "delivery whose signature verifies is never limited.",
    ),
    Setting(
        "TRACKER_SECRET_GRACE_HOURS",
        values.int_range(0, 8760),
        "24",
        "After a shop's signing secret is rotated, the previous one still verifies for this "
        "many hours (time to update the shop's settings), then never again.",
    ),
    # -- reports (tracker/reports.py) --
    Setting(
        "TRACKER_ATTRIBUTION_MODEL",
        values.choice("last", "first", "linear", "position", "time_decay"),
        "last",
        "Default attribution model of reports (each report may pick another).",
    ),
    Setting(
        "TRACKER_HALF_LIFE_DAYS",
        values.int_range(1, 365),
        "7",
        "Half-life of the time_decay model, in days.",
    ),
    Setting(
        "TRACKER_REPORTING_CURRENCY",
        values.currency,
        "USD",
        "Currency every report is shown in.",
    ),
    Setting(
        "TRACKER_FX_RATES",
        values.rates,
        "",
        "Rates into the reporting currency, e.g. EUR=1.08,GBP=1.27. Orders and costs in a "
        "currency without a rate are left out of money totals and listed as unconverted.",
    ),
    Setting(
        "TRACKER_TIERS",
        values.tiers,
        "nano=0,micro=10000,mid=100000,macro=500000,mega=1000000",
        "Creator tiers by followers (minimum per tier); sources disagree, so set your own.",
    ),
    # -- events out, commissions, fraud flags (tracker/events/, commissions/, fraud/) --
    Setting(
        "TRACKER_WEBHOOK_TIMEOUT_SECONDS",
        values.int_range(1, 60),
        "10",
        "Deadline of one webhook delivery attempt (connect, send, answer); later: failed.",
    ),
    Setting(
        "TRACKER_WEBHOOK_RETRY_BASE_SECONDS",
        values.int_range(1, 3600),
        "30",
        "Wait before the first retry of a failed delivery; each later wait doubles.",
    ),
    Setting(
        "TRACKER_WEBHOOK_RETRY_MAX_SECONDS",
        values.int_range(1, 86400),
        "21600",
        "Longest wait between two attempts of a webhook delivery.",
    ),
    Setting(
        "TRACKER_WEBHOOK_MAX_ATTEMPTS",
        values.int_range(1, 100),
        "14",
        "Attempts per delivery before it is marked failed (defaults: about 26.5 h in all).",
    ),
    Setting(
        "TRACKER_WEBHOOK_DISABLE_AFTER",
        values.int_range(0, 100000),
        "50",
        "Failed attempts in a row that disable an endpoint (0: never); its events still queue.",
    ),
    Setting(
        "TRACKER_WEBHOOK_POLL_MS",
        values.int_range(10, 60000),
        "1000",
        "How often the delivery worker looks for due deliveries.",
    ),
    Setting(
        "TRACKER_WEBHOOK_ALLOW_PRIVATE",
        values.boolean,
        "false",
        "Allow endpoints on loopback, private and link-local addresses (off: refused).",
    ),
    Setting(
        "TRACKER_EVENT_RETENTION_DAYS",
        values.int_range(0, 3650),
        "30",
        "Events no endpoint waits for are erased after this many days (0: kept forever).",
    ),
    Setting(
        "TRACKER_COMMISSION_HOLD_DAYS",
        values.int_range(0, 365),
        "30",
        "Refund window: a commission stays pending this long after the order, then approved.",
    ),
    Setting(
        "TRACKER_COMMISSION_APPROVE_INTERVAL_MINUTES",
        values.int_range(0, 1440),
        "15",
        "How often a server approves due commissions (0: only `tracker commissions approve`).",
    ),
    Setting(
        "TRACKER_FRAUD_VELOCITY_ORDERS",
        values.int_range(0, 1000),
        "5",
        "Orders of one creator from one fingerprint or customer that raise a flag (0: off).",
    ),
    Setting(
        "TRACKER_FRAUD_VELOCITY_HOURS",
        values.int_range(1, 720),
        "24",
        "Window of the velocity flag, in hours either side of an order.",
    ),
    Setting(
        "TRACKER_FRAUD_DUPLICATE_DAYS",
        values.int_range(0, 365),
        "30",
        "A customer credited to other creators within this many days is flagged (0: off).",
    ),
    Setting(
        "TRACKER_GUESTS",
        guests.parse,
        "admin",
        "Modules that add pages and commands through the guest hook (tracker/guests.py), "
        "comma-separated; empty string: the default. 'admin' is the panel and creator pages.",
    ),
)

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
    rematch_interval_seconds: int
    log_level: str
    api_rate_per_sec: int
    api_rate_burst: int
    unseen_agents_per_sec: int
    unseen_agents_burst: int
    retention_fingerprint_days: int
    retention_raw_body_days: int
    retention_interval_minutes: int
    postback_failures_per_min: int
    secret_grace_hours: int
    attribution_model: str
    half_life_days: int
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
