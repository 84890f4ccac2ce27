"""Reads over recorded clicks (the writer's batch insert lives in each engine)."""

from __future__ import annotations

from tracker.store.base import StoreBase
from tracker.store.engine import Row


class ClickQueries(StoreBase):
    async def count_clicks(self, *, link_id: str | None = None, humans_only: bool = False) -> int:
        where, params = ["1 = 1"], []
        if link_id:
            where.append("link_id = ?")
            params.append(link_id)
        if humans_only:
            where.append("is_bot = 0")
        row = await self.db.fetch_one(
            f"SELECT COUNT(*) AS n FROM clicks WHERE {' AND '.join(where)}", tuple(params)
        )
        return int(row["n"]) if row else 0

    async def get_click(self, click_id: str) -> Row | None:
        return await self.db.fetch_one("SELECT * FROM clicks WHERE id = ?", (click_id,))

    async def list_clicks(
        self,
        *,
        link_id: str | None = None,
        orphans: bool = False,
        limit: int = 100,
        offset: int = 0,
    ) -> list[Row]:
        where, params = ["1 = 1"], []
        if orphans:
            where.append("link_id IS NULL")
        elif link_id:
            where.append("link_id = ?")
            params.append(link_id)
        return await self.db.fetch_all(
            f"SELECT * FROM clicks WHERE {' AND '.join(where)} ORDER BY at DESC, id "
            "LIMIT ? OFFSET ?",
            (*params, limit, offset),
        )

    async def link_stats(self, link_id: str) -> Row:
        row = await self.db.fetch_one(
            "SELECT COUNT(*) AS clicks, "
            "COALESCE(SUM(CASE WHEN is_bot = 0 THEN 1 ELSE 0 END), 0) AS human_clicks, "
            "COUNT(DISTINCT CASE WHEN is_bot = 0 THEN fingerprint END) AS unique_visitors, "
            "MAX(at) AS last_click_at FROM clicks WHERE link_id = ?",
            (link_id,),
        )
        assert row is not None
        return {
            k: (int(v) if k != "last_click_at" and v is not None else v) for k, v in row.items()
        }
