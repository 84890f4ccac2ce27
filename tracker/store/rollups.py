"""Daily roll-ups of clicks (issue 19): one ``click_days`` row per (UTC day, link).

Kept by the click writer inside the click batch's own transaction (``SQLiteEngine``'s click
thread calls ``sqlite_write_rollups``; PostgreSQL runs ``PG_CLICKS_AND_ROLLUPS``, the insert
and the roll-up in one statement), so a crash leaves both or neither. Definitions are in
migration 0070 and the README ("History at scale").

Unique counts need no set of fingerprints of their own: before a batch is stored, each of
its human visitors (day, link, fingerprint) is looked up in the clicks' own fingerprint
index (``clicks_fingerprint_human``, whose page the insert is about to touch anyway); a
visitor not seen earlier that day on that link adds one unique visitor, an hour not seen
adds one unique click (migration 0070 widened that index to every human click; it held
only those on links with a creator). Fingerprints are erased after the
retention period; the roll-up keeps the counts made while they existed.

PostgreSQL with several nodes: two nodes storing the same visitor's clicks on the same link
and day in the same few milliseconds may both count it (each statement sees the clicks
committed before it). ``tracker rollups rebuild`` recounts; clicks and human clicks are
always exact (additive upserts).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from tracker.store.engine import CLICK_COLUMNS

_ID, _AT, _LINK, _CREATOR, _FP, _BOT = (
    CLICK_COLUMNS.index(c) for c in ("id", "at", "link_id", "creator_id", "fingerprint", "is_bot")
)

#: Add a batch's counts to the day rows (additive, so concurrent writers never lose one).
ROLLUP_UPSERT = (
    "INSERT INTO click_days (day, link_id, creator_id, clicks, human_clicks, unique_clicks, "
    "unique_visitors, last_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (day, link_id) DO UPDATE SET creator_id = excluded.creator_id, "
    "clicks = click_days.clicks + excluded.clicks, "
    "human_clicks = click_days.human_clicks + excluded.human_clicks, "
    "unique_clicks = click_days.unique_clicks + excluded.unique_clicks, "
    "unique_visitors = click_days.unique_visitors + excluded.unique_visitors, "
    "last_at = CASE WHEN excluded.last_at > click_days.last_at "
    "THEN excluded.last_at ELSE click_days.last_at END"
)

#: Hours of the day a visitor was already seen on a link (SQLite: the partial index, named,
#: or the planner may walk the day's whole ``clicks_at`` range instead).
_SEEN_HOURS = (
    "SELECT DISTINCT substr(at, 12, 2) AS h FROM clicks INDEXED BY clicks_fingerprint_human "
    "WHERE fingerprint = ? AND at >= ? AND at < ? AND is_bot = 0 AND link_id = ?"
)


class _Day:
    __slots__ = ("clicks", "creator", "human", "last", "uclicks", "visitors")

    def __init__(self, creator: str | None, at: str) -> None:
        self.creator, self.last = creator, at
        self.clicks = self.human = self.uclicks = self.visitors = 0


def _group(
    rows: Sequence[tuple[Any, ...]],
) -> tuple[dict[tuple[str, str], _Day], dict[tuple[str, str, str], set[str]]]:
    """Per (day, link): counts; per (day, link, fingerprint) of a human click: the hours
    it was seen in this batch."""
    days: dict[tuple[str, str], _Day] = {}
    visitors: dict[tuple[str, str, str], set[str]] = {}
    for r in rows:
        link = r[_LINK]
        if link is None:
            continue
        at = r[_AT]
        day = at[:10]
        d = days.get((day, link))
        if d is None:
            d = days[(day, link)] = _Day(r[_CREATOR], at)
        d.clicks += 1
        if at > d.last:
            d.last, d.creator = at, r[_CREATOR]
        if r[_BOT]:
            continue
        d.human += 1
        fp = r[_FP]
        if fp is None:
            d.uclicks += 1
        else:
            visitors.setdefault((day, link, fp), set()).add(at[11:13])
    return days, visitors


def sqlite_write_rollups(conn: sqlite3.Connection, rows: Sequence[tuple[Any, ...]]) -> None:
    """Inside the click batch's transaction, BEFORE its rows are inserted (the look-ups
    must see only earlier clicks): add the batch to ``click_days``."""
    days, visitors = _group(rows)
    for (day, link, fp), hours in visitors.items():
        seen = {
            h for (h,) in conn.execute(_SEEN_HOURS, (fp, day, day + "U", link)).fetchall()
        }
        d = days[(day, link)]
        if not seen:
            d.visitors += 1
        d.uclicks += len(hours - seen)
    conn.executemany(ROLLUP_UPSERT, _params(days))


def _params(days: dict[tuple[str, str], _Day]) -> list[tuple[Any, ...]]:
    return [
        (day, link, d.creator, d.clicks, d.human, d.uclicks, d.visitors, d.last)
        for (day, link), d in days.items()
    ]


_PG_TYPES = {"is_bot": "int", "is_prefetch": "int"}

#: PostgreSQL: the batch (one array per column) inserted and rolled up in ONE statement,
#: one round trip. The look-ups (``seen``) read the clicks as they were before the
#: statement, so they never see the batch's own rows.
PG_CLICKS_AND_ROLLUPS = (
    "WITH b AS (SELECT * FROM unnest("
    + ", ".join(f"${i + 1}::{_PG_TYPES.get(c, 'text')}[]" for i, c in enumerate(CLICK_COLUMNS))
    + f") AS b ({', '.join(CLICK_COLUMNS)})), "
    f"ins AS (INSERT INTO clicks ({', '.join(CLICK_COLUMNS)}) SELECT * FROM b "
    "ON CONFLICT DO NOTHING RETURNING at, link_id, creator_id, fingerprint, is_bot, id), "
    "n AS (SELECT substr(at, 1, 10) AS day, link_id, creator_id, fingerprint, is_bot, at, id "
    "FROM ins WHERE link_id IS NOT NULL), "
    "h AS (SELECT DISTINCT day, link_id, fingerprint, substr(at, 12, 2) AS hr FROM n "
    "WHERE is_bot = 0 AND fingerprint IS NOT NULL), "
    "v AS (SELECT DISTINCT day, link_id, fingerprint FROM h), "
    "seen AS (SELECT DISTINCT v.day, v.link_id, v.fingerprint, substr(c.at, 12, 2) AS hr "
    "FROM v JOIN clicks c ON c.fingerprint = v.fingerprint AND c.at >= v.day "
    "AND c.at < v.day || 'U' AND c.is_bot = 0 AND c.link_id = v.link_id), "
    "uc AS (SELECT day, link_id, COUNT(*) AS n FROM (SELECT * FROM h EXCEPT "
    "SELECT * FROM seen) x GROUP BY day, link_id), "
    "uv AS (SELECT day, link_id, COUNT(*) AS n FROM v WHERE NOT EXISTS (SELECT 1 FROM seen s "
    "WHERE s.day = v.day AND s.link_id = v.link_id AND s.fingerprint = v.fingerprint) "
    "GROUP BY day, link_id), "
    "a AS (SELECT day, link_id, (array_agg(creator_id ORDER BY at DESC, id DESC))[1] AS creator, "
    "COUNT(*) AS clicks, SUM(CASE WHEN is_bot = 0 THEN 1 ELSE 0 END) AS human, "
    "SUM(CASE WHEN is_bot = 0 AND fingerprint IS NULL THEN 1 ELSE 0 END) AS nofp, MAX(at) AS last_at FROM n GROUP BY day, link_id) "
    "INSERT INTO click_days (day, link_id, creator_id, clicks, human_clicks, unique_clicks, "
    "unique_visitors, last_at) SELECT a.day, a.link_id, a.creator, a.clicks, a.human, "
    "a.nofp + COALESCE(uc.n, 0), COALESCE(uv.n, 0), a.last_at FROM a "
    "LEFT JOIN uc ON uc.day = a.day AND uc.link_id = a.link_id "
    "LEFT JOIN uv ON uv.day = a.day AND uv.link_id = a.link_id "
    + ROLLUP_UPSERT.split(" VALUES (?, ?, ?, ?, ?, ?, ?, ?) ", 1)[1]
)

#: A day's roll-up recounted from the raw clicks (the rebuild, the reports' partial edges
#: use the same expressions over any range): the definitions of migration 0070.
RECOUNT_COLUMNS = (
    "COUNT(*) AS clicks, SUM(CASE WHEN c.is_bot = 0 THEN 1 ELSE 0 END) AS human_clicks, "
    "COUNT(DISTINCT CASE WHEN c.is_bot = 0 THEN c.link_id || '|' || COALESCE(c.fingerprint, c.id) || '|' || substr(c.at, 1, 13) END) "
    "AS unique_clicks, COUNT(DISTINCT CASE WHEN c.is_bot = 0 THEN c.link_id || '|' || c.fingerprint || '|' || substr(c.at, 1, 10) END) "
    "AS unique_visitors"
)
