"""API tokens, stored as SHA-256 hashes (tokens are 256-bit random, so a fast hash is enough)."""

from __future__ import annotations

import hashlib
import secrets

from tracker.core import clock, ids
from tracker.core.errors import NotFound
from tracker.store.base import StoreBase
from tracker.store.engine import Row

TOKEN_PREFIX = "clk_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


class TokenQueries(StoreBase):
    async def create_token(self, name: str) -> tuple[Row, str]:
        """Return (record, token); the token itself is shown once and never stored."""
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        row = {
            "id": ids.new_id("tk"),
            "name": name,
            "token_hash": hash_token(token),
            "created_at": clock.now_iso(),
        }
        await self._insert("api_tokens", row, "token")
        return {k: v for k, v in row.items() if k != "token_hash"}, token

    async def token_by_secret(self, token: str) -> Row | None:
        return await self.db.fetch_one(
            "SELECT id, name, created_at, last_used_at FROM api_tokens "
            "WHERE token_hash = ? AND revoked_at IS NULL",
            (hash_token(token),),
        )

    async def list_tokens(self) -> list[Row]:
        return await self.db.fetch_all(
            "SELECT id, name, created_at, last_used_at, revoked_at FROM api_tokens "
            "ORDER BY created_at"
        )

    async def revoke_token(self, ref: str) -> None:
        n = await self.db.execute(
            "UPDATE api_tokens SET revoked_at = ? "
            "WHERE (id = ? OR name = ?) AND revoked_at IS NULL",
            (clock.now_iso(), ref, ref),
        )
        if not n:
            raise NotFound(f"no active token {ref!r}")
