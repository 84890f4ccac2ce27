"""PostgreSQL engine on an asyncpg pool: many stateless tracker nodes, one database.

The store's SQL uses ``?`` placeholders; they become ``$1..$n`` here (cached per statement).
Click batches go in as one ``INSERT ... SELECT FROM unnest(...) ON CONFLICT DO NOTHING``
(a retried batch never duplicates) that also adds them to the day roll-ups (one statement), migrations run under a session advisory lock so
several nodes may start, or run ``tracker migrate``, at the same time.

JIT compilation is off for the pool's sessions: PostgreSQL compiles a statement whose plan
costs more than ``jit_above_cost`` (100,000: any report read over a month of clicks), which
took 250-400 ms of a 0.7-1.5 s statement at 10M clicks and saved less than that (issue 19).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from functools import lru_cache
from typing import Any, TypeVar

import asyncpg

from tracker.store.engine import Conn, Params, Row
from tracker.store.partitions import (
    drop_months_before,
    ensure_months,
    months_in_default,
    next_month,
)
from tracker.store.rollups import PG_CLICKS_AND_ROLLUPS

MIGRATION_LOCK_KEY = 7_215_530_001  # arbitrary, fixed: "creatorlink migrations"
_QMARK = re.compile(r"\?")


@lru_cache(maxsize=1024)
def to_dollar(sql: str) -> str:
    """``?`` -> ``$n``. Our SQL never has a literal '?' inside a string."""
    counter = itertools.count(1)
    return _QMARK.sub(lambda _: f"${next(counter)}", sql)


T = TypeVar("T")


class _Tx:
    def __init__(
        self,
        conn: asyncpg.pool.PoolConnectionProxy[asyncpg.Record] | asyncpg.Connection[asyncpg.Record],
    ) -> None:
        self._conn = conn

    async def execute(self, sql: str, params: Params = ()) -> int:
        status: str = await self._conn.execute(to_dollar(sql), *params)
        tail = status.rsplit(" ", 1)[-1]
        return int(tail) if tail.isdigit() else 0

    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        return [dict(r) for r in await self._conn.fetch(to_dollar(sql), *params)]

    async def fetch_one(self, sql: str, params: Params = ()) -> Row | None:
        row = await self._conn.fetchrow(to_dollar(sql), *params)
        return None if row is None else dict(row)

    async def run_script(self, sql: str) -> None:
        await self._conn.execute(sql)


class PostgresEngine:
    dialect = "postgres"

    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = url
        self.pool_size = pool_size
        self._pool: asyncpg.Pool | None = None
        #: Months whose click partition this process knows exists.
        self._months: set[str] = set()

    async def open(self) -> PostgresEngine:
        self._pool = await asyncpg.create_pool(
            self.url,
            min_size=1,
            max_size=self.pool_size,
            command_timeout=60,
            server_settings={"jit": "off"},
        )
        return self

    @property
    def pool(self) -> asyncpg.Pool:
        assert self._pool is not None, "engine not open"
        return self._pool

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[_Tx]:
        async with self.pool.acquire() as conn, conn.transaction():
            yield _Tx(conn)

    async def run_batch(self, body: Callable[[Conn], Awaitable[T]]) -> T:
        """``GroupCommit``'s transaction: a network round trip per statement either way,
        so nothing cheaper than a plain transaction on the loop."""
        async with self.transaction() as tx:
            return await body(tx)

    async def execute(self, sql: str, params: Params = ()) -> int:
        async with self.pool.acquire() as conn:
            return await _Tx(conn).execute(sql, params)

    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        async with self.pool.acquire() as conn:
            return await _Tx(conn).fetch_all(sql, params)

    async def fetch_one(self, sql: str, params: Params = ()) -> Row | None:
        async with self.pool.acquire() as conn:
            return await _Tx(conn).fetch_one(sql, params)

    async def stream(self, sql: str, params: Params = ()) -> AsyncIterator[Row]:
        async with self.pool.acquire() as conn, conn.transaction():
            async for record in conn.cursor(to_dollar(sql), *params, prefetch=1000):
                yield dict(record)

    async def insert_clicks(self, rows: Sequence[tuple[Any, ...]]) -> None:
        columns = [list(col) for col in zip(*rows, strict=True)]
        months = {str(at)[:7] for at in columns[1]} if rows else set()
        async with self.pool.acquire() as conn:
            if months - self._months:
                await self._ensure_months(conn, months)
            await conn.execute(PG_CLICKS_AND_ROLLUPS, *columns)

    async def _ensure_months(self, conn: Any, months: set[str]) -> None:
        """Month tables for the batch's months and the month after each (made ahead, so
        the first click of a month seldom waits on DDL); a no-op before migration 0071."""
        wanted = months | {next_month(m) for m in months}
        if await conn.fetchval("SELECT to_regclass('clicks_default') IS NOT NULL"):
            await ensure_months(conn, wanted - self._months)
            self._months |= wanted

    async def settle_click_partitions(self) -> list[str]:
        """Give every month found in ``clicks_default`` its own table (after an import)."""
        async with self.pool.acquire() as conn:
            if not await conn.fetchval("SELECT to_regclass('clicks_default') IS NOT NULL"):
                return []
            return await ensure_months(conn, await months_in_default(conn))

    async def drop_click_months_before(self, day: str) -> int:
        """Retention: drop the month tables wholly before ``day``; the rows they held."""
        async with self.pool.acquire() as conn:
            if not await conn.fetchval("SELECT to_regclass('clicks_default') IS NOT NULL"):
                return 0
            dropped = await drop_months_before(conn, day)
        self._months = {m for m in self._months if next_month(m) > day}
        return dropped

    @asynccontextmanager
    async def migration_lock(self) -> AsyncIterator[None]:
        async with self.pool.acquire() as conn:
            await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_KEY)
            try:
                yield
            finally:
                await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK_KEY)

    async def pragmas(self) -> dict[str, Any]:
        row = await self.fetch_one(
            "SELECT current_setting('synchronous_commit') AS synchronous_commit, "
            "current_setting('server_version') AS server_version"
        )
        return row or {}

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None
