"""Durability settings are read back from the database at start, exposed and enforced."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Server, free_port, make_settings, running, server_env
from tracker.store import durability


@pytest.mark.anyio
@pytest.mark.parametrize(("sync", "busy"), [("full", "5000"), ("normal", "1234")])
async def test_sqlite_pragmas_read_back(
    tmp_path: Path, sync: str, busy: str, figures: Callable[[str, Any], None]
) -> None:
    settings = make_settings(
        tmp_path,
        f"sqlite:///{tmp_path / 'tracker.db'}",
        TRACKER_SQLITE_SYNCHRONOUS=sync,
        TRACKER_SQLITE_BUSY_TIMEOUT_MS=busy,
    )
    async with running(settings) as live:
        health = (await live.client.get("/healthz")).json()
        found = health["durability"]
        assert found["journal_mode"] == "wal"
        assert found["synchronous"] == sync
        assert found["busy_timeout"] == int(busy)
        assert found["foreign_keys"] == 1
        figures("sqlite durability", found)
    # WAL is a property of the file: a fresh connection sees it too.
    with sqlite3.connect(tmp_path / "tracker.db") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


@pytest.mark.anyio
@pytest.mark.postgres
async def test_postgres_synchronous_commit_read_back(tmp_path: Path, pg_schema_url: str) -> None:
    async with running(make_settings(tmp_path, pg_schema_url)) as live:
        found = (await live.client.get("/healthz")).json()["durability"]
        assert found["synchronous_commit"] == "on"


def test_start_refuses_durability_not_in_force(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, f"sqlite:///{tmp_path / 'tracker.db'}")
    good = {"journal_mode": "wal", "synchronous": "full", "busy_timeout": 5000}
    assert durability.check(settings, good) == good
    for bad in (
        {**good, "journal_mode": "delete"},
        {**good, "synchronous": "normal"},
        {**good, "busy_timeout": 0},
    ):
        with pytest.raises(durability.DurabilityError):
            durability.check(settings, bad)


@pytest.mark.slow
def test_durability_logged_at_start(tmp_path: Path) -> None:
    env = server_env(tmp_path, f"sqlite:///{tmp_path / 'tracker.db'}", TRACKER_LOG_LEVEL="info")
    srv = Server(env, free_port(), tmp_path / "server.log").start()
    srv.stop()
    log = (tmp_path / "server.log").read_text()
    assert (
        "sqlite durability: {'journal_mode': 'wal', 'synchronous': 'full', "
        "'busy_timeout': 5000" in log
    ), log[-2000:]


NOW = "2026-11-30T00:00:00.000000Z"


@pytest.mark.anyio
async def test_a_row_written_during_a_stream_is_read_back(live: Any) -> None:
    """A read right after a write sees it, even while a stream (the link cache's sync, an
    export) is half-way through its rows. Regression: on SQLite the stream held the shared
    reader's snapshot, so a user created during a link-cache sync was "not found" when read
    back (bench/admin_pages.py, 30 Nov)."""
    db = live.store.db
    rows = db.stream(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000) "
        "SELECT n.i FROM n JOIN creators c ON 1 = 1 UNION ALL SELECT i FROM n"
    )
    first = await anext(rows)  # the stream is open, its cursor mid-way
    assert first["i"] == 1
    async with db.transaction() as tx:
        await tx.execute(
            "INSERT INTO campaigns (id, name, name_key, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?)",
            ("cp_stream", "during a stream", "during a stream", NOW, NOW),
        )
    got = await db.fetch_one("SELECT name FROM campaigns WHERE id = ?", ("cp_stream",))
    assert got is not None and got["name"] == "during a stream"
    assert 1 + sum(1 for _ in [r async for r in rows]) == 3000  # the stream still ends whole
