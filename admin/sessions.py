"""Session cookies, CSRF tokens and login throttling.

The cookie carries a random 256-bit session id and its HMAC (keyed from
``settings.secret_key``), so a forged or tampered cookie is rejected before any database
read. The database keeps only a SHA-256 of the id (``admin_sessions``), so logout, a
disabled user or a new password end a session at once, and a leaked table gives no usable
cookie. Visitors who are not logged in also get an id (never stored) so the login form has
a CSRF token too. The CSRF token is an HMAC of the session id: it needs no storage, changes
at login (the id is rotated), and cannot be computed without the server key.

Throttling (issue 15) counts login attempts in the database (all nodes see them) per
(account, client address), both kept as keyed hashes, and per address over every account.
An attempt is counted *before* the password is checked, atomically (``count_login_attempt``),
so 30 guesses sent at once cannot all be checked; a success takes its attempt back. After
``FREE_PER_ACCOUNT`` attempts a pair waits 1 minute, then 2, 4, 8, then 15 minutes each
(exponential back-off); the count starts again after a day without attempts. The owner is
never locked out from every address: failures from one address never block another.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from tracker.core import clock
from tracker.core.errors import TooManyRequests
from tracker.settings import Settings
from tracker.state import AppState
from tracker.store import Store

COOKIE = "cl_admin"
SESSION_HOURS = 12
#: Attempts a (account, address) pair may make before the back-off starts.
FREE_PER_ACCOUNT = 5
#: Attempts one address may make over all accounts (password spraying) before its back-off.
FREE_PER_IP = 20
BACKOFF_BASE_SECONDS = 60
BACKOFF_CAP_SECONDS = 15 * 60
#: A pair's count starts again after this long without attempts.
RESET_HOURS = 24
ANY_ACCOUNT = "*"
MAX_FAILURES_PER_ACCOUNT = FREE_PER_ACCOUNT  # the names tests and docs used before
MAX_FAILURES_PER_IP = FREE_PER_IP


def backoff_seconds(failures: int, free: int) -> int:
    """0 while ``failures < free``; then 60, 120, 240... seconds, capped at 15 minutes."""
    if failures < free:
        return 0
    return int(min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** min(failures - free, 20)))


def _key(secret: str, purpose: str) -> bytes:
    return hmac.new(
        secret.encode(), f"creatorlink admin {purpose}".encode(), hashlib.sha256
    ).digest()


def _mac(key: bytes, text: str) -> str:
    raw = hmac.new(key, text.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def hash_session_id(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


@dataclass
class Session:
    """What a request knows about its visitor."""

    sid: str
    user: dict[str, Any] | None = None
    issue_cookie: bool = False  # a new id to send back with the response
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def is_admin(self) -> bool:
        return bool(self.user and self.user["role"] == "admin")


class Sessions:
    def __init__(self, settings: Settings, state: AppState) -> None:
        self._state = state
        self.secure = settings.base_url.startswith("https://")
        self._cookie_key = _key(settings.secret_key, "session cookie")
        self._csrf_key = _key(settings.secret_key, "csrf")
        self._ip_key = _key(settings.secret_key, "login ip")

    @property
    def store(self) -> Store:
        """The store exists once the app's lifespan has started."""
        return self._state.store

    # -- cookies ----------------------------------------------------------------------------
    def cookie_value(self, sid: str) -> str:
        return f"{sid}.{_mac(self._cookie_key, sid)}"

    def read_cookie(self, value: str | None) -> str | None:
        if not value or value.count(".") != 1:
            return None
        sid, sig = value.split(".")
        if len(sid) < 40 or not hmac.compare_digest(sig, _mac(self._cookie_key, sid)):
            return None
        return sid

    def cookie_options(self, *, logged_in: bool) -> dict[str, Any]:
        return {
            "key": COOKIE,
            "path": "/admin",
            "httponly": True,
            "samesite": "lax",
            "secure": self.secure,
            "max_age": SESSION_HOURS * 3600 if logged_in else None,
        }

    async def load(self, cookie: str | None) -> Session:
        sid = self.read_cookie(cookie)
        if sid is None:
            return Session(sid=secrets.token_urlsafe(32), issue_cookie=True)
        user = await self.store.admin_session_user(hash_session_id(sid))
        return Session(sid=sid, user=user)

    async def login(self, session: Session, user: dict[str, Any]) -> None:
        """Rotate the id (no session fixation) and record it."""
        session.sid = secrets.token_urlsafe(32)
        session.user = user
        session.issue_cookie = True
        expires = datetime.now(UTC) + timedelta(hours=SESSION_HOURS)
        await self.store.create_admin_session(
            hash_session_id(session.sid), user["id"], clock.to_iso(expires)
        )

    async def logout(self, session: Session) -> None:
        await self.store.delete_admin_session(hash_session_id(session.sid))
        session.sid = secrets.token_urlsafe(32)
        session.user = None
        session.issue_cookie = True

    # -- CSRF -------------------------------------------------------------------------------
    def csrf_token(self, session: Session) -> str:
        return _mac(self._csrf_key, session.sid)

    def csrf_ok(self, session: Session, token: str | None) -> bool:
        return (
            bool(token)
            and not session.issue_cookie
            and hmac.compare_digest(str(token), self.csrf_token(session))
        )

    # -- throttling -------------------------------------------------------------------------
    def ip_key(self, ip: str) -> str:
        return _mac(self._ip_key, ip)[:32]

    def account_key(self, email_key: str) -> str:
        return _mac(self._ip_key, "account:" + email_key.strip().lower())[:32]

    async def begin_attempt(self, email_key: str, ip: str) -> None:
        """Count this attempt (before the password is checked); raise TooManyRequests
        (with Retry-After) while the pair or the address is backing off."""
        now = datetime.now(UTC)
        ip_key = self.ip_key(ip)

        def block_until(account: str, failures: int) -> str:
            free = FREE_PER_IP if account == ANY_ACCOUNT else FREE_PER_ACCOUNT
            wait = backoff_seconds(failures, free)
            return clock.to_iso(now + timedelta(seconds=wait)) if wait else ""

        until = await self.store.count_login_attempt(
            [(self.account_key(email_key), ip_key), (ANY_ACCOUNT, ip_key)],
            now=clock.to_iso(now),
            stale_before=clock.to_iso(now - timedelta(hours=RESET_HOURS)),
            block_until=block_until,
        )
        if until:
            wait = (clock.parse(until) - now).total_seconds()
            raise TooManyRequests(
                "too many failed logins from this address; try again later",
                retry_after=max(1, int(wait) + 1),
            )

    async def record_success(self, email_key: str, ip: str) -> None:
        prune = datetime.now(UTC) - timedelta(hours=RESET_HOURS)
        await self.store.clear_login_attempt(
            self.account_key(email_key),
            self.ip_key(ip),
            any_account=ANY_ACCOUNT,
            prune_before=clock.to_iso(prune),
        )
