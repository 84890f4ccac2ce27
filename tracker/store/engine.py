"""The small surface each database engine provides; all SQL lives above it in ``Store``.

SQL is written once with ``?`` placeholders in a dialect both SQLite (>= 3.35) and
PostgreSQL accept (``ON CONFLICT``, ``RETURNING``, ``CAST``); an engine only adapts
placeholders, runs transactions and bulk-inserts clicks its own fastest way.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol, TypeVar

Row = dict[str, Any]
T = TypeVar("T")
Params = Sequence[Any]

#: Column order of a click row as the writer hands it to ``insert_clicks``.
CLICK_COLUMNS: tuple[str, ...] = (
    "id",
    "at",
    "slug",
    "link_id",
    "creator_id",
    "fingerprint",
    "device",
    "os",
    "browser",
    "is_bot",
    "bot_reason",
    "is_prefetch",
    "referrer_host",
    "ip",
    "method",
    "ip_tag",
    "lang_tag",
    "country",
    "variant",
)


class Conn(Protocol):
    """One connection (or transaction) to run statements on."""

    async def execute(self, sql: str, params: Params = ()) -> int: ...
    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]: ...
    async def fetch_one(self, sql: str, params: Params = ()) -> Row | None: ...


class Tx(Conn, Protocol):
    """A write transaction: statements, and whole scripts (a migration file)."""

    async def run_script(self, sql: str) -> None: ...


class Engine(Conn, Protocol):
    dialect: str

    def transaction(self) -> AbstractAsyncContextManager[Tx]:
        """A write transaction; commits on exit, rolls back on error."""

    async def run_batch(self, body: Callable[[Conn], Awaitable[T]]) -> T:
        """Run ``body`` in one write transaction, the engine's cheapest way (``GroupCommit``'s
        batches): commits after it returns, rolls back if it raises."""

    async def insert_clicks(self, rows: Sequence[tuple[Any, ...]]) -> None:
        """Write a batch of click rows (``CLICK_COLUMNS`` order) in one transaction."""

    def migration_lock(self) -> AbstractAsyncContextManager[None]:
        """Held while migrating, so several nodes can run ``tracker migrate`` at once."""

    async def pragmas(self) -> dict[str, Any]:
        """Durability settings read back from the engine, for the start-up log."""

    async def close(self) -> None: ...

    def stream(self, sql: str, params: Params = ()) -> AsyncIterator[Row]: ...
