"""SQLite engine: a write connection (WAL, BEGIN IMMEDIATE), a read connection, and the
click batches' own connection.

Reads run on their own connection so a report never waits behind the click batch; writes
are serialised by an asyncio lock over both writing connections, as datasette does. A click
batch is one call into its own thread that binds the rows into a few ``INSERT`` statements
of up to 256 rows: one round trip however loaded the event loop is, and a handful of GIL
hand-overs per batch (an ``executemany`` of single rows needs one per row and gets starved
of the GIL when the loop is saturated; the ``json_each`` statement used before cost 6 us
more SQLite CPU per click than binding, re-parsing the JSON for every column). Group
commits of postbacks (``run_batch``) run whole in that same thread, on its own event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from itertools import chain
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from tracker.store.engine import CLICK_COLUMNS, Conn, Params, Row
from tracker.store.rollups import sqlite_write_rollups

log = logging.getLogger("tracker.store")
T = TypeVar("T")

#: Rows per click INSERT statement, largest first: 256 x 15 bound values is well under
#: SQLite's 32,766. Each statement is one GIL hand-over between the loop and the click
#: thread (up to the 5 ms switch interval each when the loop is saturated): 64-row
#: statements alone kept flush lag p99 near 120 ms under full load, 256-row ones near 85 ms.
#: A batch takes whole 256s, then 64s, then 16s, the last padded (see ``_write_clicks``).
CLICK_CHUNKS = (256, 64, 16)
_CLICK_INSERTS = {
    n: f"INSERT INTO clicks ({', '.join(CLICK_COLUMNS)}) VALUES "
    + ", ".join(["(" + ", ".join("?" * len(CLICK_COLUMNS)) + ")"] * n)
    + " ON CONFLICT (id) DO NOTHING"
    for n in CLICK_CHUNKS
}
#: Page cache per connection (KiB; TRACKER_SQLITE_CACHE_MIB): the click indexes' hot
#: pages stay in memory instead of being re-read from the OS for every batch.
CACHE_KIB = 65_536
#: Connections, each with its own page cache: writer, reader, click writer, checkpointer.
CONNECTIONS = 4
#: Checkpoints (copying the WAL back into the database file) run every this many seconds
#: on a connection and thread of their own. Run by a committing writer (SQLite's default,
#: every 1,000 pages) a checkpoint stalled the click batch behind it for 50-100 ms, and the
#: redirects behind the batch. Here the bulk is copied while writers go on; only the last
#: frames are copied holding the write lock, so the WAL is fully copied and the next commit
#: starts it again from the top (without that step it grew by ~12 MB/s under full load).
CHECKPOINT_EVERY = 1.0
#: The writers' own automatic checkpoint, only a backstop should the checkpointer stall.
WAL_AUTOCHECKPOINT = 100_000
#: The WAL file is truncated back to this size after a checkpoint lets it restart.
WAL_SIZE_LIMIT = 64 * 1024 * 1024


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
        rows = list(await self._conn.execute_fetchall(sql, params))
        return dict(rows[0]) if rows else None

    async def run_script(self, sql: str) -> None:
        for statement in split_statements(sql):
            await self.execute(statement)


class _InlineTx:
    """A transaction whose statements run inline on the thread that owns the batch.

    For group commits of postbacks (``SQLiteEngine.run_batch``): an order is a dozen small
    indexed statements, and a round trip into aiosqlite's thread costs more than the
    statement (about 0.1 ms each on a busy loop). The whole batch runs in the click thread
    on that thread's own event loop, so SQLite's C code (which releases the GIL) overlaps
    the main loop's HTTP work; the write lock is held throughout, so no statement waits.
    """

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    async def execute(self, sql: str, params: Params = ()) -> int:
        return int(self._conn.execute(sql, params).rowcount)

    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        return [dict(r) for r in self._conn.execute(sql, params).fetchall()]

    async def fetch_one(self, sql: str, params: Params = ()) -> Row | None:
        row = self._conn.execute(sql, params).fetchone()
        return dict(row) if row is not None else None

    async def run_script(self, sql: str) -> None:
        for statement in split_statements(sql):
            await self.execute(statement)


_thread_loops = threading.local()


def _run_batch(conn: sqlite3.Connection, body: Callable[[Conn], Awaitable[T]]) -> T:
    """In the click thread: ``body`` on that thread's event loop, in one transaction."""
    loop: asyncio.AbstractEventLoop | None = getattr(_thread_loops, "loop", None)
    if loop is None:
        loop = _thread_loops.loop = asyncio.new_event_loop()
    conn.execute("BEGIN IMMEDIATE")
    try:
        result = loop.run_until_complete(body(_InlineTx(conn)))
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return result


