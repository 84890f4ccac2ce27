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
