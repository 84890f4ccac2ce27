"""Creators' discount codes: unique case-insensitively (``code_key``), created in batches."""

from __future__ import annotations

from typing import Any

from tracker.core import clock
from tracker.core.errors import NotFound
from tracker.store.base import StoreBase, where
from tracker.store.engine import Row


class CodeQueries(StoreBase):
    async def create_codes(self, rows: list[dict[str, Any]]) -> list[Row]:
        """Insert codes all-or-nothing (bulk generation never leaves half a batch)."""
        now = clock.now_iso()
        made = await self._insert_all(
            "codes",
            "dc",
            [{**r, "code_key": r["code"].lower(), "updated_at": now} for r in rows],
            "a code with that text (codes are case-insensitive)",
        )
        return [await self.get_code(code_id) for code_id in made]

    async def get_code(self, ref: str) -> Row:
        row = await self.db.fetch_one(
            "SELECT * FROM codes WHERE id = ? OR code_key = ?", (ref, ref.lower())
        )
        if row is None:
            raise NotFound(f"no such code {ref!r}")
        return row

    async def list_codes(
        self,
        *,
        creator_id: str | None = None,
        campaign_id: str | None = None,
        status: str | None = None,
        limit: int = 1000,
        offset: int = 0,
    ) -> list[Row]:
        clause, params = where(
            ("c.creator_id = ?", creator_id),
            ("c.campaign_id = ?", campaign_id),
            ("c.status = ?", status),
        )
        return await self.db.fetch_all(
            "SELECT c.*, cr.handle AS creator_handle, cp.name AS campaign_name FROM codes c "
            "JOIN creators cr ON cr.id = c.creator_id "
            "LEFT JOIN campaigns cp ON cp.id = c.campaign_id "
            f"WHERE {clause} ORDER BY c.code_key LIMIT ? OFFSET ?",
            (*params, limit, offset),
        )

    async def update_code(self, ref: str, fields: dict[str, Any]) -> Row:
        code = await self.get_code(ref)
        if "code" in fields:
            fields = {**fields, "code_key": fields["code"].lower()}
        return await self._update("codes", code["id"], fields, "code")

    async def code_keys_with_prefix(self, prefix: str) -> set[str]:
        rows = await self.db.fetch_all(
            "SELECT code_key FROM codes WHERE code_key LIKE ?", (prefix.lower() + "%",)
        )
        return {r["code_key"] for r in rows}
