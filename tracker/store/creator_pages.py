"""Creator pages: secret, revocable read-only links (``/c/{token}``), stored as token hashes."""

from __future__ import annotations

from tracker.core import clock, ids
from tracker.store.base import StoreBase
from tracker.store.engine import Row


class CreatorPageQueries(StoreBase):
    async def create_creator_page(self, creator_id: str, token_hash: str) -> Row:
        row = {
            "id": ids.new_id("cp"),
            "creator_id": creator_id,
            "token_hash": token_hash,
            "created_at": clock.now_iso(),
            "revoked_at": None,
        }
        await self._insert("creator_pages", row, "creator page")
        return row

    async def creator_page_by_hash(self, token_hash: str) -> Row | None:
        """The live (not revoked) page with this token hash, or None."""
        return await self.db.fetch_one(
            "SELECT id, creator_id, created_at FROM creator_pages "
            "WHERE token_hash = ? AND revoked_at IS NULL",
            (token_hash,),
        )

    async def list_creator_pages(self, creator_id: str) -> list[Row]:
        return await self.db.fetch_all(
            "SELECT id, creator_id, created_at, revoked_at FROM creator_pages "
            "WHERE creator_id = ? ORDER BY created_at DESC, id",
            (creator_id,),
        )

    async def revoke_creator_page(self, page_id: str) -> Row | None:
        """Revoke (idempotent); the page's row, or None if there is no such page."""
        await self.db.execute(
            "UPDATE creator_pages SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
            (clock.now_iso(), page_id),
        )
        return await self.db.fetch_one(
            "SELECT id, creator_id, created_at, revoked_at FROM creator_pages WHERE id = ?",
            (page_id,),
        )
