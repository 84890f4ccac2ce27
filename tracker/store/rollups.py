"""Daily roll-ups of clicks (issue 19): one ``click_days`` row per (UTC day, link). A batch
holding clicks of *closed* days (a writer backlog's) unseals those days' reach roll-up
(``click_reach_sealed``, migration 0092), which the reach job then recounts
(``tracker/clicks/reach.py``).

Kept by the click writer inside the click batch's own transaction (``SQLiteEngine``'s click
thread calls ``sqlite_write_rollups``; PostgreSQL runs ``PG_CLICKS_AND_ROLLUPS``, the insert
and the roll-up in one statement), so a crash leaves both or neither. Definitions are in
migration 0070 and the README ("History at scale").

Unique counts are exact per (day, link): ``click_visitors`` holds, per day, link and
fingerprint of a human click, a 24-bit mask of the clock hours it was seen in. A batch's
visitor whose key is new adds one unique visitor; every hour bit it sets for the first
time adds one unique click. Each visitor of a batch is one upsert that returns the mask
the row had before it (``prev``). It holds fingerprints, so retention erases its days with the clicks'
fingerprints; the day's counts stay. Its error: none within a (day, link); over a range,
a visitor is counted once per day and link (the README's definition).

PostgreSQL with several nodes: ``prev`` is read under the row lock, so two nodes adding
the same visitor at once count it once. Rows are upserted in key order, so concurrent batches never deadlock.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from tracker.core import clock
from tracker.store.engine import CLICK_COLUMNS

#: A roll-up row's figures (the report definitions: migration 0070 and the README).
FIGURES = ("clicks", "human_clicks", "unique_clicks", "unique_visitors")
#: Seconds after its end that a UTC day is closed (its reach rows can be sealed).
CLOSE_AFTER = 3600

_ID, _AT, _LINK, _CREATOR, _FP, _BOT = (
    CLICK_COLUMNS.index(c) for c in ("id", "at", "link_id", "creator_id", "fingerprint", "is_bot")
)

#: Add a batch's counts to the day rows (additive, so concurrent writers never lose one).
ROLLUP_UPSERT = (
    "INSERT INTO click_days (day, link_id, creator_id, clicks, human_clicks, unique_clicks, "
    "unique_visitors, last_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (day, link_id) DO UPDATE SET clicks = click_days.clicks + excluded.clicks, "
    "human_clicks = click_days.human_clicks + excluded.human_clicks, "
    "unique_clicks = click_days.unique_clicks + excluded.unique_clicks, "
    "unique_visitors = click_days.unique_visitors + excluded.unique_visitors, "
    "last_at = CASE WHEN excluded.last_at > click_days.last_at "
    "THEN excluded.last_at ELSE click_days.last_at END"
)

#: Add a visitor's hours; ``prev`` keeps the mask before (read back on PostgreSQL).
VISITOR_UPSERT = (
    "INSERT INTO click_visitors (day, link_id, fingerprint, hours, prev) VALUES (?, ?, ?, ?, 0) "
    "ON CONFLICT (day, link_id, fingerprint) DO UPDATE SET prev = click_visitors.hours, "
    "hours = click_visitors.hours | excluded.hours"
)


_VISITOR_RETURNING = VISITOR_UPSERT + " RETURNING prev"

#: The reach roll-up's grain within a day: a visitor counts once per day, link, country and
#: variant in the country and variant reports and filters.
REACH_GRAIN = "c.link_id, COALESCE(c.country, ''), COALESCE(c.variant, '')"
#: The report figures of raw clicks ``c`` grouped by at least ``REACH_GRAIN`` and the UTC
#: day: each distinct count runs over one small group (a few clicks), never over a whole
#: report key's (tens of thousands of long concatenated keys a day: issue 19, the open day).
REACH_GRAIN_COLUMNS = (
    "COUNT(*) AS clicks, SUM(CASE WHEN c.is_bot = 0 THEN 1 ELSE 0 END) AS human_clicks, "
    "COUNT(DISTINCT CASE WHEN c.is_bot = 0 THEN COALESCE(c.fingerprint, c.id) || '|' || "
    "substr(c.at, 12, 2) END) AS unique_clicks, "
    "COUNT(DISTINCT CASE WHEN c.is_bot = 0 THEN c.fingerprint END) AS unique_visitors"
)

#: The breakdown roll-up's dimensions (``click_breakdown_days``, migration 0094) and the
#: click column each reads: a visitor counts once per day, link and value in a breakdown.
BREAKDOWNS = {
    "device": "c.device",
    "os": "c.os",
    "browser": "c.browser",
    "referrer": "c.referrer_host",
}


def _recount(keys: str, grain: str) -> str:
    """A closed day's roll-up rows recounted from its raw clicks (params: day, day + 'U'):
    ``keys`` (the row's key columns, selected) and ``grain`` (what they group by, with the
    link); the report definitions (``REACH_GRAIN_COLUMNS``) per (day, link and grain), and
    how many human clicks still have their fingerprint (0: the unique counts cannot be
    recounted)."""
    return (
        f"SELECT c.link_id, {keys}, MAX(c.creator_id) AS creator_id, {REACH_GRAIN_COLUMNS}, "
        "SUM(CASE WHEN c.is_bot = 0 AND c.fingerprint IS NOT NULL THEN 1 ELSE 0 END) "
        "AS kept_prints FROM clicks c WHERE c.at >= ? AND c.at < ? AND c.link_id IS NOT NULL "
        f"GROUP BY c.link_id, {grain}"
    )


#: A closed day's reach rows: per (day, link, country, variant).
RECOUNT_REACH = _recount(
    "COALESCE(c.country, '') AS country, COALESCE(c.variant, '') AS variant",
    "COALESCE(c.country, ''), COALESCE(c.variant, '')",
)
#: A closed day's breakdown rows: per (day, link, dimension, value), a statement per
#: dimension (SQLite reads on one connection: a statement of all four held every other read
#: for the seconds it took; one is about the reach recount's time).
RECOUNT_BREAKDOWN = tuple(
    _recount(f"'{name}' AS dimension, COALESCE({column}, '') AS value", f"COALESCE({column}, '')")
    for name, column in BREAKDOWNS.items()
)


class _Day:
    __slots__ = ("clicks", "creator", "human", "last", "uclicks", "visitors")

    def __init__(self, creator: str | None, at: str) -> None:
        self.creator, self.last = creator, at
        self.clicks = self.human = self.uclicks = self.visitors = 0


def closed_before(now: float) -> str:
    """The first day not closed at ``now``: a UTC day closes an hour after it ends."""
    return clock.iso(now - CLOSE_AFTER)[:10]


def _group(
    rows: Sequence[tuple[Any, ...]],
    closed: str = "",
) -> tuple[dict[tuple[str, str], _Day], dict[tuple[str, str, str], int], set[str]]:
    """Per (day, link): counts; per (day, link, fingerprint) of a human click: a bit per
    clock hour it was seen in this batch; the days of its clicks before ``closed``."""
    days: dict[tuple[str, str], _Day] = {}
    visitors: dict[tuple[str, str, str], int] = {}
    late: set[str] = set()
    for r in rows:
        link = r[_LINK]
        if link is None:
            continue
        at = r[_AT]
        day = at[:10]
        d = days.get((day, link))
        if d is None:
            d = days[(day, link)] = _Day(r[_CREATOR], at)
            if day < closed:  # a late click: its day's reach roll-up must be recounted
                late.add(day)
        d.clicks += 1
        d.last = max(d.last, at)
        if r[_BOT]:
            continue
        d.human += 1
        fp = r[_FP]
        if fp is None:
            d.uclicks += 1
        else:
            key = (day, link, fp)
            visitors[key] = visitors.get(key, 0) | (1 << int(at[11:13]))
    return days, visitors, late


def sqlite_write_rollups(conn: sqlite3.Connection, rows: Sequence[tuple[Any, ...]]) -> None:
    """Inside the click batch's transaction: add the batch to ``click_visitors`` (one
    upsert per visitor, returning its mask before) and ``click_days``; unseal the reach
    roll-up of any closed day it holds (``tracker/store/reach_days.py``)."""
    days, visitors, late = _group(rows, closed_before(clock.now()))
    upsert = conn.execute
    for key, hours in visitors.items():
        (before,) = upsert(_VISITOR_RETURNING, (*key, hours)).fetchone()
        new = hours & ~before
        if new:
            d = days[(key[0], key[1])]
            d.uclicks += new.bit_count()
            d.visitors += 0 if before else 1
    conn.executemany(ROLLUP_UPSERT, _params(days))
    if late:
        conn.executemany("DELETE FROM click_reach_sealed WHERE day = ?", [(d,) for d in late])


def _params(days: dict[tuple[str, str], _Day]) -> list[tuple[Any, ...]]:
    return [
        (day, link, d.creator, d.clicks, d.human, d.uclicks, d.visitors, d.last)
        for (day, link), d in days.items()
    ]


_PG_TYPES = {"is_bot": "int", "is_prefetch": "int"}

#: PostgreSQL: the batch (one array per column) inserted and rolled up in ONE statement,
#: one round trip. The visitors' upsert returns each mask before it (``prev``, read under
#: the row's lock), so concurrent nodes never count one visitor twice.
PG_CLICKS_AND_ROLLUPS = (
    "WITH b AS (SELECT * FROM unnest("
    + ", ".join(f"${i + 1}::{_PG_TYPES.get(c, 'text')}[]" for i, c in enumerate(CLICK_COLUMNS))
    + f") AS b ({', '.join(CLICK_COLUMNS)})), "
    f"ins AS (INSERT INTO clicks ({', '.join(CLICK_COLUMNS)}) SELECT * FROM b "
    "ON CONFLICT DO NOTHING RETURNING at, link_id, creator_id, fingerprint, is_bot, id), "
    "n AS (SELECT substr(at, 1, 10) AS day, link_id, creator_id, fingerprint, is_bot, at, id "
    "FROM ins WHERE link_id IS NOT NULL), "
    "unseal AS (DELETE FROM click_reach_sealed WHERE day IN (SELECT day FROM n WHERE day < "
    f"to_char((now() AT TIME ZONE 'UTC') - interval '{CLOSE_AFTER} seconds', 'YYYY-MM-DD'))), "
    "h AS (SELECT day, link_id, fingerprint, "
    "bit_or(CAST(1 AS BIGINT) << CAST(substr(at, 12, 2) AS INT)) AS hours FROM n "
    "WHERE is_bot = 0 AND fingerprint IS NOT NULL GROUP BY day, link_id, fingerprint), "
    "up AS (INSERT INTO click_visitors (day, link_id, fingerprint, hours, prev) "
    "SELECT day, link_id, fingerprint, hours, 0 FROM h ORDER BY day, link_id, fingerprint "
    + VISITOR_UPSERT.split(" VALUES (?, ?, ?, ?, 0) ", 1)[1]
    + " RETURNING day, link_id, hours, prev), "
    "u AS (SELECT day, link_id, SUM(CASE WHEN prev = 0 THEN 1 ELSE 0 END) AS visitors, "
    "SUM(length(replace(CAST(CAST(hours & ~prev AS bit(24)) AS TEXT), '0', ''))) AS uclicks "
    "FROM up GROUP BY day, link_id), "
    "a AS (SELECT day, link_id, (array_agg(creator_id ORDER BY at, id))[1] AS creator, "
    "COUNT(*) AS clicks, SUM(CASE WHEN is_bot = 0 THEN 1 ELSE 0 END) AS human, "
    "SUM(CASE WHEN is_bot = 0 AND fingerprint IS NULL THEN 1 ELSE 0 END) AS nofp, "
    "MAX(at) AS last_at FROM n GROUP BY day, link_id) "
    "INSERT INTO click_days (day, link_id, creator_id, clicks, human_clicks, unique_clicks, "
    "unique_visitors, last_at) SELECT a.day, a.link_id, a.creator, a.clicks, a.human, "
    "a.nofp + COALESCE(u.uclicks, 0), COALESCE(u.visitors, 0), a.last_at FROM a "
    "LEFT JOIN u ON u.day = a.day AND u.link_id = a.link_id "
    "ORDER BY a.day, a.link_id " + ROLLUP_UPSERT.split(" VALUES (?, ?, ?, ?, ?, ?, ?, ?) ", 1)[1]
)

#: A day's roll-up recounted from the raw clicks (the rebuild, the reports' partial edges
#: use the same expressions over any range): the definitions of migration 0070.
RECOUNT_COLUMNS = (
    "COUNT(*) AS clicks, SUM(CASE WHEN c.is_bot = 0 THEN 1 ELSE 0 END) AS human_clicks, "
    "COUNT(DISTINCT CASE WHEN c.is_bot = 0 THEN c.link_id || '|' || COALESCE(c.fingerprint, c.id) || '|' || substr(c.at, 1, 13) END) "
    "AS unique_clicks, COUNT(DISTINCT CASE WHEN c.is_bot = 0 THEN c.link_id || '|' || c.fingerprint || '|' || substr(c.at, 1, 10) END) "
    "AS unique_visitors"
)

#: The same for the country and variant reports and filters in one level (PostgreSQL's
#: raw read): a visitor counts once per day, link, country and variant (the grain of
#: ``click_reach_days``, which sums to it).
RECOUNT_REACH_COLUMNS = RECOUNT_COLUMNS.replace(
    "c.link_id || '|' ||",
    "c.link_id || '|' || COALESCE(c.country, '') || '|' || COALESCE(c.variant, '') || '|' ||",
)

#: The hour bit of ``c.at`` in SQL both engines run (no shift operator in common).
HOUR_BIT = (
    "CAST(1 AS BIGINT) * (CASE substr(c.at, 12, 2) "
    + " ".join(f"WHEN '{h:02d}' THEN {1 << h}" for h in range(23))
    + f" ELSE {1 << 23} END)"
)

#: A day's visitor set recounted from the raw clicks (params: day, day + 'U').
REBUILD_VISITORS = (
    "INSERT INTO click_visitors (day, link_id, fingerprint, hours, prev) "
    "SELECT day, link_id, fingerprint, SUM(bit), 0 FROM (SELECT DISTINCT "
    f"substr(c.at, 1, 10) AS day, c.link_id, c.fingerprint, {HOUR_BIT} AS bit FROM clicks c "
    "WHERE c.at >= ? AND c.at < ? AND c.link_id IS NOT NULL AND c.is_bot = 0 "
    "AND c.fingerprint IS NOT NULL) x GROUP BY day, link_id, fingerprint"
)


def keep_erased_uniques(fresh: dict[str, Any], stored: dict[str, Any] | None) -> None:
    """A recounted row whose human clicks have no fingerprint left (erased by retention)
    keeps the unique counts it had (``stored``): they cannot be recounted."""
    if stored is not None and not int(fresh["kept_prints"] or 0) and int(fresh["human_clicks"]):
        fresh["unique_clicks"] = stored["unique_clicks"]
        fresh["unique_visitors"] = stored["unique_visitors"]


def differences(
    day: str, stored: dict[Any, Any], fresh: dict[Any, Any], name: Any
) -> list[dict[str, Any]]:
    """A roll-up's rows against their recount, keyed alike: [{day, link_id, figure,
    rollup, recount}] for each figure that differs (unique counts only while the recount
    still has fingerprints: ``kept_prints``); ``name(key, figure)`` -> (link id, label)."""
    figures = FIGURES
    out = []
    for key in sorted(set(stored) | set(fresh)):
        a, b = stored.get(key, {}), fresh.get(key, {})
        for k in figures if int(b.get("kept_prints") or 0) else figures[:2]:
            x, y = int(a.get(k) or 0), int(b.get(k) or 0)
            if x != y:
                link, label = name(key, k)
                out.append(
                    {"day": day, "link_id": link, "figure": label, "rollup": x, "recount": y}
                )
    return out
