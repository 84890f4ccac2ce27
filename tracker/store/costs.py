"""Costs (fee, product, commission, labor) and content posts: recorded one by one or all
or nothing (CSV import), listed, deleted. The reports read them in ``store/reports.py``."""

from __future__ import annotations

from typing import Any

from tracker.core import clock, ids
from tracker.store.base import StoreBase, where
from tracker.store.engine import Row


class CostQueries(StoreBase):
    async def add_cost(self, data: dict[str, Any]) -> Row:
        row = {"id": ids.new_id("co"), **data, "created_at": clock.now_iso()}
        await self._insert("costs", row, "cost")
        return await self._get("costs", row["id"], "cost")

    async def add_costs(self, rows: list[dict[str, Any]]) -> int:
        """All-or-nothing (CSV import)."""
        return len(await self._insert_all("costs", "co", rows, "cost"))

    async def list_costs(
        self,
        *,
        creator_id: str | None = None,
        start: str | None = None,
        end: str | None = None,
        limit: int = 1000,
        offset: int = 0,
    ) -> list[Row]:
        clause, params = where(
            ("creator_id = ?", creator_id), ("incurred_on >= ?", start), ("incurred_on <= ?", end)
        )
        return await self.db.fetch_all(
            f"SELECT * FROM costs WHERE {clause} ORDER BY incurred_on, id LIMIT ? OFFSET ?",
            (*params, limit, offset),
        )

    async def delete_cost(self, cost_id: str) -> int:
        return await self.db.execute("DELETE FROM costs WHERE id = ?", (cost_id,))

    async def add_posts(self, rows: list[dict[str, Any]]) -> list[str]:
        """All-or-nothing (CSV import); returns the new ids."""
        return await self._insert_all("posts", "po", rows, "post")

    async def list_posts(
        self,
        *,
        creator_id: str | None = None,
        start: str | None = None,
        end: str | None = None,
        limit: int = 1000,
        offset: int = 0,
    ) -> list[Row]:
        clause, params = where(
            ("creator_id = ?", creator_id), ("posted_at >= ?", start), ("posted_at < ?", end)
        )
        return await self.db.fetch_all(
            f"SELECT * FROM posts WHERE {clause} ORDER BY posted_at, id LIMIT ? OFFSET ?",
            (*params, limit, offset),
        )
