"""Queries behind the portfolio insights of issue 20 (authentic engagement, posting windows,
content per tier, budget forecast): counts SQL groups well; the maths is in
``tracker/reports/``."""

from __future__ import annotations

from typing import Any

from tracker.store.base import StoreBase
from tracker.store.engine import Row

_CHUNK = 400  # windows per statement: 4 parameters each, far under either engine's limit

#: Hour-of-week groups: the key each click is counted under, and the join it needs.
HOUR_GROUPS = {
    "all": ("''", ""),
    "platform": ("cr.platform", "JOIN creators cr ON cr.id = c.creator_id "),
    "creator": ("c.creator_id", ""),
}


class InsightQueries(StoreBase):
    async def post_link_clicks(self, windows: list[tuple[str, str, str, str]]) -> list[Row]:
        """Per (post id, link id, from, to): the link's clicks, human clicks, and counted
        orders reached through a click or fingerprint touch of that link, in [from, to)."""
        out: list[Row] = []
        for i in range(0, len(windows), _CHUNK):
            chunk = windows[i : i + _CHUNK]
            values = ", ".join("(?, ?, ?, ?)" for _ in chunk)
            params = [x for w in chunk for x in w]
            head = f"WITH w (post_id, link_id, s, e) AS (VALUES {values}) "
            clicks = await self.db.fetch_all(
                head + "SELECT w.post_id, COUNT(c.id) AS clicks, "
                "COALESCE(SUM(CASE WHEN c.is_bot = 0 THEN 1 ELSE 0 END), 0) AS human_clicks "
                "FROM w LEFT JOIN clicks c ON c.link_id = w.link_id AND c.at >= w.s "
                "AND c.at < w.e GROUP BY w.post_id",
                params,
            )
            orders = await self.db.fetch_all(
                head + "SELECT w.post_id, COUNT(DISTINCT t.order_id) AS orders FROM w "
                "JOIN touches t ON t.link_id = w.link_id AND t.at >= w.s AND t.at < w.e "
                "JOIN orders o ON o.id = t.order_id WHERE t.matched = 1 AND o.counted = 1 "
                "AND t.method IN ('click', 'fingerprint') GROUP BY w.post_id",
                params,
            )
            got = {r["post_id"]: int(r["orders"]) for r in orders}
            out += [
                {
                    "post_id": r["post_id"],
                    "clicks": int(r["clicks"]),
                    "human_clicks": int(r["human_clicks"]),
                    "orders": got.get(r["post_id"], 0),
                }
                for r in clicks
            ]
        return out

    async def human_clicks_by_hour(
        self, start: str, end: str, by: str, creator_id: str | None = None
    ) -> list[Row]:
        """Human clicks per key of ``by`` (all | platform | creator) and UTC clock hour
        (``hour``: 'YYYY-MM-DDTHH'); ``creator_id`` keeps one creator's clicks."""
        key, join = HOUR_GROUPS[by]
        only, params = "", [start, end]
        if creator_id is not None:
            only = "AND c.creator_id = ? "
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
