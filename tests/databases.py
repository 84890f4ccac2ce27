"""Test databases, migrated once and handed to each test clean (tests/conftest.py
``database_url``).

Running every migration for each test cost most of a short test (on PostgreSQL, ~150
relations created in ~20 transactions, then dropped: 0.5-1 s a test on the shared 2-core
machine, ~250 s of a full run). So:

* SQLite: the migrations run once per session into a template file; each test gets a copy.
* PostgreSQL: a pool of migrated schemas. A schema comes back from a test emptied (every
  table's rows deleted; the rows the migrations themselves wrote restored from a template
  schema) and is handed to the next test. It is reused only when its definition is exactly
  as migrated: a test that changed it (a column, an index, a trigger, anything in the
  catalogue) gets it dropped, except for click partitions it made for old months, which are
  dropped first. A schema with rows left in it (a process of a finished test still
  writing) is never handed out. What a reused schema does not share with a new one: the
  planner's statistics of earlier rows and dead row versions (no test reads them).

Tests that need an empty, unmigrated schema (migrations themselves) take ``pg_schema_url``.
"""

from __future__ import annotations

import asyncio
import secrets
import threading
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

import asyncpg

T = TypeVar("T")

#: The relations of a schema (tables, partitions; not indexes), found through the index of
#: pg_depend: a scan of pg_class by schema reads the whole catalogue, and a test database
#: server that creates and drops many schemas has a large one.
RELATIONS = """
SELECT objid FROM pg_depend
WHERE refclassid = 'pg_namespace'::regclass AND refobjid = $1::regnamespace
  AND classid = 'pg_class'::regclass
"""
#: Changes to a schema's definition: every catalogue row of its objects, by row version
#: (``xmin`` changes with each update of a row; statistics are updated in place).
SIGNATURE = f"""
WITH rels AS MATERIALIZED ({RELATIONS}),
idx AS MATERIALIZED (
  SELECT indexrelid AS oid, xmin FROM pg_index WHERE indrelid = ANY (ARRAY(SELECT * FROM rels))
),
allrels AS MATERIALIZED (SELECT * FROM rels UNION ALL SELECT oid FROM idx)
SELECT md5(string_agg(row, ',' ORDER BY row)) FROM (
  SELECT 'n' || classid || ':' || objid || ':' || deptype::text AS row FROM pg_depend
    WHERE refclassid = 'pg_namespace'::regclass AND refobjid = $1::regnamespace
  UNION ALL SELECT 'c' || oid || ':' || xmin FROM pg_class
    WHERE oid = ANY (ARRAY(SELECT * FROM allrels))
  UNION ALL SELECT 'i' || oid || ':' || xmin FROM idx
  UNION ALL SELECT 'a' || attrelid || ':' || attnum || ':' || xmin FROM pg_attribute
    WHERE attrelid = ANY (ARRAY(SELECT * FROM allrels))
  UNION ALL SELECT 'd' || oid || ':' || xmin FROM pg_attrdef
    WHERE adrelid = ANY (ARRAY(SELECT * FROM rels))
  UNION ALL SELECT 'k' || oid || ':' || xmin FROM pg_constraint
    WHERE conrelid = ANY (ARRAY(SELECT * FROM rels))
  UNION ALL SELECT 't' || oid || ':' || xmin FROM pg_trigger
    WHERE tgrelid = ANY (ARRAY(SELECT * FROM rels))
  UNION ALL SELECT 'h' || inhrelid || ':' || xmin FROM pg_inherits
    WHERE inhparent = ANY (ARRAY(SELECT * FROM rels))
) rows
"""
TABLES = f"""
SELECT relname FROM pg_class WHERE oid = ANY (ARRAY({RELATIONS}))
  AND relkind IN ('r', 'p') AND NOT relispartition
"""
PARTITIONS = f"""
SELECT relname FROM pg_class WHERE oid = ANY (ARRAY({RELATIONS}))
  AND relkind = 'r' AND relispartition
"""
#: (referencing table, referenced table) within the schema
FOREIGN_KEYS = """
SELECT r.relname AS child, p.relname AS parent FROM pg_constraint k
JOIN pg_class r ON r.oid = k.conrelid JOIN pg_class p ON p.oid = k.confrelid
WHERE k.contype = 'f' AND k.connamespace = $1::regnamespace AND r.oid <> p.oid
"""


