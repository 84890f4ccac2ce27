"""Shared plumbing of the store's query mixins."""

from __future__ import annotations

from typing import Any

from tracker.core import clock, ids
from tracker.core.errors import Conflict, NotFound
from tracker.store.engine import Conn, Engine, Row
from tracker.store.group import GroupCommit


def is_unique_violation(exc: BaseException) -> bool:
    """True for a UNIQUE/PRIMARY KEY violation on either engine."""
    name = type(exc).__name__
    text = str(exc).lower()
    return name == "UniqueViolationError" or (
        name == "IntegrityError" and ("unique" in text or "primary key" in text)
    )


def where(*conditions: tuple[str, Any]) -> tuple[str, list[Any]]:
    """``("creator_id = ?", value), ...`` -> a WHERE clause and its parameters; a condition
    whose value is None or empty is left out (an absent filter)."""
    parts, params = ["1 = 1"], []
    for sql, value in conditions:
        if value is not None and value != "":
            parts.append(sql)
            params.append(value)
    return " AND ".join(parts), params


BIGINT_MAX = 2**63 - 1


def money_sum(dialect: str, expr: str) -> str:
    """SQL for the sum of an integer money expression that never fails a read.

    Each amount is capped where it enters (``tracker.core.money.MAX_MINOR``), but a sum of
    many is not: 9,224 orders at the cap pass 2**63, where SQLite's ``SUM`` raises "integer
    overflow" and PostgreSQL's ``CAST(... AS BIGINT)`` "bigint out of range", and every
    report, the dashboard and the next postback of such an order would answer 500. Here the
    sum saturates at the BIGINT limits instead: exact on PostgreSQL (``numeric``), exact on
    SQLite below 2**53 minor units (``TOTAL`` adds in double precision; its ``CAST`` to
    INTEGER saturates), always a BIGINT, 0 over no rows or only NULLs."""
    if dialect == "postgres":
        total = f"COALESCE(SUM({expr}), 0)"  # LEAST and GREATEST skip a NULL
        return f"CAST(GREATEST(LEAST({total}, {BIGINT_MAX}), {-BIGINT_MAX}) AS BIGINT)"
    return f"CAST(TOTAL({expr}) AS INTEGER)"


#: Append to a ``LIKE ?`` whose pattern comes from ``like_contains``/``like_prefix``.
LIKE_ESCAPE = " ESCAPE '\\'"


def _like_literal(text: str) -> str:
    for ch in ("\\", "%", "_"):
        text = text.replace(ch, "\\" + ch)
    return text


def like_contains(text: str) -> str:
    """A LIKE pattern matching ``text`` literally anywhere (its ``%`` and ``_`` escaped);
    use with ``LIKE ?`` + ``LIKE_ESCAPE``."""
    return f"%{_like_literal(text)}%"


def like_prefix(text: str) -> str:
    return f"{_like_literal(text)}%"


class StoreBase:
    db: Engine
    writes: GroupCommit

    async def _insert(
        self, table: str, row: dict[str, Any], what: str, conn: Conn | None = None
    ) -> None:
        cols = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        try:
            await (conn or self.db).execute(
                f"INSERT INTO {table} ({cols}) VALUES ({marks})", tuple(row.values())
            )
        except Exception as exc:
            if is_unique_violation(exc):
                raise Conflict(f"{what} already exists") from None
            raise

    async def _insert_all(
        self, table: str, prefix: str, rows: list[dict[str, Any]], what: str
    ) -> list[str]:
        """Insert rows with new ids (``prefix_...``) and ``created_at``, all or nothing."""
        now = clock.now_iso()
        full = [{"id": ids.new_id(prefix), **r, "created_at": now} for r in rows]
        async with self.db.transaction() as tx:
            for row in full:
                await self._insert(table, row, what, tx)
        return [row["id"] for row in full]

    async def _update(self, table: str, id_: str, fields: dict[str, Any], what: str) -> Row:
        fields = {**fields, "updated_at": clock.now_iso()}
        sets = ", ".join(f"{k} = ?" for k in fields)
        try:
            async with self.db.transaction() as tx:
                n = await tx.execute(
                    f"UPDATE {table} SET {sets} WHERE id = ?", (*fields.values(), id_)
                )
                if not n:
                    raise NotFound(f"no such {what}")
                row = await tx.fetch_one(f"SELECT * FROM {table} WHERE id = ?", (id_,))
        except Exception as exc:
            if is_unique_violation(exc):
                raise Conflict(f"{what} with that value already exists") from None
            raise
        assert row is not None
        return row

    async def _get(self, table: str, id_: str, what: str) -> Row:
        row = await self.db.fetch_one(f"SELECT * FROM {table} WHERE id = ?", (id_,))
        if row is None:
            raise NotFound(f"no such {what}")
        return row
