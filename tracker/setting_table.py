"""The table of settings: each declared once, with its parser, default and help.

``tracker/settings.py`` reads them; the README's settings table is generated from this list
(``tracker settings``) and checked against it by a test. Add a setting here, its field to
``Settings``, and its row to the README.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tracker import guests
from tracker.core import setting_values as values


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
        "TRACKER_COUNTRY_HEADERS",
        values.header_names,
        "CF-IPCountry,CloudFront-Viewer-Country,X-Vercel-IP-Country",
        "CDN headers that carry the visitor's country, first found wins; read only from "
        "TRACKER_TRUSTED_PROXIES. `none`: never read.",
    ),
    Setting(
        "TRACKER_GEOIP_DATABASE",
        values.text,
        "",
        "Path to a MaxMind-format country file (GeoLite2-Country, DB-IP lite .mmdb), asked "
        "before the built-in data. Empty: none.",
    ),
    Setting(
        "TRACKER_COUNTRY_BUILTIN",
        values.boolean,
        "true",
        "Country from the IP-to-country data installed with the package (iptocc: the "
        "Regional Internet Registries' delegations) when no header or file answers.",
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
        "TRACKER_OVERLAP_EXACT_VISITORS",
        values.int_range(1, 1_000_000_000),
        "100000",
        "The audience overlap counts every visitor of the top creators while their day "
        "visitor sets hold at most this many rows (a visitor once per day and link) in the "
        "range; above it, a consistent hash sample of visitors, scaled up (README: "
        "Audience overlap).",
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
        "TRACKER_RETENTION_CLICK_DAYS",
        values.int_range(0, 36500),
        "0",
        "Raw click rows older than this many days (whole UTC days) are deleted; the daily "
        "roll-ups keep their counts, so reports and charts still cover those days (0: keep "
        "forever). PostgreSQL drops whole month partitions. At least the click and "
        "fingerprint lookbacks.",
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
        values.choice("last", "first", "linear", "position", "time_decay", "data_driven"),
        "last",
        "Default attribution model of reports (each report may pick another).",
    ),
    Setting(
        "TRACKER_DATA_DRIVEN_MIN_CONVERSIONS",
        values.int_range(1, 1_000_000),
        "300",
        "Converting paths a report's range needs before data_driven credit is trusted; "
        "below it the report says so and uses position-based credit.",
    ),
    Setting(
        "TRACKER_SURVEY_MIN_SCORE",
        values.int_range(50, 100),
        "85",
        "How close (0-100, rapidfuzz) a survey answer must be to a creator's handle or "
        "name to count as naming that creator.",
    ),
    Setting(
        "TRACKER_SURVEY_CREDIT",
        values.choice("off", "unattributed"),
        "off",
        "off: survey answers are only reported (the halo); unattributed: an order no "
        "link, code or fingerprint explains is credited to the creator its survey names.",
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
        "TRACKER_FRAUD_FAR_DAYS",
        values.int_range(0, 365),
        "30",
        "A code redemption whose shopper clicked none of the creator's links within this many "
        "days before is far from the creator's clicks (0: the flag is off).",
    ),
    Setting(
        "TRACKER_FRAUD_FAR_MODE",
        values.choice("signal", "all"),
        "signal",
        "signal: flag a far redemption only with a second sign (a coupon-site referrer, or "
        "clicks on other creators' links); all: flag every far redemption.",
    ),
    Setting(
        "TRACKER_GUESTS",
        guests.parse,
        "admin",
        "Modules that add pages and commands through the guest hook (tracker/guests.py), "
        "comma-separated; empty string: the default. 'admin' is the panel and creator pages.",
    ),
)


def markdown_table() -> str:
    """Every setting as the README's markdown table (``tracker settings``)."""
    lines = ["| Setting | Default | What it does |", "|---|---|---|"]
    for s in SETTINGS:
        default = "(none)" if s.default is None else f"`{s.default}`" if s.default else "(empty)"
        lines.append(f"| `{s.name}` | {default} | {s.help} |")
    return "\n".join(lines)
