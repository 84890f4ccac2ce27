"""Queries behind the portfolio insights of issue 20 (authentic engagement, posting windows,
content per tier, budget forecast): counts SQL groups well; the maths is in
``tracker/reports/``."""

from __future__ import annotations

from typing import Any

from tracker.store.base import StoreBase
from tracker.store.engine import Row

_CHUNK = 5000  # links per statement, far under either engine's parameter limit

#: Hour-of-week groups: the key each click is counted under, and the join it needs. The
#: creator's platform comes through the link, so the clicks' time index (at, link_id,
#: is_bot) answers without reading the click rows (about half the time at 1M clicks).
HOUR_GROUPS = {
    "all": ("''", ""),
    "platform": (
        "cr.platform",
        "JOIN links l ON l.id = c.link_id JOIN creators cr ON cr.id = l.creator_id ",
    ),
    "creator": ("l.creator_id", "JOIN links l ON l.id = c.link_id "),
}


class InsightQueries(StoreBase):
    async def link_hours(self, link_ids: list[str], start: str, end: str) -> list[Row]:
        """Clicks and human clicks per (link, UTC clock hour 'YYYY-MM-DDTHH') of the given
        links in [start, end): one pass over the clicks' time index (``clicks_at`` covers
        at, link_id and is_bot; there is no per-link index on clicks, issue 8)."""
        out: list[Row] = []
        for i in range(0, len(link_ids), _CHUNK):
            chunk = link_ids[i : i + _CHUNK]
            out += await self.db.fetch_all(
                "SELECT link_id, substr(at, 1, 13) AS hour, COUNT(*) AS clicks, "
                "COALESCE(SUM(CASE WHEN is_bot = 0 THEN 1 ELSE 0 END), 0) AS human_clicks "
                f"FROM clicks WHERE at >= ? AND at < ? AND link_id IN ({_marks(chunk)}) "
                "GROUP BY 1, 2",
                (start, end, *chunk),
            )
        return out

    async def link_click_orders(self, link_ids: list[str], start: str, end: str) -> list[Row]:
        """Counted orders reached through a click or fingerprint touch of the given links,
        by the touch's clock hour, in [start, end)."""
        out: list[Row] = []
        for i in range(0, len(link_ids), _CHUNK):
            chunk = link_ids[i : i + _CHUNK]
            out += await self.db.fetch_all(
                "SELECT DISTINCT t.link_id, substr(t.at, 1, 13) AS hour, t.order_id "
                "FROM touches t JOIN orders o ON o.id = t.order_id "
                f"WHERE t.at >= ? AND t.at < ? AND t.link_id IN ({_marks(chunk)}) "
                "AND t.matched = 1 AND o.counted = 1 AND t.method IN ('click', 'fingerprint')",
                (start, end, *chunk),
            )
        return out

    async def human_clicks_by_hour(
        self, start: str, end: str, by: str, creator_id: str | None = None
    ) -> list[Row]:
        """Human clicks per key of ``by`` (all | platform | creator) and UTC clock hour
        (``hour``: 'YYYY-MM-DDTHH'); ``creator_id`` keeps the clicks on one creator's links.
        A click counts for the creator who owns its link now (the clicks' time index holds
        the link, not the creator: reading each click row takes seconds at 1M clicks)."""
        key, join = HOUR_GROUPS[by]
        only, params = "", [start, end]
        if creator_id is not None:  # by the links they own: the index alone answers
            only = "AND c.link_id IN (SELECT id FROM links WHERE creator_id = ?) "
            params.append(creator_id)
        rows = await self.db.fetch_all(
            f"SELECT {key} AS key, substr(c.at, 1, 13) AS hour, COUNT(*) AS human_clicks "
            f"FROM clicks c {join}WHERE c.link_id IS NOT NULL AND c.is_bot = 0 "
            f"AND c.at >= ? AND c.at < ? {only}GROUP BY 1, 2",
            params,
        )
        return [{**r, "human_clicks": int(r["human_clicks"])} for r in rows]

    async def click_conversions(self, start: str, end: str) -> list[Row]:
        """Click and fingerprint touches of counted orders placed in [start, end), with the
        creator's platform and the order's net revenue."""
        rows: list[dict[str, Any]] = await self.db.fetch_all(
            "SELECT t.order_id, t.creator_id, t.method, t.at, cr.platform, o.placed_at, "
            "o.net_minor, o.currency FROM touches t JOIN orders o ON o.id = t.order_id "
            "JOIN creators cr ON cr.id = t.creator_id "
            "WHERE o.placed_at >= ? AND o.placed_at < ? AND o.counted = 1 AND t.matched = 1 "
            "AND t.method IN ('click', 'fingerprint') ORDER BY t.order_id, t.at",
            (start, end),
        )
        return rows

    async def link_formats(self) -> list[Row]:
        """Each link's latest post format (the content type of a link that names none)."""
        return await self.db.fetch_all(
            "SELECT link_id, format, posted_at FROM posts WHERE link_id IS NOT NULL "
            "ORDER BY posted_at"
        )


def _marks(values: list[str]) -> str:
    return ", ".join("?" for _ in values)
