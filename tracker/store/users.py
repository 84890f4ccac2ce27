"""Admin panel users, their sessions and failed logins.

Passwords arrive here already hashed (``admin/passwords.py``) and session ids already
hashed (``admin/sessions.py``): this module never sees a secret it could leak.
"""

from __future__ import annotations

from collections.abc import Callable

from tracker.core import clock, ids
from tracker.core.errors import NotFound
from tracker.store.base import StoreBase
from tracker.store.engine import Row

ROLES = ("admin", "viewer")
_USER_COLS = "id, email, role, status, created_at, updated_at, last_login_at"


class UserQueries(StoreBase):
    # -- users ------------------------------------------------------------------------------
    async def create_admin_user(self, email: str, role: str, password_hash: str) -> Row:
        now = clock.now_iso()
        row = {
            "id": ids.new_id("us"),
            "email": email.strip(),
            "email_key": email.strip().lower(),
            "role": role,
            "password_hash": password_hash,
            "status": "active",
            "created_at": now,
            "updated_at": now,
        }
        await self._insert("admin_users", row, f"user {email!r}")
        return await self.get_admin_user(row["id"])

    async def get_admin_user(self, ref: str) -> Row:
        """By id or e-mail (case-insensitive); without the password hash."""
        row = await self.db.fetch_one(
            f"SELECT {_USER_COLS} FROM admin_users WHERE id = ? OR email_key = ?",
            (ref, ref.strip().lower()),
        )
        if row is None:
            raise NotFound(f"no such user {ref!r}")
        return row

    async def admin_credentials(self, email: str) -> Row | None:
        """The active user with this e-mail, password hash included (login only)."""
        return await self.db.fetch_one(
            f"SELECT {_USER_COLS}, password_hash FROM admin_users "
            "WHERE email_key = ? AND status = 'active'",
            (email.strip().lower(),),
        )

    async def list_admin_users(self) -> list[Row]:
        return await self.db.fetch_all(f"SELECT {_USER_COLS} FROM admin_users ORDER BY email_key")

    async def update_admin_user(self, ref: str, fields: dict[str, str]) -> Row:
        """Change role, status or password hash; a status or password change ends sessions."""
        user = await self.get_admin_user(ref)
        await self._update("admin_users", user["id"], fields, "user")
        if "password_hash" in fields or fields.get("status") == "disabled":
            await self.db.execute("DELETE FROM admin_sessions WHERE user_id = ?", (user["id"],))
        return await self.get_admin_user(user["id"])

    # -- sessions ---------------------------------------------------------------------------
    async def create_admin_session(self, id_hash: str, user_id: str, expires_at: str) -> None:
        now = clock.now_iso()
        async with self.db.transaction() as tx:
            await tx.execute("DELETE FROM admin_sessions WHERE expires_at < ?", (now,))
            await tx.execute(
                "UPDATE admin_users SET last_login_at = ? WHERE id = ?", (now, user_id)
            )
            await self._insert(
                "admin_sessions",
                {
                    "id_hash": id_hash,
                    "user_id": user_id,
                    "created_at": now,
                    "expires_at": expires_at,
                },
                "session",
                conn=tx,
            )

    async def admin_session_user(self, id_hash: str) -> Row | None:
        """The active user owning an unexpired session, or None."""
        return await self.db.fetch_one(
            "SELECT u.id, u.email, u.role, s.expires_at FROM admin_sessions s "
            "JOIN admin_users u ON u.id = s.user_id "
            "WHERE s.id_hash = ? AND s.expires_at > ? AND u.status = 'active'",
            (id_hash, clock.now_iso()),
        )

    async def delete_admin_session(self, id_hash: str) -> None:
        await self.db.execute("DELETE FROM admin_sessions WHERE id_hash = ?", (id_hash,))

    # -- throttling ------------------------------------------------------------------------
    async def count_login_attempt(
        self,
        pairs: list[tuple[str, str]],
        *,
        now: str,
        stale_before: str,
        block_until: Callable[[str, int], str],
    ) -> str | None:
        """Count one login attempt against each (account_key, ip_key) pair *before* the
        password is checked, in one write transaction. Returns None (go ahead) or the
        latest ``blocked_until`` among the pairs (then nothing is counted: the transaction
        rolls back). ``block_until(key, failures)`` says until when a pair is blocked after
        ``failures`` attempts ('' for not at all). The upsert locks each row until commit
        (PostgreSQL) and writers are serial (SQLite), so concurrent attempts are counted
        one after the other and cannot all pass a check made before any was recorded."""

        class _Blocked(Exception):
            pass

        blocked: list[str] = []
        try:
            async with self.db.transaction() as tx:
                for account_key, ip_key in pairs:
                    row = await tx.fetch_one(
                        "INSERT INTO admin_login_throttle "
                        "(account_key, ip_key, failures, blocked_until, updated_at) "
                        "VALUES (?, ?, 1, '', ?) ON CONFLICT (account_key, ip_key) DO UPDATE "
                        "SET failures = CASE WHEN admin_login_throttle.updated_at < ? THEN 1 "
                        "ELSE admin_login_throttle.failures + 1 END, updated_at = ? "
                        "RETURNING failures, blocked_until",
                        (account_key, ip_key, now, stale_before, now),
                    )
                    assert row is not None
                    if row["blocked_until"] and row["blocked_until"] > now:
                        blocked.append(row["blocked_until"])
                        continue
                    until = block_until(account_key, int(row["failures"]))
                    if until:
                        await tx.execute(
                            "UPDATE admin_login_throttle SET blocked_until = ? "
                            "WHERE account_key = ? AND ip_key = ?",
                            (until, account_key, ip_key),
                        )
                if blocked:
                    raise _Blocked
        except _Blocked:
            return max(blocked)
        return None

    async def clear_login_attempt(
        self, account_key: str, ip_key: str, *, any_account: str, prune_before: str
    ) -> None:
        """A successful login: the pair starts again; the address's any-account count
        takes back the attempt counted for it; long-idle rows are pruned."""
        async with self.db.transaction() as tx:
            await tx.execute(
                "DELETE FROM admin_login_throttle WHERE account_key = ? AND ip_key = ?",
                (account_key, ip_key),
            )
            await tx.execute(
                "UPDATE admin_login_throttle SET failures = CASE WHEN failures > 0 "
                "THEN failures - 1 ELSE 0 END WHERE account_key = ? AND ip_key = ?",
                (any_account, ip_key),
            )
            await tx.execute(
                "DELETE FROM admin_login_throttle WHERE updated_at < ? AND blocked_until < ?",
                (prune_before, prune_before),
            )

    async def login_throttle_row(self, account_key: str, ip_key: str) -> Row | None:
        return await self.db.fetch_one(
            "SELECT failures, blocked_until, updated_at FROM admin_login_throttle "
            "WHERE account_key = ? AND ip_key = ?",
            (account_key, ip_key),
        )