def delete_order(tables: list[str], fks: list[tuple[str, str]]) -> list[str]:
    """Tables ordered so that each comes before every table it references."""
    refs = {t: {p for c, p in fks if c == t} for t in tables}
    referrers = {t: {c for c, p in fks if p == t} for t in tables}
    done: list[str] = []
    left = set(tables)
    while left:
        ready = sorted(t for t in left if not (referrers[t] & left))
        if not ready:
            raise RuntimeError(f"foreign keys in a cycle: {sorted(left)}")
        done += ready
        left -= set(ready)
    assert all(done.index(c) < done.index(p) for c in tables for p in refs[c])
    return done


class SchemaPool:
    """Migrated PostgreSQL schemas, emptied between tests (see the module docstring).

    Its SQL runs on one connection in a thread of its own (its own event loop), so the
    fixtures can call it whatever loop a test runs in.
    """

    def __init__(self, url: str, migrate: Callable[[str], Awaitable[None]]) -> None:
        self.url, self.migrate = url, migrate
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(
            target=self.loop.run_forever, name="test-schema-pool", daemon=True
        )
        self.thread.start()
        self.conn: asyncpg.Connection = self._run(asyncpg.connect(url))
        self.free: list[str] = []
        self.signatures: dict[str, str] = {}
        self.reused = self.created = self.discarded = 0
        self.template = self._create()
        tables = [r["relname"] for r in self._run(self.conn.fetch(TABLES, self.template))]
        fks = [
            (r["child"], r["parent"])
            for r in self._run(self.conn.fetch(FOREIGN_KEYS, self.template))
        ]
        self.tables = delete_order(tables, fks)
        self.partitions = {
            r["relname"] for r in self._run(self.conn.fetch(PARTITIONS, self.template))
        }
        #: tables the migrations wrote rows to (schema_migrations, the credit basis)
        self.seeded = [
            t
            for t in self.tables
            if self._run(self.conn.fetchval(f"SELECT EXISTS (SELECT 1 FROM {self.template}.{t})"))
        ]

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    def schema_url(self, schema: str) -> str:
        sep = "&" if "?" in self.url else "?"
        return f"{self.url}{sep}search_path={schema}"

    def _create(self) -> str:
        schema = "t_" + secrets.token_hex(6)
        self._run(self.conn.execute(f"CREATE SCHEMA {schema}"))
        self._run(self.migrate(self.schema_url(schema)))  # type: ignore[arg-type]
        self.signatures[schema] = self._run(self.conn.fetchval(SIGNATURE, schema))
        self.created += 1
        return schema

    def _drop(self, schema: str) -> None:
        self.signatures.pop(schema, None)
        self._run(self.conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))

    def _empty(self, schema: str) -> bool:
        others = [t for t in self.tables if t not in self.seeded]
        probe = " OR ".join(f"EXISTS (SELECT 1 FROM {schema}.{t})" for t in others)
        return not self._run(self.conn.fetchval(f"SELECT {probe}"))

    def checkout(self) -> str:
        """A migrated schema with no rows but the migrations' own."""
        while self.free:
            schema = self.free.pop()
            if self._empty(schema):
                self.reused += 1
                return schema
            self.discarded += 1
            self._drop(schema)
        return self._create()

    def checkin(self, schema: str) -> None:
        """Empty the schema for the next test, or drop it if it cannot be made as new."""
        try:
            extra = [
                r["relname"]
                for r in self._run(self.conn.fetch(PARTITIONS, schema))
                if r["relname"] not in self.partitions
            ]
            if extra:  # click partitions made for the months a test wrote to
                self._run(self.conn.execute("".join(f"DROP TABLE {schema}.{t};" for t in extra)))
            if self._run(self.conn.fetchval(SIGNATURE, schema)) != self.signatures[schema]:
                raise LookupError("definition changed")
            statements = [
                "BEGIN",
                "SET LOCAL lock_timeout = '10s'",
                *(f"DELETE FROM {schema}.{t}" for t in self.tables),
                *(
                    f"INSERT INTO {schema}.{t} SELECT * FROM {self.template}.{t}"
                    for t in self.seeded
                ),
                "COMMIT",
            ]
            self._run(self.conn.execute(";\n".join(statements)))
        except (LookupError, asyncpg.PostgresError):
            if self.conn.is_in_transaction():
                self._run(self.conn.execute("ROLLBACK"))
            self.discarded += 1
            self._drop(schema)
            return
        self.free.append(schema)

    def close(self) -> None:
        for schema in [*self.free, self.template]:
            self._drop(schema)
        self._run(self.conn.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()