def _close_thread_loop() -> None:
    loop: asyncio.AbstractEventLoop | None = getattr(_thread_loops, "loop", None)
    if loop is not None:
        loop.close()
        _thread_loops.loop = None


class SQLiteEngine:
    dialect = "sqlite"

    def __init__(
        self,
        path: Path,
        *,
        synchronous: str = "full",
        busy_timeout_ms: int = 5000,
        cache_kib: int = CACHE_KIB,
    ):
        self.path = path
        self.cache_kib = cache_kib
        self.synchronous = synchronous
        self.busy_timeout_ms = busy_timeout_ms
        self._writer: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._clicks: sqlite3.Connection | None = None
        self._clicks_thread: ThreadPoolExecutor | None = None
        self._checkpointer: _Checkpointer | None = None
        self._write_lock = asyncio.Lock()

    async def open(self) -> SQLiteEngine:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._writer = await self._connect()
        await _Tx(self._writer).fetch_all("PRAGMA journal_mode=WAL")
        self._reader = await self._connect()
        self._clicks_thread = ThreadPoolExecutor(1, thread_name_prefix="sqlite-clicks")
        self._clicks = await self._in_clicks_thread(self._connect_clicks)
        self._checkpointer = _Checkpointer(self._connect_clicks, self._write_lock)
        await self._checkpointer.start()
        return self

    def _pragmas(self) -> list[str]:
        return [
            f"PRAGMA busy_timeout={int(self.busy_timeout_ms)}",
            "PRAGMA foreign_keys=ON",
            f"PRAGMA synchronous={self.synchronous.upper()}",
            f"PRAGMA cache_size=-{int(self.cache_kib)}",  # negative: KiB, not pages
            f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT}",
            f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT}",
        ]

    async def _connect(self) -> aiosqlite.Connection:
        conn = await aiosqlite.connect(self.path, isolation_level=None)
        conn.row_factory = aiosqlite.Row
        tx = _Tx(conn)
        for pragma in self._pragmas():
            await tx.fetch_all(pragma)
        return conn

    def _connect_clicks(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        for pragma in self._pragmas():
            conn.execute(pragma).fetchall()
        return conn

    async def _in_clicks_thread(self, fn: Any, *args: Any) -> Any:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._clicks_thread, fn, *args)

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

    async def run_batch(self, body: Callable[[Conn], Awaitable[T]]) -> T:
        """``GroupCommit``'s transaction: ``body`` runs whole in the click thread, on that
        thread's own event loop, between BEGIN IMMEDIATE and COMMIT (ROLLBACK if it
        raises). Its statements run inline there (``_InlineTx``): one hand-over per batch,
        not per statement, and the loop serves requests meanwhile."""
        assert self._clicks is not None, "engine not open"
        async with self._write_lock:
            result: T = await self._in_clicks_thread(_run_batch, self._clicks, body)
            return result

    async def execute(self, sql: str, params: Params = ()) -> int:
        async with self.transaction() as tx:
            return await tx.execute(sql, params)

    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        return await _Tx(self.reader).fetch_all(sql, params)

    async def fetch_one(self, sql: str, params: Params = ()) -> Row | None:
        return await _Tx(self.reader).fetch_one(sql, params)

    async def stream(self, sql: str, params: Params = ()) -> AsyncIterator[Row]:
        """Rows in batches, on a connection of its own: an open cursor holds its read
        transaction (and so its snapshot) until it is done, and on the shared reader every
        read in between (a row just written, read back) would see that old snapshot. Found
        by bench/admin_pages.py: an admin user created during a link-cache sync was not
        found when read back."""
        conn = await self._connect()
        try:
            async with conn.execute(sql, params) as cur:
                while rows := await cur.fetchmany(1000):
                    for r in rows:
                        yield dict(r)
        finally:
            await conn.close()

    async def insert_clicks(self, rows: Sequence[tuple[Any, ...]]) -> None:
        """One call into the click thread per batch: BEGIN IMMEDIATE, the rows, COMMIT.

        Held under the engine's write lock, so it never waits on SQLite's own lock for the
        other writing connection of this process (another process waits ``busy_timeout``).
        """
        assert self._clicks is not None, "engine not open"
        async with self._write_lock:
            await self._in_clicks_thread(_write_clicks, self._clicks, rows)

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
        levels = [next(iter(row.values()))] if row else []
        if self._clicks is not None:
            levels.append(await self._in_clicks_thread(_synchronous, self._clicks))
        # Both writing connections must agree; report the weaker if they ever do not.
        level = min(levels) if levels else None
        names: dict[object, str] = {0: "off", 1: "normal", 2: "full", 3: "extra"}
        out["synchronous"] = names.get(level, level)
        return out

    async def close(self) -> None:
        if self._checkpointer is not None:
            await self._checkpointer.close()
            self._checkpointer = None
        for conn in (self._reader, self._writer):
            if conn is not None:
                await conn.close()
        self._reader = self._writer = None
        if self._clicks is not None:
            await self._in_clicks_thread(self._clicks.close)
            await self._in_clicks_thread(_close_thread_loop)
            self._clicks = None
        if self._clicks_thread is not None:
            self._clicks_thread.shutdown(wait=True)
            self._clicks_thread = None


