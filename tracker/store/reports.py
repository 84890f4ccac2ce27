"""Queries behind the reports: the facts the ROI maths reads (costs and posts are
recorded through ``tracker.store.costs``).

Grouping that SQL does well (click counts per dimension, distinct visitors) happens here;
attribution credit is computed in Python at read time (``tracker.attribution``) so the model
is a parameter of every report and switching it needs no reprocessing.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, timedelta
from typing import Any

from tracker.core import clock
from tracker.store.base import StoreBase, money_sum
from tracker.store.click_days import next_day, split_range
from tracker.store.credits import PATH_TOUCHES_SQL, TOUCHES_SQL
from tracker.store.engine import Row
from tracker.store.rollups import (
    BREAKDOWNS,
    REACH_GRAIN,
    REACH_GRAIN_COLUMNS,
    RECOUNT_COLUMNS,
    RECOUNT_REACH_COLUMNS,
)

#: Days or links per statement of the overlap's visitor read (parameters stay few).
_CHUNK = 400
#: Above this many (day, link) index seeks, the overlap reads the range in one pass.
_MAX_SEEKS = 100_000


def _marks(values: Sequence[Any]) -> str:
    return ", ".join("?" for _ in values)


def _days(first: str, end: str) -> Iterator[str]:
    """'YYYY-MM-DD' from ``first`` up to, not including, ``end``."""
    day, stop = date.fromisoformat(first), date.fromisoformat(end)
    while day < stop:
        yield day.isoformat()
        day += timedelta(days=1)


def _runs(days: tuple[str, str], kept: set[str]) -> list[tuple[tuple[str, str], bool]]:
    """['YYYY-MM-DD', 'YYYY-MM-DD') cut into runs of days in ``kept`` and not."""
    out: list[tuple[tuple[str, str], bool]] = []
    for day in _days(*days):
        inside = day in kept
        if out and out[-1][1] == inside:
            out[-1] = ((out[-1][0][0], next_day(day)), inside)
        else:
            out.append(((day, next_day(day)), inside))
    return out


_FACTS = ("clicks", "human_clicks", "unique_clicks", "unique_visitors")

#: SQL for a click's dimension key; ``tier`` is built from thresholds at call time.
CLICK_DIMENSIONS = {
    "creator": "c.creator_id",
    "campaign": "l.campaign_id",
    "link": "c.link_id",
    "platform": "cr.platform",
    "category": "cr.category",
    "content_type": "l.content_type",
    "country": "c.country",
    "variant": "c.variant",
    **BREAKDOWNS,
}
#: Click columns a report may filter on (``?country=``, ``?variant=``, ``?link_id=``), and
#: the breakdown's ``campaign_id`` (the clicks of the campaign's links).
CLICK_FILTERS = ("country", "variant", "link_id", "campaign_id")
#: The raw counts when the caller shows no unique figure (``distinct=False``).
CHEAP_COLUMNS = (
    "COUNT(*) AS clicks, SUM(CASE WHEN c.is_bot = 0 THEN 1 ELSE 0 END) AS human_clicks, "
    "0 AS unique_clicks, 0 AS unique_visitors"
)
#: Dimensions and filters ``click_days`` (per day and link) does not keep: the reach roll-up
#: (``click_reach_days``, per day, link, country and variant) serves its sealed days.
REACH_ONLY = ("country", "variant")


def _filters(t: str, where: tuple[tuple[str, str], ...], dialect: str) -> str:
    """The SQL of the click filters on ``t`` (the clicks or a roll-up), a ? each: a link or
    creator by plain equality (an index of the breakdown roll-up serves it), a campaign by
    its links (PostgreSQL: as an array, so the roll-up's key is sought once per link; an
    IN subquery was a hash join over the whole range, 655 ms against 30 ms for 125 links
    over 60 days of 2,500 links), a country or variant with '' for none."""
    links = "SELECT cl.id FROM links cl WHERE cl.campaign_id = ?"
    sql = {
        "campaign_id": f"AND {t}.link_id = ANY(ARRAY({links})) "
        if dialect == "postgres"
        else f"AND {t}.link_id IN ({links}) ",
        "link_id": f"AND {t}.link_id = ? ",
        "creator_id": f"AND {t}.creator_id = ? ",
    }
    return "".join(sql.get(column, f"AND COALESCE({t}.{column}, '') = ? ") for column, _ in where)


def tier_sql(tiers: tuple[tuple[str, int], ...]) -> tuple[str, list[Any]]:
    whens, params = [], []
    for name, minimum in tiers:
        whens.append("WHEN cr.followers >= ? THEN ?")
        params += [minimum, name]
    return f"CASE {' '.join(whens)} ELSE ? END", [*params, tiers[-1][0]]


def _key(dimension: str, raw: bool, tiers: tuple[tuple[str, int], ...]) -> tuple[str, list[Any]]:
    """The SQL of a click's ``dimension`` key on the raw clicks ``c`` or a roll-up ``r``, and
    its parameters (a tier's thresholds; the breakdown roll-up's dimension, which its
    caller puts first in the WHERE clause)."""
    if dimension == "tier":
        return tier_sql(tiers)
    if dimension in BREAKDOWNS:  # '' and NULL: one "(none)" key from either source
        return (
            (f"NULLIF({BREAKDOWNS[dimension]}, '')", [])
            if raw
            else ("NULLIF(r.value, '')", [dimension])
        )
    key = CLICK_DIMENSIONS[dimension].replace("c.", "c." if raw else "r.", 1)
    # the reach roll-up keeps none as ''
    return (f"NULLIF({key}, '')" if not raw and dimension in REACH_ONLY else key), []


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
        unique_clicks: bool = True,
        where: tuple[tuple[str, str], ...] = (),
        creator_id: str | None = None,
    ) -> list[Row]:
        """Clicks per dimension key (and day) in [start, end): all, human, unique clicks,
        unique visitors (definitions: migration 0070 and the README). Whole UTC days come
        from the day roll-ups, the partial edges of the range from the raw clicks, by the
        same definitions: ``click_days`` (per link; the ``link_id`` and ``campaign_id``
        filters), or for a country or variant dimension or filter ``click_reach_days`` for
        its sealed days, for a device, os, browser or referrer dimension (``BREAKDOWNS``:
        no country or variant filter) ``click_breakdown_days`` or, unfiltered,
        ``click_breakdown_totals`` (the days not sealed yet from the raw clicks too).

        ``distinct=False`` reports the two unique columns as 0 (callers that show neither);
        ``unique_clicks=False`` reports unique clicks as 0 (the panel's ROI table shows
        unique visitors alone); ``creator_id``: that creator's clicks only (a creator's own
        figures, ``tracker.reports.scoped``)."""
        for column, _ in where:
            if column not in CLICK_FILTERS:
                raise ValueError(f"not a click filter: {column}")
        reach = dimension in REACH_ONLY or any(column in REACH_ONLY for column, _ in where)
        if reach and dimension in BREAKDOWNS:
            raise ValueError(f"no country or variant filter on a {dimension} breakdown")
        mine = (("creator_id", creator_id),) if creator_id else ()
        spans, edges = await self._sources(dimension, reach, start, end, bool(where or mine))
        parts: list[Row] = []
        for rollup, span in spans:
            parts += await self._facts(rollup, dimension, span, tiers, daily, (*where, *mine))
        for edge in edges:
            parts += await self._facts(
                "clicks c", dimension, edge, tiers, daily, (*where, *mine), distinct
            )
        shown = {
            "clicks",
            "human_clicks",
            *(("unique_visitors",) if distinct else ()),
            *(("unique_clicks",) if distinct and unique_clicks else ()),
        }
        merged: dict[tuple[Any, Any], Row] = {}
        for r in parts:
            k = (r["key"], r.get("day"))
            if k not in merged:
                merged[k] = {"key": r["key"], **({"day": r["day"]} if daily else {})}
                merged[k].update(dict.fromkeys(_FACTS, 0))
            for f in _FACTS:
                merged[k][f] += int(r[f] or 0) if f in shown else 0
        return list(merged.values())

    async def _sources(
        self, dimension: str, reach: bool, start: str, end: str, filtered: bool
    ) -> tuple[list[tuple[str, tuple[str, str]]], list[tuple[str, str]]]:
        """[start, end) -> (roll-up, span of days) pairs and the instant ranges read raw:
        whole days from ``click_days``, or for a reach dimension or filter or a breakdown
        its roll-up's sealed days (the other days raw), the partial edges raw; a
        breakdown of every click (not ``filtered``) from the portfolio's rows."""
        days, edges = split_range(start, end)
        if not days:
            return [], edges
        if not (reach or dimension in BREAKDOWNS):
            return [("click_days r", days)], edges
        rollup = "click_reach_days r"
        if dimension in BREAKDOWNS:  # the portfolio's own rows when the clicks are all
            rollup = "click_breakdown_days r" if filtered else "click_breakdown_totals r"
        runs = _runs(days, await self.sealed_reach_days(*days))  # type: ignore[attr-defined]
        return [(rollup, run) for run, kept in runs if kept], edges + [
            run for run, kept in runs if not kept
        ]

    async def _facts(
        self,
        source: str,
        dimension: str,
        span: tuple[str, str],
        tiers: tuple[tuple[str, int], ...],
        daily: bool,
        where: tuple[tuple[str, str], ...] = (),
        distinct: bool = True,
    ) -> list[Row]:
        """One range's facts from a roll-up (``click_days r``, ``click_reach_days r``,
        ``click_breakdown_days r`` or ``click_breakdown_totals r``, a span of days) or the
        raw clicks (``clicks c``, a span of instants); ``where``: the click filters the
        source keeps, and ``creator_id``."""
        raw = source.startswith("clicks")
        t = "c" if raw else "r"
        key, params = _key(dimension, raw, tiers)
        day = (", substr(c.at, 1, 10) AS day" if raw else ", r.day AS day") if daily else ""
        group = "1, 2" if daily else "1"  # by position: PostgreSQL sees each ? as a new value
        # Join only what the key reads: orphan visits (link_id NULL) never count, and links
        # are never deleted, so the links join is needed only for link attributes.
        joins, link_filter = "", f"{t}.link_id IS NOT NULL AND "
        if not raw and dimension in BREAKDOWNS:
            link_filter = "r.dimension = ? AND "  # the roll-ups' rows all have a link
        if dimension in ("campaign", "content_type"):
            joins, link_filter = f"JOIN links l ON l.id = {t}.link_id ", ""
        if dimension in ("tier", "platform", "category"):
            joins += f"LEFT JOIN creators cr ON cr.id = {t}.creator_id "
        # a visitor counts once per day and link, and per country and variant in a report
        # by or filtered on either (the grain of click_reach_days, so both sources agree)
        reach = dimension in REACH_ONLY or any(column in REACH_ONLY for column, _ in where)
        figures = (
            (RECOUNT_REACH_COLUMNS if reach else RECOUNT_COLUMNS) if distinct else CHEAP_COLUMNS
        )
        grain = ""
        if not raw:
            figures = ", ".join(f"SUM(r.{f}) AS {f}" for f in _FACTS)
        elif (reach or dimension in BREAKDOWNS) and distinct and self.db.dialect == "sqlite":
            # Counted per key, day and reach grain (small distinct sets, as the seal counts),
            # then summed per key: SQLite's distinct sets over a whole key's clicks (long
            # concatenated keys) took 0.35-0.44 / 0.66-0.79 s CPU by country / variant for
            # 137k raw clicks at 10M, this 0.29-0.36 s; PostgreSQL's plan for it was slower.
            # A breakdown's key is its grain's value: per key, day and link.
            figures = REACH_GRAIN_COLUMNS
            grain = f", {'' if daily else 'substr(c.at, 1, 10), '}"
            grain += REACH_GRAIN if reach else "c.link_id"
        col = "c.at" if raw else "r.day"
        filters = _filters(t, where, self.db.dialect)
        sql = (
            f"SELECT {key} AS key{day}, {figures} FROM {source} {joins}"
            f"WHERE {link_filter}{col} >= ? AND {col} < ? {filters}GROUP BY {group}{grain}"
        )
        if grain:
            sums = ", ".join(f"SUM(x.{f}) AS {f}" for f in _FACTS)
            day = ", x.day" if daily else ""
            sql = f"SELECT x.key{day}, {sums} FROM ({sql}) x GROUP BY {group}"
        return await self.db.fetch_all(sql, (*params, *span, *(v for _, v in where)))

    async def credited_touches(
        self,
        start: str,
        end: str,
        *,
        creator_id: str | None = None,
        unstored: str | None = None,
        several: bool = False,
    ) -> list[Row]:
        """Matched touches of orders placed in [start, end), with whether the order counts;
        with ``creator_id``, only the orders that creator has a touch on (all their touches,
        so shares split as in the full report); with ``unstored`` (the reporting currency),
        only the orders the stored credit does not give in it: orders in another currency,
        and orders whose credit was never stored (written around the ingest: migration
        0091); ``several`` adds the orders stored in it with more than one kept touch
        (the data-driven model: the stored credit gives its single-touch orders alone)."""
        # The query starts from the shorter list: the unstored orders when asked for (from
        # the index orders_credit_read, migration 0091: those not stored, then those stored
        # in a currency either side of the report's; usually none), else the creator's.
        sql, params = _unstored(start, end, unstored, several) if unstored else ("", [])
        if creator_id:
            sql += (
                "AND EXISTS (SELECT 1 FROM touches m WHERE m.order_id = o.id AND "
                if unstored
                else "AND t.order_id IN (SELECT m.order_id FROM touches m WHERE "
            ) + "m.creator_id = ? AND m.matched = 1) "
            params.append(creator_id)
        return await self.db.fetch_all(
            TOUCHES_SQL + f"AND o.placed_at >= ? AND o.placed_at < ? {sql}"
            "ORDER BY t.order_id, t.at, t.id",
            (start, end, *params),
        )

    async def path_touches(self, start: str, end: str, unstored: str | None = None) -> list[Row]:
        """``credited_touches(start, end, unstored=unstored, several=True)`` with only the
        columns a creator path reads (the data-driven fit alone: no click lookup, a sixth of
        the columns to ship)."""
        sql, params = _unstored(start, end, unstored, True) if unstored else ("", [])
        return await self.db.fetch_all(
            PATH_TOUCHES_SQL + f"AND o.placed_at >= ? AND o.placed_at < ? {sql}"
            "ORDER BY t.order_id, t.at, t.id",
            (start, end, *params),
        )

    async def unattributed_orders(self, start: str, end: str) -> list[Row]:
        return await self.db.fetch_all(
            "SELECT o.id, o.external_id, o.placed_at, o.net_minor, o.currency, o.codes, "
            "o.click_ids FROM orders o WHERE o.placed_at >= ? AND o.placed_at < ? "
            # creator_id is the winner's (store_touches): set whenever a matched touch with
            # a creator exists, so the partial index orders_unattributed finds the rest
            "AND o.counted = 1 AND o.creator_id IS NULL AND NOT EXISTS (SELECT 1 FROM touches t "
            "WHERE t.order_id = o.id AND t.matched = 1 AND t.creator_id IS NOT NULL) "
            "ORDER BY o.placed_at",
            (start, end),
        )

    async def orders_of_customers(self, hashes: list[str], start: str, end: str) -> list[Row]:
        if self.db.dialect == "postgres":
            # One array parameter, not an IN list: asyncpg prepares every statement, and from
            # its sixth run PostgreSQL may keep a generic plan, which for 500 placeholders and
            # a date range scanned the range (0.6-0.8 s a chunk instead of 1-6 ms, issue 20).
            return await self.db.fetch_all(
                "SELECT id, customer_hash, placed_at, net_minor, currency FROM orders "
                "WHERE customer_hash = ANY(?::text[]) AND placed_at >= ? AND placed_at < ?",
                (hashes, start, end),
            )
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

    async def ledger_commission(self, start: str, end: str) -> list[Row]:
        """The commission the ledger owes on orders placed in [start, end): the sum of every
        entry (pending, approved, clawed back) per (creator, campaign, currency)."""
        return await self.db.fetch_all(
            "SELECT creator_id, campaign_id, currency, "
            f"{money_sum(self.db.dialect, 'amount_minor')} AS amount_minor "
            "FROM commission_entries WHERE placed_at >= ? AND placed_at < ? "
            "GROUP BY creator_id, campaign_id, currency",
            (start, end),
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
            # CASE fixes the order: PostgreSQL evaluated the clicks EXISTS for orders without
            # a fingerprint too (40 s at 10M clicks); a CASE branch runs only when reached
            "CASE WHEN EXISTS (SELECT 1 FROM touches t2 WHERE t2.order_id = o.id "
            "AND t2.method = 'click' AND t2.creator_id = t.creator_id) THEN 1 "
            "WHEN o.fingerprint IS NULL THEN 0 "
            "WHEN EXISTS (SELECT 1 FROM clicks c WHERE c.fingerprint = o.fingerprint "
            "AND c.creator_id = t.creator_id AND c.is_bot = 0 AND c.at >= ? "
            "AND c.at <= o.placed_at) THEN 1 ELSE 0 END "
            "AS had_click FROM touches t JOIN orders o ON o.id = t.order_id "
            "WHERE t.method = 'code' AND t.matched = 1 AND o.placed_at >= ? AND o.placed_at < ?",
            (_days_before(start, click_days), start, end),
        )

    async def customers_by_creator(self, creator_ids: list[str], start: str, end: str) -> list[Row]:
        """Distinct (creator, customer) of the matched touches of orders placed in
        [start, end), for these creators (the overview's customer overlap)."""
        if not creator_ids:
            return []
        # The range's orders first, then their touches: SQLite otherwise starts from the
        # top creators' touches of all time (a CROSS JOIN fixes its order; PostgreSQL
        # plans by cost and has no CROSS JOIN ... ON).
        join = "CROSS JOIN" if self.db.dialect == "sqlite" else "JOIN"
        return await self.db.fetch_all(
            f"SELECT DISTINCT t.creator_id, o.customer_hash FROM orders o {join} touches t "
            "ON t.order_id = o.id WHERE o.placed_at >= ? AND o.placed_at < ? "
            "AND o.customer_hash IS NOT NULL AND t.matched = 1 "
            f"AND t.creator_id IN ({', '.join('?' for _ in creator_ids)})",
            (start, end, *creator_ids),
        )

    async def visitor_rows(self, creator_ids: list[str], start: str, end: str) -> int:
        """How many rows ``fingerprints_by_creator`` reads without a sample: the day
        roll-ups' unique visitors of whole days (one row per visitor, day and link), the
        partial edges' human clicks with a fingerprint."""
        if not creator_ids:
            return 0
        marks = ", ".join("?" for _ in creator_ids)
        days, edges = split_range(start, end)
        total = 0
        if days:
            row = await self.db.fetch_one(
                "SELECT CAST(COALESCE(SUM(unique_visitors), 0) AS BIGINT) AS n FROM click_days "
                f"WHERE creator_id IN ({marks}) AND day >= ? AND day < ?",
                (*creator_ids, *days),
            )
            total += int(row["n"]) if row else 0
        for edge in edges:
            row = await self.db.fetch_one(
                "SELECT COUNT(*) AS n FROM clicks WHERE is_bot = 0 AND fingerprint IS NOT NULL "
                f"AND creator_id IN ({marks}) AND at >= ? AND at < ?",
                (*creator_ids, *edge),
            )
            total += int(row["n"]) if row else 0
        return total

    async def fingerprints_by_creator(
        self, creator_ids: list[str], start: str, end: str, below: str | None = None
    ) -> list[Row]:
        """(creator, fingerprint) of human clicks in [start, end), repeated across days and
        links (the caller keeps sets): whole UTC days from the day visitor sets
        (``click_visitors``: no read of the clicks table, no sort), the partial edges from
        the raw clicks; with ``below``, only fingerprints that sort before it (a hash
        sample: ``tracker.reports.portfolio.visitor_sample``)."""
        if not creator_ids:
            return []
        days, edges = split_range(start, end)
        out = await self._day_visitors(creator_ids, days, below) if days else []
        sample = "AND v.fingerprint < ? " if below else ""
        for start_at, end_at in edges:
            out += await self.db.fetch_all(
                "SELECT DISTINCT creator_id, fingerprint FROM clicks v WHERE is_bot = 0 "
                f"AND fingerprint IS NOT NULL AND creator_id IN ({_marks(creator_ids)}) "
                f"AND at >= ? AND at < ? {sample}",
                (*creator_ids, start_at, end_at, *([below] if below else [])),
            )
        return out

    async def _day_visitors(
        self, creator_ids: list[str], days: tuple[str, str], below: str | None
    ) -> list[Row]:
        """The visitor sets' part of ``fingerprints_by_creator``: one index seek per (day,
        link), each reading only its sampled visitors; one pass over the range when that
        would be more than ``_MAX_SEEKS`` seeks."""
        sample, tail = ("AND v.fingerprint < ? ", (below,)) if below else ("", ())
        owner = {
            r["id"]: r["creator_id"]
            for r in await self.db.fetch_all(
                f"SELECT id, creator_id FROM links WHERE creator_id IN ({_marks(creator_ids)})",
                tuple(creator_ids),
            )
        }
        held = await self.db.fetch_one(  # each aggregate its own subquery: an index edge
            "SELECT (SELECT MIN(day) FROM click_visitors) AS lo, "
            "(SELECT MAX(day) FROM click_visitors) AS hi"
        )
        if not held or held["lo"] is None:
            return []
        lo, hi = max(days[0], held["lo"]), min(days[1], next_day(held["hi"]))
        day_list, links = list(_days(lo, hi)), list(owner)
        if len(day_list) * len(links) > _MAX_SEEKS:
            return await self.db.fetch_all(
                "SELECT l.creator_id, v.fingerprint FROM links l "
                "JOIN click_visitors v ON v.link_id = l.id "
                f"WHERE l.creator_id IN ({_marks(creator_ids)}) AND v.day >= ? AND v.day < ? "
                f"{sample}",
                (*creator_ids, lo, hi, *tail),
            )
        out: list[Row] = []
        for d in range(0, len(day_list), _CHUNK):
            for k in range(0, len(links), _CHUNK):
                dp, lp = day_list[d : d + _CHUNK], links[k : k + _CHUNK]
                rows = await self.db.fetch_all(
                    "SELECT v.link_id, v.fingerprint FROM click_visitors v "
                    f"WHERE v.day IN ({_marks(dp)}) AND v.link_id IN ({_marks(lp)}) {sample}",
                    (*dp, *lp, *tail),
                )
                out += [
                    {"creator_id": owner[r["link_id"]], "fingerprint": r["fingerprint"]}
                    for r in rows
                ]
        return out


def _days_before(at: str, days: int) -> str:
    from datetime import timedelta

    return clock.shift(at, -timedelta(days=days))


def _unstored(start: str, end: str, currency: str, several: bool) -> tuple[str, list[Any]]:
    """``credited_touches``' filter to the orders the stored credit does not give in
    ``currency`` (and, ``several``, those it stores with more than one kept touch: the
    orders with a row of seq 1, one per order under model 'first')."""
    span = "AND u.placed_at >= ? AND u.placed_at < ?"
    branches = [
        f"SELECT u.id FROM orders u WHERE u.credit_stored = 0 {span}",
        f"SELECT u.id FROM orders u WHERE u.credit_stored = 1 AND u.currency < ? {span}",
        f"SELECT u.id FROM orders u WHERE u.credit_stored = 1 AND u.currency > ? {span}",
    ]
    params: list[Any] = [start, end, currency, start, end, currency, start, end]
    if several:
        branches.append(
            "SELECT u.order_id FROM order_credits u WHERE u.model = 'first' AND u.seq = 1 "
            f"AND u.currency = ? {span}"
        )
        params += [currency, start, end]
    return f"AND o.id IN ({' UNION ALL '.join(branches)}) ", params
