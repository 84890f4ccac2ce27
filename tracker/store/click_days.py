"""Reads of the day roll-ups (``click_days``), their rebuild and their check against a
recount from the raw clicks. The writer's side is ``tracker/store/rollups.py``."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from tracker.store.base import StoreBase
from tracker.store.engine import Conn, Row
from tracker.store.rollups import (
    FIGURES,
    REBUILD_VISITORS,
    RECOUNT_COLUMNS,
    differences,
    keep_erased_uniques,
)


def next_day(day: str) -> str:
    return (date.fromisoformat(day) + timedelta(days=1)).isoformat()


def _midnight(at: str) -> bool:
    return at[10:].strip("T0:.Z") == ""


def split_range(start: str, end: str) -> tuple[tuple[str, str] | None, list[tuple[str, str]]]:
    """[start, end) (ISO instants) -> the whole UTC days in it as ['YYYY-MM-DD',
    'YYYY-MM-DD') read from the roll-ups (None if none), and the partial edges as instant
    ranges, read from the raw clicks."""
    if start >= end:
        return None, []
    first = start[:10] if _midnight(start) else next_day(start[:10])
    last = end[:10]
    if first >= last:
        return None, [(start, end)]
    edges = []
    if start < first:
        edges.append((start, first))
    if not _midnight(end):
        edges.append((last, end))
    return (first, last), edges


class ClickDayQueries(StoreBase):
    async def _recount_day(self, conn: Conn, day: str) -> list[Row]:
        return await conn.fetch_all(
            f"SELECT c.link_id, MAX(c.creator_id) AS creator_id, {RECOUNT_COLUMNS}, "
            "MAX(c.at) AS last_at, SUM(CASE WHEN c.is_bot = 0 AND c.fingerprint IS NOT NULL "
            "THEN 1 ELSE 0 END) AS kept_prints "
            "FROM clicks c WHERE c.at >= ? AND c.at < ? AND c.link_id IS NOT NULL "
            "GROUP BY c.link_id",
            (day, day + "U"),
        )

    async def click_days_bounds(self) -> tuple[str | None, str | None]:
        """The first and last day holding raw clicks (None, None without any)."""
        row = await self.db.fetch_one(
            "SELECT MIN(at) AS lo, MAX(at) AS hi FROM clicks WHERE link_id IS NOT NULL"
        )
        if not row or row["lo"] is None:
            return None, None
        return str(row["lo"])[:10], str(row["hi"])[:10]

    async def rebuild_click_day(self, day: str) -> int:
        """Recount one day's roll-up rows from the raw clicks, in one transaction that the
        click writer waits for (SQLite: the write lock; PostgreSQL: an EXCLUSIVE lock on
        the roll-up tables, taken before the clicks are read); a closed day's reach rows
        are recounted and sealed, an open day's unsealed. A link whose human clicks no
        longer have fingerprints keeps its stored unique counts (``keep_erased_uniques``).
        Returns the rows written."""
        async with self.db.transaction() as tx:
            if self.db.dialect == "postgres":
                await tx.execute(
                    "LOCK TABLE click_days, click_visitors, click_reach_days, click_breakdown_days, "
                    "click_breakdown_totals IN EXCLUSIVE MODE"
                )
            old = {
                r["link_id"]: r
                for r in await tx.fetch_all(
                    "SELECT link_id, unique_clicks, unique_visitors FROM click_days WHERE day = ?",
                    (day,),
                )
            }
            fresh = await self._recount_day(tx, day)
            await tx.execute("DELETE FROM click_days WHERE day = ?", (day,))
            await tx.execute("DELETE FROM click_visitors WHERE day = ?", (day,))
            await tx.execute(REBUILD_VISITORS, (day, day + "U"))
            await self.recount_reach_day(tx, day)  # type: ignore[attr-defined]
            for r in fresh:
                keep_erased_uniques(r, old.get(r["link_id"]))
                await tx.execute(
                    "INSERT INTO click_days (day, link_id, creator_id, clicks, human_clicks, "
                    "unique_clicks, unique_visitors, last_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        day,
                        r["link_id"],
                        r["creator_id"],
                        *(int(r[k] or 0) for k in FIGURES),
                        r["last_at"],
                    ),
                )
        return len(fresh)

    async def check_click_day(self, day: str) -> list[dict[str, Any]]:
        """Where the day's roll-up differs from a recount: [{link_id, figure, rollup,
        recount}] (empty when they agree). Unique counts are compared only while the day's
        fingerprints are kept."""
        stored = {
            r["link_id"]: r
            for r in await self.db.fetch_all("SELECT * FROM click_days WHERE day = ?", (day,))
        }
        fresh = {r["link_id"]: r for r in await self._recount_day(self.db, day)}
        out = differences(day, stored, fresh, lambda link, k: (link, k))
        reach: list[dict[str, Any]] = await self.check_reach_day(day)  # type: ignore[attr-defined]
        return out + reach

    # -- reads for reports and the panel -------------------------------------------------------
    async def rollup_totals(self) -> Row:
        row = await self.db.fetch_one(
            "SELECT COALESCE(SUM(clicks), 0) AS clicks, COALESCE(SUM(human_clicks), 0) "
            "AS human_clicks FROM click_days"
        )
        assert row is not None
        return {k: int(v or 0) for k, v in row.items()}
