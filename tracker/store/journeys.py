"""Queries behind the portfolio insights (issue 20): collaborations, the visitors' creator
paths the data-driven model fits on, cumulative exposure, and survey answers.

Each groups in SQL what would otherwise ship a row per click to Python: the paths come back
as transition counts, the exposure as counts per (tier, creators met, clicks); only buyers
(thousands, not a million) come back one row each.
"""

from __future__ import annotations

from tracker.core import clock, ids
from tracker.core.errors import NotFound
from tracker.store.base import StoreBase, money_sum
from tracker.store.engine import Row
from tracker.store.reports import tier_sql

#: Human clicks of a creator with a fingerprint, in [start, end).
_VISITS = (
    "c.is_bot = 0 AND c.creator_id IS NOT NULL AND c.fingerprint IS NOT NULL "
    "AND c.at >= ? AND c.at < ?"
)


class JourneyQueries(StoreBase):
    # -- collaborations ---------------------------------------------------------------------
    async def create_collab(
        self, name: str, link_id: str | None, code_key: str | None, shares: list[tuple[str, int]]
    ) -> Row:
        now = clock.now_iso()
        row = {
            "id": ids.new_id("co"),
            "name": name,
            "name_key": name.lower(),
            "link_id": link_id,
            "code_key": code_key,
            "created_at": now,
            "updated_at": now,
        }
        async with self.db.transaction() as tx:
            await self._insert("collabs", row, f"collaboration {name!r} (or its link or code)", tx)
            for creator_id, bp in shares:
                await tx.execute(
                    "INSERT INTO collab_shares (collab_id, creator_id, share_bp) VALUES (?, ?, ?)",
                    (row["id"], creator_id, bp),
                )
        return await self.get_collab(str(row["id"]))

    async def get_collab(self, ref: str) -> Row:
        row = await self.db.fetch_one(
            "SELECT * FROM collabs WHERE id = ? OR name_key = ?", (ref, ref.lower())
        )
        if row is None:
            raise NotFound(f"no such collaboration {ref!r}")
        return {**row, "shares": await self._collab_shares([row["id"]])}

    async def delete_collab(self, ref: str) -> Row:
        """Delete it; the row as it was (its link or code names the orders to re-ledger)."""
        row = await self.get_collab(ref)
        async with self.db.transaction() as tx:
            await tx.execute("DELETE FROM collab_shares WHERE collab_id = ?", (row["id"],))
            await tx.execute("DELETE FROM collabs WHERE id = ?", (row["id"],))
        return row

    async def set_collab_shares(self, ref: str, shares: list[tuple[str, int]]) -> Row:
        """Replace a collaboration's shares (checked by the caller) in one transaction."""
        row = await self.get_collab(ref)
        async with self.db.transaction() as tx:
            await tx.execute("DELETE FROM collab_shares WHERE collab_id = ?", (row["id"],))
            for creator_id, bp in shares:
                await tx.execute(
                    "INSERT INTO collab_shares (collab_id, creator_id, share_bp) VALUES (?, ?, ?)",
                    (row["id"], creator_id, bp),
                )
            await tx.execute(
                "UPDATE collabs SET updated_at = ? WHERE id = ?", (clock.now_iso(), row["id"])
            )
        return await self.get_collab(str(row["id"]))

    async def collab_orders(self, link_id: str | None, code_key: str | None) -> list[str]:
        """Orders whose winning touch goes through this link or code (the orders whose
        commission a collaboration on it splits), oldest id first."""
        return [
            str(r["order_id"])
            for r in await self.db.fetch_all(
                "SELECT DISTINCT order_id FROM touches WHERE winner = 1 AND "
                "((method = 'code' AND LOWER(code) = ?) OR (method <> 'code' AND link_id = ?)) "
                "ORDER BY order_id",
                (code_key or "", link_id or ""),
            )
        ]

    async def list_collabs(self) -> list[Row]:
        rows = await self.db.fetch_all(
            "SELECT co.*, l.slug FROM collabs co LEFT JOIN links l ON l.id = co.link_id "
            "ORDER BY co.name_key"
        )
        shares = await self._collab_shares([r["id"] for r in rows])
        return [{**r, "shares": [s for s in shares if s["collab_id"] == r["id"]]} for r in rows]

    async def _collab_shares(self, collab_ids: list[str]) -> list[Row]:
        if not collab_ids:
            return []
        return await self.db.fetch_all(
            "SELECT s.collab_id, s.creator_id, s.share_bp, cr.handle FROM collab_shares s "
            "JOIN creators cr ON cr.id = s.creator_id "
            f"WHERE s.collab_id IN ({', '.join('?' for _ in collab_ids)}) "
            "ORDER BY s.collab_id, s.share_bp DESC, cr.handle_key",
            tuple(collab_ids),
        )

    # -- visitor samples ----------------------------------------------------------------------
    async def visitor_sample(self, start: str, end: str, target: int) -> tuple[str | None, float]:
        """A uniform sample of visitors reading about ``target`` human creator clicks in
        [start, end): (upper bound of the fingerprint, the fraction of visitors it keeps),
        or (None, 1.0) for everyone. Fingerprints are keyed hashes in hex, so the visitors
        whose fingerprint sorts below ``"1a"`` are 26/256 of them, drawn at random; the
        partial fingerprint index reads only their clicks. The size is estimated from the
        clicks of one sixteenth of the visitors (fingerprints starting with 0), read from
        the human clicks' fingerprint index alone: on PostgreSQL that index is partial on
        ``is_bot = 0`` only (migration 0071), so the estimate there also counts the few
        human clicks without a creator rather than visit every row for it (0.45 -> 0.05 s
        at 1M clicks); SQLite's is partial on both and is used only when both are asked."""
        creator = "" if self.db.dialect == "postgres" else "AND c.creator_id IS NOT NULL "
        row = await self.db.fetch_one(
            f"SELECT COUNT(*) AS n FROM clicks c WHERE c.is_bot = 0 {creator}"
            "AND c.fingerprint >= '0' AND c.fingerprint < '1' AND c.at >= ? AND c.at < ?",
            (start, end),
        )
        estimate = 16 * int(row["n"] if row else 0)
        if estimate <= target:
            return None, 1.0
        keep = max(1, 256 * target // estimate)
        return f"{keep:02x}", keep / 256

    # -- data-driven attribution: non-converting paths ---------------------------------------
    async def path_transitions(self, start: str, end: str, below: str | None = None) -> list[Row]:
        """Visitors (fingerprints) with human creator clicks in [start, end) and no order in
        it, as (prev creator or NULL at the path's start, creator, is the path's last click,
        count). Consecutive clicks on one creator come back as prev = creator. ``below``:
        only the visitors whose fingerprint sorts below it (``visitor_sample``). A buyer is
        found per click through the orders' fingerprint index (NOT EXISTS: 20% cheaper on
        SQLite than a join to the range's distinct buyers, which sorted them first)."""
        sample, params = ("AND c.fingerprint < ? ", (below,)) if below else ("", ())
        return await self.db.fetch_all(
            "SELECT prev, cur, last, COUNT(*) AS n FROM ("
            "SELECT c.creator_id AS cur, LAG(c.creator_id) OVER w AS prev, "
            "CASE WHEN LEAD(c.id) OVER w IS NULL THEN 1 ELSE 0 END AS last "
            f"FROM clicks c WHERE {_VISITS} {sample}AND NOT EXISTS (SELECT 1 FROM orders o "
            "WHERE o.fingerprint = c.fingerprint AND o.placed_at >= ? AND o.placed_at < ?) "
            "WINDOW w AS (PARTITION BY c.fingerprint ORDER BY c.at, c.id)) x "
            "GROUP BY prev, cur, last",
            (start, end, *params, start, end),
        )

    # -- cumulative exposure -----------------------------------------------------------------
    async def exposure_counts(
        self,
        start: str,
        end: str,
        tiers: tuple[tuple[str, int], ...],
        max_clicks: int,
        below: str | None = None,
    ) -> list[Row]:
        """Per (tier or '*' for the portfolio, distinct creators met, clicks capped at
        ``max_clicks``, buyer fingerprint or NULL): visitors. A visitor's exposure counts
        the human clicks before their first counted order in the range (all of them when
        they bought nothing); a buyer comes back one row each, everyone else in counts."""
        tier, tier_params = tier_sql(tiers)
        sample, params = ("AND c.fingerprint < ? ", (below,)) if below else ("", ())
        return await self.db.fetch_all(
            "WITH buys AS (SELECT fingerprint, MIN(placed_at) AS first_at FROM orders "
            "WHERE counted = 1 AND fingerprint IS NOT NULL AND placed_at >= ? AND placed_at < ? "
            "GROUP BY fingerprint), "
            f"seen AS (SELECT c.fingerprint, {tier} AS tier, MAX(b.first_at) AS bought, "
            "COUNT(DISTINCT c.creator_id) AS creators, COUNT(*) AS clicks "
            "FROM clicks c JOIN creators cr ON cr.id = c.creator_id "
            "LEFT JOIN buys b ON b.fingerprint = c.fingerprint "
            f"WHERE {_VISITS} AND (b.first_at IS NULL OR c.at <= b.first_at) {sample}"
            "GROUP BY c.fingerprint, 2), "
            "everyone AS (SELECT fingerprint, '*' AS tier, MAX(bought) AS bought, "
            "SUM(creators) AS creators, SUM(clicks) AS clicks FROM seen GROUP BY fingerprint) "
            "SELECT tier, creators, CASE WHEN clicks > ? THEN ? ELSE clicks END AS clicks, "
            "CASE WHEN bought IS NULL THEN NULL ELSE fingerprint END AS buyer, "
            "COUNT(*) AS visitors FROM (SELECT * FROM seen UNION ALL SELECT * FROM everyone) v "
            "GROUP BY 1, 2, 3, 4",
            (start, end, *tier_params, start, end, *params, max_clicks, max_clicks),
        )

    async def buyer_revenue(self, start: str, end: str) -> list[Row]:
        """Net revenue of counted orders in [start, end) per fingerprint and currency."""
        return await self.db.fetch_all(
            f"SELECT fingerprint, currency, {money_sum(self.db.dialect, 'net_minor')} AS net_minor, "
            "COUNT(*) AS orders "
            "FROM orders WHERE counted = 1 AND fingerprint IS NOT NULL "
            "AND placed_at >= ? AND placed_at < ? GROUP BY fingerprint, currency",
            (start, end),
        )

    # -- survey answers ----------------------------------------------------------------------
    async def survey_answers(self, start: str, end: str) -> list[Row]:
        """Orders in [start, end) with a survey answer, their tracked winner and money."""
        return await self.db.fetch_all(
            "SELECT o.id, o.external_id, o.placed_at, o.survey_answer, o.creator_id, o.method, "
            "o.net_minor, o.currency, o.counted FROM orders o "
            "WHERE o.placed_at >= ? AND o.placed_at < ? AND o.survey_answer IS NOT NULL "
            "ORDER BY o.placed_at",
            (start, end),
        )

    async def survey_names(self) -> list[Row]:
        return await self.db.fetch_all("SELECT id, handle, name FROM creators")
