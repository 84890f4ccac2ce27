"""Reads (and the one bulk write) behind the admin panel's pages.

Lists are filtered and sorted in SQL against a whitelist of columns, and paginated, so a
portfolio of thousands of creators renders one page at a time. Click counts come from the
day roll-ups (``click_days``, migration 0070), never from the clicks table: its size grows
with all-time traffic, the roll-ups' with links x days.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tracker.core import clock, ids
from tracker.store.base import LIKE_ESCAPE, StoreBase, like_contains
from tracker.store.engine import Row

#: Sort keys the creators list accepts -> SQL expression.
CREATOR_SORTS = {
    "handle": "handle_key",
    "name": "name",
    "platform": "platform",
    "followers": "followers",
    "category": "category",
    "status": "status",
    "created": "created_at",
}


def _int(value: Any) -> int:
    return int(value or 0)


class PanelQueries(StoreBase):
    async def panel_totals(self) -> Row:
        row = await self.db.fetch_one(
            "SELECT (SELECT COUNT(*) FROM creators) AS creators, "
            "(SELECT COUNT(*) FROM creators WHERE status = 'active') AS active_creators, "
            "(SELECT COUNT(*) FROM campaigns) AS campaigns, "
            "(SELECT COUNT(*) FROM links) AS links, "
            "(SELECT COALESCE(SUM(clicks), 0) FROM click_days) AS clicks, "
            "(SELECT COALESCE(SUM(human_clicks), 0) FROM click_days) AS human_clicks"
        )
        assert row is not None
        return {k: _int(v) for k, v in row.items()}

    async def daily_clicks(self, since_day: str, *, creator_id: str | None = None) -> list[Row]:
        """[{day: 'YYYY-MM-DD', clicks, human_clicks}] for days with clicks, from since_day
        (the day roll-ups: whole days, today's as of the last click batch)."""
        where, params = ["day >= ?"], [since_day]
        if creator_id:  # through the links index, then the creator of the day's clicks
            where.append("link_id IN (SELECT id FROM links WHERE creator_id = ?)")
            where.append("creator_id = ?")
            params += [creator_id, creator_id]
        rows = await self.db.fetch_all(
            "SELECT day, SUM(clicks) AS clicks, SUM(human_clicks) AS human_clicks "
            f"FROM click_days WHERE {' AND '.join(where)} GROUP BY day ORDER BY day",
            tuple(params),
        )
        return [
            {"day": r["day"], "clicks": _int(r["clicks"]), "human_clicks": _int(r["human_clicks"])}
            for r in rows
        ]

    async def search_creators(
        self,
        *,
        q: str = "",
        platform: str = "",
        category: str = "",
        status: str = "",
        campaign_id: str = "",
        followers_min: int | None = None,
        followers_max: int | None = None,
        sort: str = "handle",
        descending: bool = False,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[Row], int]:
        """One page of creators matching the filters, and how many match in all."""
        where: list[str] = ["1 = 1"]
        params: list[Any] = []
        if q:
            # The search text is literal: LIKE wildcards in it are escaped.
            where.append("handle_key LIKE ?" + LIKE_ESCAPE)
            params.append(like_contains(q.lower().lstrip("@")))
        for col, value in (("platform", platform), ("category", category), ("status", status)):
            if value:
                where.append(f"{col} = ?")
                params.append(value)
        if campaign_id:  # creators with a link in the campaign
            where.append("id IN (SELECT creator_id FROM links WHERE campaign_id = ?)")
            params.append(campaign_id)
        if followers_min is not None:
            where.append("followers >= ?")
            params.append(followers_min)
        if followers_max is not None:
            where.append("followers < ?")
            params.append(followers_max)
        cond = " AND ".join(where)
        order = CREATOR_SORTS.get(sort, "handle_key")
        direction = "DESC" if descending else "ASC"
        rows = await self.db.fetch_all(
            f"SELECT * FROM creators WHERE {cond} ORDER BY {order} {direction}, id "
            "LIMIT ? OFFSET ?",
            (*params, limit, offset),
        )
        total = await self.db.fetch_one(
            f"SELECT COUNT(*) AS n FROM creators WHERE {cond}", tuple(params)
        )
        return rows, _int(total and total["n"])

    async def creator_facets(self) -> Row:
        """Distinct categories and platforms in use, for the filter pickers."""
        cats = await self.db.fetch_all(
            "SELECT DISTINCT category FROM creators WHERE category <> '' ORDER BY category"
        )
        plats = await self.db.fetch_all("SELECT DISTINCT platform FROM creators ORDER BY platform")
        return {
            "categories": [r["category"] for r in cats],
            "platforms": [r["platform"] for r in plats],
        }

    async def click_counts_by_creator(self, creator_ids: Sequence[str]) -> dict[str, int]:
        """All clicks on the links each creator owns, from the day roll-ups."""
        if not creator_ids:
            return {}
        marks = ", ".join("?" for _ in creator_ids)
        rows = await self.db.fetch_all(
            "SELECT l.creator_id AS k, SUM(r.clicks) AS n FROM links l "
            "JOIN click_days r ON r.link_id = l.id "
            f"WHERE l.creator_id IN ({marks}) GROUP BY l.creator_id",
            tuple(creator_ids),
        )
        return {r["k"]: _int(r["n"]) for r in rows}

    async def click_counts_by_link(self, link_ids: Sequence[str]) -> dict[str, int]:
        """All clicks per link, from the day roll-ups."""
        if not link_ids:
            return {}
        marks = ", ".join("?" for _ in link_ids)
        rows = await self.db.fetch_all(
            f"SELECT link_id AS k, SUM(clicks) AS n FROM click_days WHERE link_id IN ({marks}) "
            "GROUP BY link_id",
            tuple(link_ids),
        )
        return {r["k"]: _int(r["n"]) for r in rows}

    async def panel_links(
        self, *, creator_id: str = "", campaign_id: str = "", limit: int = 50, offset: int = 0
    ) -> tuple[list[Row], int]:
        """Links, newest first, with their creator's handle and campaign's name."""
        where, params = ["1 = 1"], []
        for col, value in (("l.creator_id", creator_id), ("l.campaign_id", campaign_id)):
            if value:
                where.append(f"{col} = ?")
                params.append(value)
        cond = " AND ".join(where)
        rows = await self.db.fetch_all(
            "SELECT l.*, c.handle AS creator_handle, p.name AS campaign_name FROM links l "
            "LEFT JOIN creators c ON c.id = l.creator_id "
            "LEFT JOIN campaigns p ON p.id = l.campaign_id "
            f"WHERE {cond} ORDER BY l.created_at DESC, l.id LIMIT ? OFFSET ?",
            (*params, limit, offset),
        )
        total = await self.db.fetch_one(
            f"SELECT COUNT(*) AS n FROM links l WHERE {cond}", tuple(params)
        )
        return rows, _int(total and total["n"])

    async def campaign_link_counts(self) -> dict[str, int]:
        rows = await self.db.fetch_all(
            "SELECT campaign_id, COUNT(*) AS n FROM links WHERE campaign_id IS NOT NULL "
            "GROUP BY campaign_id"
        )
        return {r["campaign_id"]: _int(r["n"]) for r in rows}

    async def existing_handles(self, handle_keys: Sequence[str]) -> set[str]:
        found: set[str] = set()
        keys = list(handle_keys)
        for i in range(0, len(keys), 500):
            chunk = keys[i : i + 500]
            marks = ", ".join("?" for _ in chunk)
            rows = await self.db.fetch_all(
                f"SELECT handle_key FROM creators WHERE handle_key IN ({marks})", tuple(chunk)
            )
            found.update(r["handle_key"] for r in rows)
        return found

    async def import_creators(self, rows: Sequence[dict[str, Any]]) -> int:
        """All rows in one transaction: any failure (a handle taken meanwhile) writes none."""
        now = clock.now_iso()
        async with self.db.transaction() as tx:
            for data in rows:
                row = {
                    "id": ids.new_id("cr"),
                    **data,
                    "handle_key": data["handle"].lower(),
                    "created_at": now,
                    "updated_at": now,
                }
                await self._insert("creators", row, f"creator {data['handle']!r}", conn=tx)
        return len(rows)
