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
        if orphans:  # clicks rows of unknown slugs written before migration 0020
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
        """All-time figures of a link, from the day roll-ups; ``unique_visitors`` is the sum
        of each day's distinct visitors (the README's definition)."""
        row = await self.db.fetch_one(
            "SELECT COALESCE(SUM(clicks), 0) AS clicks, "
            "COALESCE(SUM(human_clicks), 0) AS human_clicks, "
            "COALESCE(SUM(unique_visitors), 0) AS unique_visitors, "
            "MAX(last_at) AS last_click_at FROM click_days WHERE link_id = ?",
            (link_id,),
        )
        assert row is not None
        return {
            k: (int(v) if k != "last_click_at" and v is not None else v) for k, v in row.items()
        }

    async def count_orphan_visits(self, rows: list[tuple[str, str, int, int, str, str]]) -> None:
        """Add visits to unknown slugs: (slug, hour, visits, bots, first_at, last_at) per
        counter, one upsert each, in one transaction."""
        async with self.db.transaction() as tx:
            for slug, hour, visits, bots, first_at, last_at in rows:
                await tx.execute(
                    "INSERT INTO orphan_visits (slug, hour, visits, bots, first_at, last_at) "
                    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (slug, hour) DO UPDATE SET "
                    "visits = orphan_visits.visits + excluded.visits, "
                    "bots = orphan_visits.bots + excluded.bots, "
                    "first_at = CASE WHEN excluded.first_at < orphan_visits.first_at "
                    "THEN excluded.first_at ELSE orphan_visits.first_at END, "
                    "last_at = CASE WHEN excluded.last_at > orphan_visits.last_at "
                    "THEN excluded.last_at ELSE orphan_visits.last_at END",
                    (slug, hour, visits, bots, first_at, last_at),
                )

    async def list_orphan_visits(self, *, limit: int = 100, offset: int = 0) -> list[Row]:
        """Unknown slugs by hour, newest first (the counters of ``orphan_visits``)."""
        return await self.db.fetch_all(
            "SELECT slug, hour, visits, bots, first_at, last_at FROM orphan_visits "
            "ORDER BY hour DESC, visits DESC, slug LIMIT ? OFFSET ?",
            (limit, offset),
        )
