"""The reach roll-up (``click_reach_days``, migration 0092): clicks per closed UTC day,
link, country and variant, sealed a day at a time by the reach job
(``tracker/clicks/reach.py``); the click writer adds late clicks of closed days
(``tracker/store/rollups.py``). Reads take sealed days from it, other days from the raw
clicks (``tracker/store/reports.py``)."""

from __future__ import annotations

from typing import Any

from tracker.core import clock
from tracker.store.base import StoreBase
from tracker.store.engine import Conn, Row
from tracker.store.rollups import REBUILD_REACH, RECOUNT_REACH, closed_before

_FIGURES = ("clicks", "human_clicks")


class ReachDayQueries(StoreBase):
    async def unsealed_reach_days(self, closed: str) -> list[str]:
        """Closed days (before ``closed``) that hold raw clicks and are not sealed, newest
        first (what a report is most likely to ask for)."""
        rows = await self.db.fetch_all(
            "SELECT DISTINCT d.day FROM click_days d WHERE d.day < ? AND d.day >= "
            "(SELECT substr(MIN(at), 1, 10) FROM clicks WHERE link_id IS NOT NULL) "
            "AND NOT EXISTS (SELECT 1 FROM click_reach_sealed s WHERE s.day = d.day) "
            "ORDER BY d.day DESC",
            (closed,),
        )
        return [str(r["day"]) for r in rows]

    async def seal_reach_day(self, day: str) -> bool:
        """Recount a closed day's reach rows from its raw clicks and seal it, in one
        transaction (the SQLite click writer waits for it; on PostgreSQL two nodes sealing
        at once take turns on ``click_reach_sealed``, which the writer never touches).
        False when the day was sealed already."""
        async with self.db.transaction() as tx:
            if self.db.dialect == "postgres":
                await tx.execute("LOCK TABLE click_reach_sealed IN EXCLUSIVE MODE")
            if await tx.fetch_one("SELECT 1 FROM click_reach_sealed WHERE day = ?", (day,)):
                return False
            await self.recount_reach_day(tx, day, closed=day + "U")
        return True

    async def recount_reach_day(self, tx: Conn, day: str, *, closed: str | None = None) -> None:
        """Inside ``tx``: the day's reach rows recounted; sealed when the day is closed
        (before ``closed``, default now's), else left unsealed (its rows are then only
        a writer's partial count, which reads ignore)."""
        closed = closed_before(clock.now()) if closed is None else closed
        await tx.execute("DELETE FROM click_reach_days WHERE day = ?", (day,))
        await tx.execute("DELETE FROM click_reach_sealed WHERE day = ?", (day,))
        if day < closed:
            await tx.execute(REBUILD_REACH, (day, day + "U"))
            await tx.execute(
                "INSERT INTO click_reach_sealed (day, sealed_at) VALUES (?, ?)",
                (day, clock.now_iso()),
            )

    async def sealed_reach_days(self, first: str, last: str) -> set[str]:
        """The sealed days in ['YYYY-MM-DD', 'YYYY-MM-DD')."""
        rows = await self.db.fetch_all(
            "SELECT day FROM click_reach_sealed WHERE day >= ? AND day < ?", (first, last)
        )
        return {str(r["day"]) for r in rows}

    async def check_reach_day(self, day: str) -> list[dict[str, Any]]:
        """Where a sealed day's reach rows differ from a recount (its figure names the
        country and variant, '-' for none); an unsealed day is never read, so not checked."""
        if not await self.db.fetch_one("SELECT 1 FROM click_reach_sealed WHERE day = ?", (day,)):
            return []
        keys = ("link_id", "country", "variant")

        async def rows(sql: str, params: tuple[str, ...]) -> dict[tuple[Any, ...], Row]:
            return {tuple(r[k] for k in keys): r for r in await self.db.fetch_all(sql, params)}

        stored = await rows("SELECT * FROM click_reach_days WHERE day = ?", (day,))
        fresh = await rows(RECOUNT_REACH, (day, day + "U"))
        out = []
        for key in sorted(set(stored) | set(fresh)):
            a, b = stored.get(key, {}), fresh.get(key, {})
            for k in _FIGURES:
                x, y = int(a.get(k) or 0), int(b.get(k) or 0)
                if x != y:
                    out.append(
                        {
                            "day": day,
                            "link_id": key[0],
                            "figure": f"{k} in ({key[1] or '-'}, {key[2] or '-'})",
                            "rollup": x,
                            "recount": y,
                        }
                    )
        return out