class _Checkpointer:
    """Every ``CHECKPOINT_EVERY`` seconds, off the write path: a passive checkpoint copies
    what the WAL holds without waiting for, or blocking, writers; a second one under the
    engine's write lock copies the few frames committed meanwhile, so the WAL can restart."""

    def __init__(self, connect: Any, write_lock: asyncio.Lock) -> None:
        self._connect = connect
        self._write_lock = write_lock
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="sqlite-checkpoint")
        self._conn: sqlite3.Connection | None = None
        self._task: asyncio.Task[None] | None = None
        self.runs = 0
        self.wal_pages = 0  # pages in the WAL at the last checkpoint (before it restarts)

    async def start(self) -> None:
        self._conn = await self._call(self._connect)
        self._task = asyncio.create_task(self._run(), name="sqlite-checkpoint")

    async def _call(self, fn: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._thread, fn, *args)

    def _checkpoint(self) -> tuple[int, int, int]:
        assert self._conn is not None
        busy, log_pages, copied = self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return int(busy), int(log_pages), int(copied)

    async def checkpoint(self) -> None:
        await self._call(self._checkpoint)
        async with self._write_lock:
            _, self.wal_pages, _ = await self._call(self._checkpoint)
        self.runs += 1

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(CHECKPOINT_EVERY)
            try:
                await self.checkpoint()
            except Exception:
                log.exception("WAL checkpoint failed; will retry")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._conn is not None:
            await self._call(self._conn.close)
        self._thread.shutdown(wait=True)


def _synchronous(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA synchronous").fetchone()[0])


def _write_clicks(conn: sqlite3.Connection, rows: Sequence[tuple[Any, ...]]) -> None:
    """Runs in the click thread: the day roll-ups and the rows in one transaction. A few
    prepared statements serve every batch size. The last 16-row chunk is padded with copies
    of its last row, which ``ON CONFLICT (id) DO NOTHING`` drops (it is also what makes a
    retried batch harmless)."""
    if not rows:
        return
    rows = list({r[0]: r for r in rows}.values())  # one row per id
    conn.execute("BEGIN IMMEDIATE")
    try:
        # The roll-up looks up earlier clicks, so it goes first; should some rows already be
        # stored (a caller sending them again), the batch is redone without them.
        sqlite_write_rollups(conn, rows)
        before = conn.total_changes
        _insert_click_rows(conn, rows)
        if conn.total_changes - before != len(rows):
            conn.execute("ROLLBACK")
            conn.execute("BEGIN IMMEDIATE")
            rows = _unstored(conn, rows)
            sqlite_write_rollups(conn, rows)
            _insert_click_rows(conn, rows)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _unstored(conn: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    stored: set[str] = set()
    for i in range(0, len(rows), 500):
        chunk = [r[0] for r in rows[i : i + 500]]
        marks = ", ".join("?" for _ in chunk)
        stored.update(
            r[0] for r in conn.execute(f"SELECT id FROM clicks WHERE id IN ({marks})", chunk)
        )
    return [r for r in rows if r[0] not in stored]


def _insert_click_rows(conn: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> None:
    if not rows:
        return
    rows = rows + [rows[-1]] * (-len(rows) % CLICK_CHUNKS[-1])
    plan: list[tuple[int, list[list[Any]]]] = []
    start = 0
    for size in CLICK_CHUNKS:
        end = start + (len(rows) - start) // size * size
        chunks = [list(chain.from_iterable(rows[i : i + size])) for i in range(start, end, size)]
        if chunks:
            plan.append((size, chunks))
        start = end
    for size, chunks in plan:
        conn.executemany(_CLICK_INSERTS[size], chunks)


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
