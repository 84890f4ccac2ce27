"""The test databases (tests/databases.py) hand every test a clean, migrated database: a
reused PostgreSQL schema comes back without the rows of the test before, with the
migrations' own rows, and a schema whose definition a test changed is never reused."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.conftest import make_settings, running
from tests.databases import SchemaPool, delete_order

pytestmark = pytest.mark.postgres


def test_delete_order_puts_each_table_before_those_it_references() -> None:
    fks = [("touches", "orders"), ("orders", "shops"), ("touches", "links"), ("links", "creators")]
    order = delete_order(["creators", "links", "orders", "shops", "touches"], fks)
    for child, parent in fks:
        assert order.index(child) < order.index(parent)
    with pytest.raises(RuntimeError, match="cycle"):
        delete_order(["a", "b"], [("a", "b"), ("b", "a")])


def _counts(pool: SchemaPool, schema: str) -> dict[str, int]:
    return {
        t: pool._run(pool.conn.fetchval(f"SELECT COUNT(*) FROM {schema}.{t}")) for t in pool.tables
    }


def test_a_used_schema_comes_back_clean(tmp_path: Path, schema_pool: SchemaPool) -> None:
    pool = schema_pool
    schema = pool.checkout()
    clean = _counts(pool, schema)
    assert clean == _counts(pool, pool.template)
    assert clean["schema_migrations"] > 0 and set(pool.seeded) == {t for t, n in clean.items() if n}

    async def use() -> None:
        async with running(make_settings(tmp_path, pool.schema_url(schema))) as live:
            auth = await live.token()
            r = await live.client.post("/api/v1/creators", headers=auth, json={"handle": "used"})
            assert r.status_code == 201, r.text
            link = {
                "destination": "https://shop.example.com/",
                "slug": "used",
                "creator_id": "used",
            }
            assert (await live.client.post("/api/v1/links", headers=auth, json=link)).is_success
            assert (await live.client.get("/used")).status_code == 302
            await live.flush()

    asyncio.run(use())
    used = _counts(pool, schema)
    assert used["creators"] == used["links"] == used["clicks"] == 1
    pool.checkin(schema)
    assert pool.checkout() == schema  # reused, not migrated again
    try:
        assert _counts(pool, schema) == clean
    finally:
        pool.checkin(schema)


def test_a_changed_schema_is_dropped_and_never_reused(schema_pool: SchemaPool) -> None:
    pool = schema_pool
    for change in (
        "ALTER TABLE {s}.links ADD COLUMN extra INTEGER",
        "CREATE INDEX links_extra ON {s}.links (destination)",
        "DROP INDEX {s}.clicks_at",
    ):
        schema = pool.checkout()
        pool._run(pool.conn.execute(change.format(s=schema)))
        dropped = pool.discarded
        pool.checkin(schema)
        assert pool.discarded == dropped + 1, change
        assert schema not in pool.free
        assert not pool._run(pool.conn.fetchval("SELECT to_regnamespace($1)", schema))


def test_a_month_partition_made_by_a_test_is_dropped_and_the_schema_reused(
    schema_pool: SchemaPool,
) -> None:
    pool = schema_pool
    schema = pool.checkout()
    pool._run(
        pool.conn.execute(
            f"CREATE TABLE {schema}.clicks_2001_01 (LIKE {schema}.clicks INCLUDING DEFAULTS);"
            f"ALTER TABLE {schema}.clicks ATTACH PARTITION {schema}.clicks_2001_01 "
            "FOR VALUES FROM ('2001-01') TO ('2001-02')"
        )
    )
    dropped = pool.discarded
    pool.checkin(schema)
    assert pool.discarded == dropped and schema in pool.free
    assert not pool._run(pool.conn.fetchval(f"SELECT to_regclass('{schema}.clicks_2001_01')"))
