"""The reach roll-ups, sealed together a closed UTC day at a time by the reach job
(``tracker/clicks/reach.py``): ``click_reach_days`` (migration 0092: the report figures per
day, link, country and variant), ``click_breakdown_days`` (migration 0094: per day, link,
and device, OS, browser or referrer host) and ``click_breakdown_totals`` (the latter summed
over the links: the whole portfolio's breakdown). One seal (``click_reach_sealed``) covers
them all; a click batch holding a late click of a closed day unseals it
(``tracker/store/rollups.py``). Reads take sealed days from them, other days from the raw
clicks (``tracker/store/reports.py``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tracker.core import clock
from tracker.store.base import StoreBase
from tracker.store.engine import Conn, Row
from tracker.store.rollups import (
    BREAKDOWNS,
    FIGURES,
    RECOUNT_BREAKDOWN,
    RECOUNT_REACH,
    closed_before,
    differences,
    keep_erased_uniques,
)

#: Rows per INSERT (900 parameters): a day of thousands of rows in a few statements, so the
#: transaction the SQLite click writer waits for stays short.
_CHUNK = 100


@dataclass(frozen=True)
class _Rollup:
    """One sealed roll-up: its table, its key within a day (and whether its rows name
    their creator), its recount (statements run in turn, params: day, day + 'U'; none:
    summed from another's rows) and its rows of one day (``day_rows``, param: the day: the
    portfolio's breakdown is keyed by dimension first, so a day is one seek per
    dimension)."""

    table: str
    key: tuple[str, ...]
    recount: tuple[str, ...] = ()
    dimensions: tuple[str, ...] = ()
    creator: bool = True

    @property
    def day_rows(self) -> str:
        within = ", ".join(f"'{d}'" for d in self.dimensions)
        return f"dimension IN ({within}) AND day = ?" if within else "day = ?"

    def key_of(self, r: Row) -> tuple[Any, ...]:
        return tuple(r[k] for k in self.key)

    async def fresh(self, conn: Conn, day: str) -> list[Row]:
        return [r for sql in self.recount for r in await conn.fetch_all(sql, (day, day + "U"))]


_REACH = _Rollup("click_reach_days", ("link_id", "country", "variant"), (RECOUNT_REACH,))
_LINKS = _Rollup(
    "click_breakdown_days", ("link_id", "dimension", "value"), RECOUNT_BREAKDOWN
)  # a day's rows by its index on the day
_TOTALS = _Rollup(
    "click_breakdown_totals", ("dimension", "value"), dimensions=tuple(BREAKDOWNS), creator=False
)


def _summed(rows: list[Row]) -> list[Row]:
    """Breakdown rows per link -> per (dimension, value) over the links: the portfolio's
    (a visitor once per day, link and value, as the rows count them)."""
    out: dict[tuple[Any, ...], Row] = {}
    for r in rows:
        key = _TOTALS.key_of(r)
        if key not in out:
            out[key] = {"dimension": key[0], "value": key[1], "kept_prints": 0}
            out[key].update(dict.fromkeys(FIGURES, 0))
        for f in (*FIGURES, "kept_prints"):
            out[key][f] += int(r[f] or 0)
    return list(out.values())


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
        """Recount a closed day's rows of the reach roll-ups from its raw clicks and seal
        it. The counts are read outside any write transaction (the SQLite click writer does
        not wait for them); the rows are written in one short transaction, which counts the
        day's clicks again first and recounts inside it should a late click have come in
        meanwhile (before any of the recount's statements: each counts all the day's
        clicks). On PostgreSQL it locks ``click_reach_sealed``, which a click batch unseals
        late days in, so a batch and a seal take turns. False when the day was sealed
        already."""
        fresh = [await _REACH.fresh(self.db, day), await _LINKS.fresh(self.db, day)]
        async with self.db.transaction() as tx:
            if self.db.dialect == "postgres":
                await tx.execute("LOCK TABLE click_reach_sealed IN EXCLUSIVE MODE")
            if await tx.fetch_one("SELECT 1 FROM click_reach_sealed WHERE day = ?", (day,)):
                return False
            now = await tx.fetch_one(
                "SELECT COUNT(*) AS n FROM clicks WHERE at >= ? AND at < ? AND link_id IS NOT NULL",
                (day, day + "U"),
            )
            n = int(now["n"]) if now else -1
            if [sum(int(r["clicks"]) for r in rows) for rows in fresh] != [n, n * len(BREAKDOWNS)]:
                fresh = [await _REACH.fresh(tx, day), await _LINKS.fresh(tx, day)]
            await self._write_reach_day(tx, day, fresh)
        return True

    async def recount_reach_day(self, tx: Conn, day: str) -> None:
        """Inside ``tx`` (``tracker rollups rebuild``): the day's rows of the reach
        roll-ups recounted and sealed when the day is closed, else unsealed."""
        if day < closed_before(clock.now()):
            fresh = [await _REACH.fresh(tx, day), await _LINKS.fresh(tx, day)]
            await self._write_reach_day(tx, day, fresh)
            return
        for rollup in (_REACH, _LINKS, _TOTALS):
            await tx.execute(f"DELETE FROM {rollup.table} WHERE {rollup.day_rows}", (day,))
        await tx.execute("DELETE FROM click_reach_sealed WHERE day = ?", (day,))

    async def _write_reach_day(self, tx: Conn, day: str, fresh: list[list[Row]]) -> None:
        """Replace the day's rows of the reach and breakdown roll-ups with their ``fresh``
        rows, and the portfolio's breakdown with their sums, and seal the day (a row whose
        fingerprints retention erased keeps its unique counts: ``keep_erased_uniques``)."""
        reach, links = fresh
        await _replace_day(tx, _REACH, day, reach)
        await _replace_day(tx, _LINKS, day, links)  # the kept unique counts in, then summed
        await _replace_day(tx, _TOTALS, day, _summed(links))
        await tx.execute("DELETE FROM click_reach_sealed WHERE day = ?", (day,))
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
        """Where a sealed day's rows of a reach roll-up differ from a recount (its figure
        names the key: ``clicks in (DE, -)`` for a country and no variant, ``clicks in
        (referrer, -)`` for no referrer; the portfolio's rows have the link id ''); unique
        counts only while the row's fingerprints are kept. An unsealed day is never read,
        so not checked."""
        if not await self.db.fetch_one("SELECT 1 FROM click_reach_sealed WHERE day = ?", (day,)):
            return []
        links = await _LINKS.fresh(self.db, day)
        recounts = [await _REACH.fresh(self.db, day), links, _summed(links)]
        out: list[dict[str, Any]] = []
        for rollup, rows in zip((_REACH, _LINKS, _TOTALS), recounts, strict=True):
            stored = {
                rollup.key_of(r): r
                for r in await self.db.fetch_all(
                    f"SELECT * FROM {rollup.table} WHERE {rollup.day_rows}", (day,)
                )
            }
            fresh = {rollup.key_of(r): r for r in rows}
            if not rollup.creator:  # the portfolio's rows: no link of their own
                stored = {("", *k): r for k, r in stored.items()}
                fresh = {("", *k): r for k, r in fresh.items()}
            out += differences(
                day,
                stored,
                fresh,
                lambda key, k: (key[0], f"{k} in ({', '.join(v or '-' for v in key[1:])})"),
            )
        return out


async def _replace_day(tx: Conn, rollup: _Rollup, day: str, fresh: list[Row]) -> None:
    old = {
        rollup.key_of(r): r
        for r in await tx.fetch_all(
            f"SELECT {', '.join(rollup.key)}, unique_clicks, unique_visitors "
            f"FROM {rollup.table} WHERE {rollup.day_rows}",
            (day,),
        )
    }
    await tx.execute(f"DELETE FROM {rollup.table} WHERE {rollup.day_rows}", (day,))
    columns = ("day", *rollup.key, *(("creator_id",) if rollup.creator else ()), *FIGURES)
    one = f"({', '.join('?' for _ in columns)})"
    values = []
    for r in fresh:
        keep_erased_uniques(r, old.get(rollup.key_of(r)))
        creator = (r["creator_id"],) if rollup.creator else ()
        values.append((day, *rollup.key_of(r), *creator, *(int(r[f] or 0) for f in FIGURES)))
    for i in range(0, len(values), _CHUNK):
        chunk = values[i : i + _CHUNK]
        await tx.execute(
            f"INSERT INTO {rollup.table} ({', '.join(columns)}) VALUES "
            + ", ".join([one] * len(chunk)),
            [v for row in chunk for v in row],
        )
