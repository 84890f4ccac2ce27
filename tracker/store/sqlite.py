"""SQLite engine: one write connection (WAL, BEGIN IMMEDIATE) and one read connection.

Reads run on their own connection so a report never waits behind the click batch; writes
are serialised by an asyncio lock on the single writer, as datasette does. Each click batch
is one ``INSERT ... SELECT ... FROM json_each(?)`` statement: a single call into the
aiosqlite thread, which keeps flush lag low when the event loop is saturated (an
``executemany`` of N rows gets starved of the GIL).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

from tracker.store.engine import CLICK_COLUMNS, Params, Row

_CLICK_INSERT = (
    f"INSERT INTO clicks ({', '.join(CLICK_COLUMNS)}) SELECT "
    + ", ".join(f"value ->> {i}" for i in range(len(CLICK_COLUMNS)))
    + " FROM json_each(?) WHERE true ON CONFLICT (id) DO NOTHING"
)


class _Tx:
    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    # One round trip into the aiosqlite thread per statement: a DML cursor is finished once
    # executed, and reads use execute_fetchall, so no half-read SELECT keeps a snapshot open.
    async def execute(self, sql: str, params: Params = ()) -> int:
        cur = await self._conn.execute(sql, params)
        return int(cur.rowcount)

    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        return [dict(r) for r in await self._conn.execute_fetchall(sql, params)]

    async def fetch_one(self, sql: str, params: Params = ()) -> Row | None:
        rows = await self._conn.execute_fetchall(sql, params)
        return dict(rows[0]) if rows else None

    async def run_script(self, sql: str) -> None:
        for statement in split_statements(sql):
            await self.execute(statement)


class SQLiteEngine:
    dialect = "sqlite"

    def __init__(self, path: Path, *, synchronous: str = "full", busy_timeout_ms: int = 5000):
        self.path = path
        self.synchronous = synchronous
        self.busy_timeout_ms = busy_timeout_ms
        self._writer: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()

    async def open(self) -> SQLiteEngine:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._writer = await self._connect()
        await _Tx(self._writer).fetch_all("PRAGMA journal_mode=WAL")
        self._reader = await self._connect()
        return self

    async def _connect(self) -> aiosqlite.Connection:
        conn = await aiosqlite.connect(self.path, isolation_level=None)
        conn.row_factory = aiosqlite.Row
        tx = _Tx(conn)
        await tx.fetch_all(f"PRAGMA busy_timeout={int(self.busy_timeout_ms)}")
        await tx.fetch_all("PRAGMA foreign_keys=ON")
        await tx.fetch_all(f"PRAGMA synchronous={self.synchronous.upper()}")
        return conn

    @property
    def reader(self) -> aiosqlite.Connection:
        assert self._reader is not None, "engine not open"
        return self._reader

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[_Tx]:
        assert self._writer is not None, "engine not open"
        async with self._write_lock:
            tx = _Tx(self._writer)
            await tx.execute("BEGIN IMMEDIATE")
            try:
                yield tx
            except BaseException:
                await tx.execute("ROLLBACK")
                raise
            else:
                await tx.execute("COMMIT")

    async def execute(self, sql: str, params: Params = ()) -> int:
        async with self.transaction() as tx:
            return await tx.execute(sql, params)

    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        return await _Tx(self.reader).fetch_all(sql, params)

    async def fetch_one(self, sql: str, params: Params = ()) -> Row | None:
        return await _Tx(self.reader).fetch_one(sql, params)

    async def stream(self, sql: str, params: Params = ()) -> AsyncIterator[Row]:
        async with self.reader.execute(sql, params) as cur:
            while rows := await cur.fetchmany(1000):
                for r in rows:
                    yield dict(r)

    async def insert_clicks(self, rows: Sequence[tuple[Any, ...]]) -> None:
        """One call into the writer thread per batch: BEGIN IMMEDIATE, INSERT, COMMIT.

        Each aiosqlite call is a round trip that waits for the event loop; under full load
        the six of ``transaction()`` + ``execute`` (each cursor closed too) were most of the
        flush lag. So the batch goes in one ``executescript``, the JSON as a string literal:
        ``json.dumps`` (ASCII only, control characters escaped) leaves ``'`` as the one
        character to double, so no click value can end the literal.
        """
        payload = json.dumps(rows, separators=(",", ":"), ensure_ascii=True)
        literal = "'" + payload.replace("'", "''") + "'"
        script = f"BEGIN IMMEDIATE;\n{_CLICK_INSERT.replace('?', literal, 1)};\nCOMMIT;"
        assert self._writer is not None, "engine not open"
        async with self._write_lock:
            try:
                await self._writer.executescript(script)
            except BaseException:
                with contextlib.suppress(Exception):  # nothing to undo if COMMIT ran
                    await self._writer.execute("ROLLBACK")
                raise

    @asynccontextmanager
    async def migration_lock(self) -> AsyncIterator[None]:
        # BEGIN IMMEDIATE in the migration transaction already excludes other writers.
        yield

    async def pragmas(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in ("journal_mode", "synchronous", "busy_timeout", "foreign_keys"):
            row = await self.fetch_one(f"PRAGMA {name}")
            out[name] = next(iter(row.values())) if row else None
        assert self._writer is not None
        row = await _Tx(self._writer).fetch_one("PRAGMA synchronous")
        level = next(iter(row.values())) if row else None
        out["synchronous"] = {0: "off", 1: "normal", 2: "full", 3: "extra"}.get(level, level)
        return out

    async def close(self) -> None:
        for conn in (self._reader, self._writer):
            if conn is not None:
                await conn.close()
        self._reader = self._writer = None


def split_statements(sql: str) -> list[str]:
    """Split a migration file on ``;`` at line ends (our migrations keep to that shape)."""
    parts, current = [], []
    for line in sql.splitlines():
        if line.strip().startswith("--"):
            continue
        current.append(line)
        if line.rstrip().endswith(";"):
            parts.append("\n".join(current).strip())
            current = []
    tail = "\n".join(current).strip()
    if tail:
        parts.append(tail)
    return [p for p in parts if p.strip(" ;\n")]
