"""The reach roll-up (``click_reach_days``, migration 0092): the report figures per closed
UTC day, link, country and variant, sealed a day at a time by the reach job
(``tracker/clicks/reach.py``); a click batch holding a late click of a closed day unseals
it (``tracker/store/rollups.py``). Reads take sealed days from it, other days from the raw
clicks (``tracker/store/reports.py``)."""

from __future__ import annotations

from typing import Any

from tracker.core import clock
from tracker.store.base import StoreBase
from tracker.store.engine import Conn, Row
from tracker.store.rollups import (
    FIGURES,
    RECOUNT_REACH,
    closed_before,
    differences,
    keep_erased_uniques,
)

_KEY = ("link_id", "country", "variant")
_COLUMNS = ("day", *_KEY, "creator_id", *FIGURES)
_ROW = f"({', '.join('?' for _ in _COLUMNS)})"
#: Rows per INSERT (900 parameters): a day of thousands of rows in a few statements, so the
#: transaction the SQLite click writer waits for stays short.
_CHUNK = 100


def _key(r: Row) -> tuple[Any, ...]:
    return tuple(r[k] for k in _KEY)


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
        """Recount a closed day's reach rows from its raw clicks and seal it. The count is
        read outside any write transaction (the SQLite click writer does not wait for it);
        the rows are written in one short transaction, which counts the day's clicks again
        first and recounts inside it should a late click have come in meanwhile. On
        PostgreSQL it locks ``click_reach_sealed``, which a click batch unseals late days
        in, so a batch and a seal take turns. False when the day was sealed already."""
        fresh = await self.db.fetch_all(RECOUNT_REACH, (day, day + "U"))
        async with self.db.transaction() as tx:
            if self.db.dialect == "postgres":
                await tx.execute("LOCK TABLE click_reach_sealed IN EXCLUSIVE MODE")
            if await tx.fetch_one("SELECT 1 FROM click_reach_sealed WHERE day = ?", (day,)):
                return False
            now = await tx.fetch_one(
                "SELECT COUNT(*) AS n FROM clicks WHERE at >= ? AND at < ? AND link_id IS NOT NULL",
                (day, day + "U"),
            )
            if now is None or int(now["n"]) != sum(int(r["clicks"]) for r in fresh):
                fresh = await tx.fetch_all(RECOUNT_REACH, (day, day + "U"))
            await self._write_reach_day(tx, day, fresh)
        return True

    async def recount_reach_day(self, tx: Conn, day: str) -> None:
        """Inside ``tx`` (``tracker rollups rebuild``): the day's reach rows recounted and
        sealed when the day is closed, else unsealed."""
        if day < closed_before(clock.now()):
            await self._write_reach_day(
                tx, day, await tx.fetch_all(RECOUNT_REACH, (day, day + "U"))
            )
        else:
            await tx.execute("DELETE FROM click_reach_days WHERE day = ?", (day,))
            await tx.execute("DELETE FROM click_reach_sealed WHERE day = ?", (day,))

    async def _write_reach_day(self, tx: Conn, day: str, fresh: list[Row]) -> None:
        """Replace the day's rows with ``fresh`` and seal it (a row whose fingerprints
        retention erased keeps its unique counts: ``keep_erased_uniques``)."""
        old = {
            _key(r): r
            for r in await tx.fetch_all(
                "SELECT link_id, country, variant, unique_clicks, unique_visitors "
                "FROM click_reach_days WHERE day = ?",
                (day,),
            )
        }
        await tx.execute("DELETE FROM click_reach_days WHERE day = ?", (day,))
        await tx.execute("DELETE FROM click_reach_sealed WHERE day = ?", (day,))
        values = []
        for r in fresh:
            keep_erased_uniques(r, old.get(_key(r)))
            values.append((day, *_key(r), r["creator_id"], *(int(r[f] or 0) for f in FIGURES)))
        for i in range(0, len(values), _CHUNK):
            chunk = values[i : i + _CHUNK]
            await tx.execute(
                f"INSERT INTO click_reach_days ({', '.join(_COLUMNS)}) VALUES "
                + ", ".join([_ROW] * len(chunk)),
                [v for row in chunk for v in row],
            )
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
        country and variant, '-' for none); unique counts only while the row's
        fingerprints are kept. An unsealed day is never read, so not checked."""
        if not await self.db.fetch_one("SELECT 1 FROM click_reach_sealed WHERE day = ?", (day,)):
            return []
        stored = {
            _key(r): r
            for r in await self.db.fetch_all("SELECT * FROM click_reach_days WHERE day = ?", (day,))
        }
        fresh = {_key(r): r for r in await self.db.fetch_all(RECOUNT_REACH, (day, day + "U"))}
        return differences(
            day,
            stored,
            fresh,
            lambda key, k: (key[0], f"{k} in ({key[1] or '-'}, {key[2] or '-'})"),
        )
