"""Queries behind the reports: the facts the ROI maths reads (costs and posts are
recorded through ``tracker.store.costs``).

Grouping that SQL does well (click counts per dimension, distinct visitors) happens here;
attribution credit is computed in Python at read time (``tracker.attribution``) so the model
is a parameter of every report and switching it needs no reprocessing.
"""

from __future__ import annotations

from typing import Any

from tracker.core import clock
from tracker.store.base import StoreBase
from tracker.store.engine import Row

#: SQL for a click's dimension key; ``tier`` is built from thresholds at call time.
CLICK_DIMENSIONS = {
    "creator": "c.creator_id",
    "campaign": "l.campaign_id",
    "link": "c.link_id",
    "platform": "cr.platform",
    "category": "cr.category",
    "content_type": "l.content_type",
}


def tier_sql(tiers: tuple[tuple[str, int], ...]) -> tuple[str, list[Any]]:
    whens, params = [], []
    for name, minimum in tiers:
        whens.append("WHEN cr.followers >= ? THEN ?")
        params += [minimum, name]
    return f"CASE {' '.join(whens)} ELSE ? END", [*params, tiers[-1][0]]


class ReportQueries(StoreBase):
    # -- report facts -------------------------------------------------------------------------
    async def click_facts(
        self,
        dimension: str,
        start: str,
        end: str,
        tiers: tuple[tuple[str, int], ...],
        *,
        daily: bool = False,
        distinct: bool = True,
    ) -> list[Row]:
        """Clicks per dimension key (and day): all, human, unique (same fingerprint on the
        same link within one clock hour counts once), unique visitors (human fingerprints).

        ``distinct=False`` skips the two COUNT(DISTINCT ...) columns (reported as 0): they
        sort hundreds of thousands of strings, and a dashboard that shows neither must not
        pay for them (about 2 s at 1M clicks). The ROI tables keep the exact counts."""
        params: list[Any] = []
        if dimension == "tier":
            key, params = tier_sql(tiers)
        else:
            key = CLICK_DIMENSIONS[dimension]
        day = ", substr(c.at, 1, 10) AS day" if daily else ""
        group = "1, 2" if daily else "1"  # by position: PostgreSQL sees each ? as a new value
        # Join only what the key reads. Orphan visits (unknown slugs, link_id NULL) never
        # count; links are never deleted, so "link_id IS NOT NULL" is all the links join
        # did for creator and link keys, where the joins only cost time (~40% of it).
        joins, where = "", "c.link_id IS NOT NULL AND "
        if dimension in ("campaign", "content_type"):
            joins, where = "JOIN links l ON l.id = c.link_id ", ""
        if dimension in ("tier", "platform", "category"):
            joins += "LEFT JOIN creators cr ON cr.id = c.creator_id "
        uniques = (
            "COUNT(DISTINCT CASE WHEN c.is_bot = 0 THEN c.link_id || '|' || "
            "COALESCE(c.fingerprint, c.id) || '|' || substr(c.at, 1, 13) END) AS unique_clicks, "
            "COUNT(DISTINCT CASE WHEN c.is_bot = 0 THEN c.fingerprint END) AS unique_visitors "
            if distinct
            else "0 AS unique_clicks, 0 AS unique_visitors "
        )
        sql = (
            f"SELECT {key} AS key{day}, COUNT(*) AS clicks, "
            "COALESCE(SUM(CASE WHEN c.is_bot = 0 THEN 1 ELSE 0 END), 0) AS human_clicks, "
            f"{uniques}"
            f"FROM clicks c {joins}"
            f"WHERE {where}c.at >= ? AND c.at < ? GROUP BY {group}"
        )
        rows = await self.db.fetch_all(sql, (*params, start, end))
        return [
            {k: (int(v) if k not in ("key", "day") and v is not None else v) for k, v in r.items()}
            for r in rows
        ]

    async def credited_touches(self, start: str, end: str) -> list[Row]:
        """Matched touches of orders placed in [start, end), with whether the order counts."""
        return await self.db.fetch_all(
            "SELECT t.order_id, t.method, t.creator_id, t.link_id, t.campaign_id, t.code, t.at, "
            "t.winner, "
            "t.confidence, o.placed_at, o.net_minor, o.currency, o.new_customer, "
            "o.customer_hash, o.counted "
            "FROM touches t JOIN orders o ON o.id = t.order_id "
            "WHERE o.placed_at >= ? AND o.placed_at < ? AND t.matched = 1 "
            "AND t.creator_id IS NOT NULL ORDER BY t.order_id, t.at, t.id",
            (start, end),
        )

    async def unattributed_orders(self, start: str, end: str) -> list[Row]:
        return await self.db.fetch_all(
            "SELECT o.id, o.external_id, o.placed_at, o.net_minor, o.currency, o.codes, "
            "o.click_ids FROM orders o WHERE o.placed_at >= ? AND o.placed_at < ? "
            "AND o.counted = 1 AND NOT EXISTS (SELECT 1 FROM touches t "
            "WHERE t.order_id = o.id AND t.matched = 1 AND t.creator_id IS NOT NULL) "
            "ORDER BY o.placed_at",
            (start, end),
        )

    async def orders_of_customers(self, hashes: list[str], start: str, end: str) -> list[Row]:
        out: list[Row] = []
        for i in range(0, len(hashes), 500):
            chunk = hashes[i : i + 500]
            out += await self.db.fetch_all(
                "SELECT id, customer_hash, placed_at, net_minor, currency FROM orders "
                f"WHERE customer_hash IN ({', '.join('?' for _ in chunk)}) "
                "AND placed_at >= ? AND placed_at < ?",
                (*chunk, start, end),
            )
        return out

    async def fingerprint_checks(self, start: str, end: str) -> list[Row]:
        """Orders placed in [start, end) whose click id matched and that had a fingerprint:
        whether the fingerprint alone picked the same creator, and with what confidence."""
        return await self.db.fetch_all(
            "SELECT fp_check, fp_check_confidence FROM orders WHERE placed_at >= ? "
            "AND placed_at < ? AND fp_check IS NOT NULL",
            (start, end),
        )

    async def costs_between(self, start_day: str, end_day: str) -> list[Row]:
        return await self.db.fetch_all(
            "SELECT * FROM costs WHERE incurred_on >= ? AND incurred_on < ?", (start_day, end_day)
        )

    async def commission_rates(self) -> list[Row]:
        return await self.db.fetch_all(
            "SELECT creator_id, campaign_id, rate_bp, incurred_on FROM costs "
            "WHERE kind = 'commission' ORDER BY incurred_on"
        )

    async def posts_between(self, start: str, end: str) -> list[Row]:
        return await self.db.fetch_all(
            "SELECT * FROM posts WHERE posted_at >= ? AND posted_at < ?", (start, end)
        )

    async def creators_meta(self) -> list[Row]:
        return await self.db.fetch_all(
            "SELECT id, handle, name, platform, followers, category, status FROM creators"
        )

    async def links_meta(self) -> list[Row]:
        return await self.db.fetch_all(
            "SELECT id, slug, creator_id, campaign_id, content_type FROM links"
        )

    async def campaigns_meta(self) -> list[Row]:
        return await self.db.fetch_all("SELECT id, name FROM campaigns")

    async def code_redemptions(self, start: str, end: str, click_days: int) -> list[Row]:
        """Each code touch in range, whether the same creator also had a click from this
        shopper (a click id on the order, or a human click with the order's fingerprint)."""
        return await self.db.fetch_all(
            "SELECT t.creator_id, t.code, o.id AS order_id, o.placed_at, o.referring_site, "
            "o.net_minor, o.currency, "
            "CASE WHEN EXISTS (SELECT 1 FROM touches t2 WHERE t2.order_id = o.id "
            "AND t2.method = 'click' AND t2.creator_id = t.creator_id) "
            "OR EXISTS (SELECT 1 FROM clicks c WHERE o.fingerprint IS NOT NULL "
            "AND c.fingerprint = o.fingerprint AND c.creator_id = t.creator_id "
            "AND c.is_bot = 0 AND c.at >= ? AND c.at <= o.placed_at) THEN 1 ELSE 0 END "
            "AS had_click FROM touches t JOIN orders o ON o.id = t.order_id "
            "WHERE t.method = 'code' AND t.matched = 1 AND o.placed_at >= ? AND o.placed_at < ?",
            (_days_before(start, click_days), start, end),
        )

    async def fingerprints_by_creator(
        self, creator_ids: list[str], start: str, end: str
    ) -> list[Row]:
        if not creator_ids:
            return []
        return await self.db.fetch_all(
            "SELECT DISTINCT creator_id, fingerprint FROM clicks WHERE is_bot = 0 "
            f"AND fingerprint IS NOT NULL AND creator_id IN ({', '.join('?' for _ in creator_ids)}) "
            "AND at >= ? AND at < ?",
            (*creator_ids, start, end),
        )


def _days_before(at: str, days: int) -> str:
    from datetime import timedelta

    return clock.shift(at, -timedelta(days=days))
