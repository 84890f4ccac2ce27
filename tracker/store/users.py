"""Admin panel users, their sessions and failed logins.

Passwords arrive here already hashed (``admin/passwords.py``) and session ids already
hashed (``admin/sessions.py``): this module never sees a secret it could leak.
"""

from __future__ import annotations

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

    # -- throttling -------------------------------------------------------------------------
    async def record_login_failure(self, email_key: str, ip_key: str) -> None:
        await self.db.execute(
            "INSERT INTO admin_login_failures (id, at, email_key, ip_key) VALUES (?, ?, ?, ?)",
            (ids.new_id("lf"), clock.now_iso(), email_key, ip_key),
        )

    async def login_failures_since(self, since: str, *, email_key: str, ip_key: str) -> Row:
        """Failures since ``since`` for this account and for this address, with the oldest
        of each (the throttle lifts when it ages out of the window)."""
        row = await self.db.fetch_one(
            "SELECT "
            "COALESCE(SUM(CASE WHEN email_key = ? THEN 1 ELSE 0 END), 0) AS by_email, "
            "MIN(CASE WHEN email_key = ? THEN at END) AS oldest_email, "
            "COALESCE(SUM(CASE WHEN ip_key = ? THEN 1 ELSE 0 END), 0) AS by_ip, "
            "MIN(CASE WHEN ip_key = ? THEN at END) AS oldest_ip "
            "FROM admin_login_failures WHERE at >= ? AND (email_key = ? OR ip_key = ?)",
            (email_key, email_key, ip_key, ip_key, since, email_key, ip_key),
        )
        assert row is not None
        return {**row, "by_email": int(row["by_email"]), "by_ip": int(row["by_ip"])}

    async def clear_login_failures(self, email_key: str, *, before: str) -> None:
        """After a successful login the account's count starts again; old rows are pruned."""
        async with self.db.transaction() as tx:
            await tx.execute("DELETE FROM admin_login_failures WHERE email_key = ?", (email_key,))
            await tx.execute("DELETE FROM admin_login_failures WHERE at < ?", (before,))
