"""PostgreSQL: the clicks table's month partitions (migration 0071), created ahead by the
click writer and dropped whole by retention.

A month's table is ``clicks_YYYY_MM`` holding '<month>' <= at < '<next month>'. Creating
one is serialised between nodes by a transaction-level advisory lock; clicks of that month
already in ``clicks_default`` (an import, a writer that ran ahead of its partitions) are
moved into it in the same transaction, then it is attached.
"""

from __future__ import annotations

import re
from typing import Any

PARTITION_LOCK_KEY = 7_215_530_019  # arbitrary, fixed: "creatorlink click partitions"
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def next_month(month: str) -> str:
    year, mon = int(month[:4]), int(month[5:7])
    return f"{year + mon // 12:04d}-{mon % 12 + 1:02d}"


def table_name(month: str) -> str:
    return "clicks_" + month.replace("-", "_")


async def ensure_months(conn: Any, months: set[str]) -> list[str]:
    """Create the month tables missing among ``months`` (asyncpg connection); return the
    months created. Months outside 0001..9998 are left to ``clicks_default``."""
    made = []
    for month in sorted(months):
        if not _MONTH.match(month) or month >= "9999-12":
            continue
        name, lo, hi = table_name(month), month, next_month(month)
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", PARTITION_LOCK_KEY)
            if await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", name):
                continue
            await conn.execute(f"CREATE TABLE {name} (LIKE clicks INCLUDING DEFAULTS)")
            await conn.execute(
                f"WITH m AS (DELETE FROM clicks_default WHERE at >= $1 AND at < $2 "
                f"RETURNING *) INSERT INTO {name} SELECT * FROM m",
                lo,
                hi,
            )
            await conn.execute(
                f"ALTER TABLE clicks ATTACH PARTITION {name} FOR VALUES FROM ('{lo}') TO ('{hi}')"
            )
        made.append(month)
    return made


async def months_in_default(conn: Any) -> set[str]:
    rows = await conn.fetch("SELECT DISTINCT substr(at, 1, 7) AS m FROM clicks_default")
    return {r["m"] for r in rows}


async def month_tables(conn: Any) -> dict[str, str]:
    """The attached month tables: month -> table name."""
    rows = await conn.fetch(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "JOIN pg_class p ON p.oid = i.inhparent "
        "WHERE p.relname = 'clicks' AND p.relnamespace = to_regnamespace(current_schema())"
    )
    out = {}
    for r in rows:
        m = re.match(r"^clicks_(\d{4})_(\d{2})$", r["relname"])
        if m:
            out[f"{m.group(1)}-{m.group(2)}"] = r["relname"]
    return out


async def drop_months_before(conn: Any, day: str) -> int:
    """Drop every month table whose whole month is before ``day`` ('YYYY-MM-DD'); return
    the rows they held."""
    dropped = 0
    for month, name in sorted((await month_tables(conn)).items()):
        if next_month(month) > day:
            continue
        async with conn.transaction():
            dropped += int(await conn.fetchval(f"SELECT COUNT(*) FROM {name}"))
            await conn.execute(f"ALTER TABLE clicks DETACH PARTITION {name}")
            await conn.execute(f"DROP TABLE {name}")
    return dropped
