"""Whole-store export and import as JSON lines: how a brand moves from SQLite to PostgreSQL.

The table list is read from the database itself (every table but ``SKIP``),
ordered so a table comes after the tables its foreign keys point at; tables added by later
migrations are therefore carried without any change here. Rows keep their ids (all ids
are application-made TEXT), so references stay valid.

File shape, one JSON document per line::

    {"format": "creatorlink-export", "version": 1, "schema": ["0001", ...], "tables": [...]}
    {"table": "creators", "columns": ["id", "handle", ...]}
    {"r": ["cr_...", "alice", ...]}                  one line per row of the table above
    ...
    {"end": true, "counts": {"creators": 12, ...}}  missing => the file is truncated

Import runs in one transaction into a migrated, empty store at the same schema version:
it lands whole or not at all. Export reads each table in turn; stop the server first (or
accept that clicks arriving meanwhile may be left out).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable, Iterator
from typing import IO, Any

from tracker.store.engine import Conn, Engine

FORMAT = "creatorlink-export"
VERSION = 1
#: Not carried: the migrations' own ledger, and the stored credit (``store/credits.py``),
#: derived from the orders and recomputed by the target's next start (its basis is cleared).
SKIP = frozenset({"schema_migrations", "order_credits", "credit_basis"})
_PARAMS_PER_STATEMENT = 5000
_IDENT = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class TransferError(Exception):
    """The export or import cannot proceed; nothing was written to the target."""


async def _table_names(db: Engine) -> list[str]:
    if db.dialect == "sqlite":
        rows = await db.fetch_all(
            "SELECT name FROM sqlite_master WHERE type = 'table' "
            "AND name NOT LIKE 'sqlite_%' ORDER BY rowid"
        )
    else:
        rows = await db.fetch_all(
            "SELECT table_name AS name FROM information_schema.tables "
            "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' "
            "AND NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.relispartition "
            "AND c.relname = table_name AND c.relnamespace = to_regnamespace(current_schema())) "
            "ORDER BY table_name"
        )
    return [r["name"] for r in rows if r["name"] not in SKIP]


async def _references(db: Engine, names: list[str]) -> dict[str, set[str]]:
    refs: dict[str, set[str]] = {n: set() for n in names}
    if db.dialect == "sqlite":
        for name in names:
            for r in await db.fetch_all(
                'SELECT "table" AS ref FROM pragma_foreign_key_list(?)', (name,)
            ):
                refs[name].add(r["ref"])
    else:
        for r in await db.fetch_all(
            "SELECT tc.table_name AS src, ccu.table_name AS ref "
            "FROM information_schema.table_constraints tc "
            "JOIN information_schema.constraint_column_usage ccu "
            "ON tc.constraint_name = ccu.constraint_name "
            "AND tc.constraint_schema = ccu.constraint_schema "
            "WHERE tc.constraint_type = 'FOREIGN KEY' AND tc.table_schema = current_schema()"
        ):
            if r["src"] in refs:
                refs[r["src"]].add(r["ref"])
    return refs


async def tables(db: Engine) -> list[str]:
    """Every data table, parents before the tables that reference them."""
    names = await _table_names(db)
    refs = await _references(db, names)
    ordered: list[str] = []
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if name in ordered or name in visiting:
            return  # cycles (self references) keep their declared order
        visiting.add(name)
        for parent in sorted(refs.get(name, ())):
            if parent in refs and parent != name:
                visit(parent)
        visiting.discard(name)
        ordered.append(name)

    for name in names:
        visit(name)
    return ordered


async def schema_versions(db: Engine) -> list[str]:
    rows = await db.fetch_all("SELECT version FROM schema_migrations ORDER BY version")
    return [r["version"] for r in rows]


def _encode(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float)):
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"$bytes": base64.b64encode(bytes(value)).decode("ascii")}
    raise TransferError(
        f"cannot export a value of type {type(value).__name__}: the schema "
        "keeps text, integers and 0/1 flags only"
    )


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and "$bytes" in value:
        return base64.b64decode(value["$bytes"])
    return value


def _line(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n"


async def export_store(db: Engine, out: IO[str]) -> dict[str, int]:
    """Write every table of ``db`` to ``out``; return rows written per table."""
    names = await tables(db)
    out.write(
        _line(
            {
                "format": FORMAT,
                "version": VERSION,
                "engine": db.dialect,
                "schema": await schema_versions(db),
                "tables": names,
            }
        )
    )
    counts: dict[str, int] = {}
    for name in names:
        columns: list[str] | None = None
        n = 0
        async for row in db.stream(f"SELECT * FROM {name}"):
            if columns is None:
                columns = list(row)
                out.write(_line({"table": name, "columns": columns}))
            out.write(_line({"r": [_encode(row[c]) for c in columns]}))
            n += 1
        if columns is None:
            out.write(_line({"table": name, "columns": []}))
        counts[name] = n
    out.write(_line({"end": True, "counts": counts}))
    out.flush()
    return counts


def _records(lines: Iterable[str]) -> Iterator[dict[str, Any]]:
    for number, text in enumerate(lines, 1):
        if not text.strip():
            continue
        try:
            obj = json.loads(text)
        except ValueError as exc:
            raise TransferError(f"line {number}: not JSON ({exc})") from None
        if not isinstance(obj, dict):
            raise TransferError(f"line {number}: expected a JSON object")
        yield obj


async def _insert(tx: Conn, table: str, columns: list[str], rows: list[list[Any]]) -> None:
    marks = "(" + ", ".join("?" for _ in columns) + ")"
    cols = ", ".join(columns)
    per = max(1, _PARAMS_PER_STATEMENT // max(1, len(columns)))
    for start in range(0, len(rows), per):
        chunk = rows[start : start + per]
        params = [_decode(v) for row in chunk for v in row]
        await tx.execute(
            f"INSERT INTO {table} ({cols}) VALUES " + ", ".join(marks for _ in chunk), params
        )


async def import_store(db: Engine, inp: IO[str], *, batch: int = 2000) -> dict[str, int]:
    """Load an export into ``db`` (migrated, empty, same schema version) in one transaction."""
    # long: check the header, then load every table in one transaction; each step short
    records = _records(inp)
    header = next(records, None)
    if not header or header.get("format") != FORMAT or header.get("version") != VERSION:
        raise TransferError(f"not a {FORMAT} v{VERSION} file")
    theirs, ours = header.get("schema", []), await schema_versions(db)
    if theirs != ours:
        raise TransferError(
            f"schema versions differ: file has {theirs}, target has {ours}; "
            "bring the older one up to date first"
        )
    target = set(await tables(db))
    missing = [t for t in header["tables"] if t not in target]
    if missing:
        raise TransferError(f"target has no table {missing[0]!r}")
    for name in header["tables"]:
        row = await db.fetch_one(f"SELECT COUNT(*) AS n FROM {name}")
        if row and int(row["n"]):
            raise TransferError(f"target table {name!r} is not empty; import into a new store")
    counts: dict[str, int] = {}
    async with db.transaction() as tx:
        table: str | None = None
        columns: list[str] = []
        pending: list[list[Any]] = []
        end: dict[str, Any] | None = None
        for rec in records:
            if "r" in rec:
                if table is None or len(rec["r"]) != len(columns):
                    raise TransferError("row outside a table or with the wrong column count")
                pending.append(rec["r"])
                counts[table] += 1
                if len(pending) >= batch:
                    await _insert(tx, table, columns, pending)
                    pending = []
                continue
            if pending and table is not None:
                await _insert(tx, table, columns, pending)
                pending = []
            if "table" in rec:
                table, columns = rec["table"], list(rec["columns"])
                if table not in header["tables"]:
                    raise TransferError(f"table {table!r} is not in the header")
                bad = [c for c in columns if not isinstance(c, str) or not _IDENT.match(c)]
                if bad:
                    raise TransferError(f"{table}: bad column name {bad[0]!r}")
                counts[table] = 0
            elif rec.get("end"):
                end = rec
                break
        if end is None:
            raise TransferError("the file is truncated (no end line); nothing imported")
        if end.get("counts") != counts:
            raise TransferError(
                f"row counts differ from the end line: {counts} vs {end.get('counts')}"
            )
        for name, expected in counts.items():
            row = await tx.fetch_one(f"SELECT COUNT(*) AS n FROM {name}")
            if not row or int(row["n"]) != expected:
                raise TransferError(
                    f"{name}: {row and row['n']} rows after import, expected {expected}"
                )
        if "credit_basis" in target:  # the next start recomputes the orders' stored credit
            await tx.execute("DELETE FROM credit_basis")
    settle = getattr(db, "settle_click_partitions", None)
    if settle is not None:  # PostgreSQL: imported months get their own click tables
        await settle()
    return counts
