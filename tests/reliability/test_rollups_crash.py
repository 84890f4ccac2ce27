"""Issue 19: the day roll-ups equal a recount from the raw clicks after kill -9 loops.

A real server process (the default HTTP server) under a click flood from a few visitors
(so unique counts take the visitor-update path, not only inserts) is killed with SIGKILL
at a random moment, several times on one database; after each kill, ``tracker rollups
check`` (a recount of every day from the raw clicks, compared figure by figure) must find
no difference, and the roll-ups' total must equal the stored clicks on links.

Cycles: ``TRACKER_TEST_ROLLUP_CRASH_CYCLES`` (default 2).
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from tests.conftest import DEFAULT_SERVER, ROOT
from tests.reliability.test_crash import flood_until, integrity, start

pytestmark = pytest.mark.slow

CYCLES = int(os.environ.get("TRACKER_TEST_ROLLUP_CRASH_CYCLES", "2"))


async def totals(database_url: str) -> tuple[int, int]:
    """(clicks on links, the roll-ups' sum of clicks)."""
    sql = (
        "SELECT (SELECT COUNT(*) FROM clicks WHERE link_id IS NOT NULL) AS raw, "
        "(SELECT COALESCE(SUM(clicks), 0) FROM click_days) AS rolled"
    )
    if database_url.startswith("sqlite"):
        with sqlite3.connect(database_url.removeprefix("sqlite:///")) as conn:
            raw, rolled = conn.execute(sql).fetchone()
            return int(raw), int(rolled)
    conn = await asyncpg.connect(database_url)
    try:
        row = await conn.fetchrow(sql)
        assert row is not None
        return int(row["raw"]), int(row["rolled"])
    finally:
        await conn.close()


def check(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tracker", "rollups", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.anyio
async def test_rollups_equal_recount_after_kill9_loop(
    tmp_path: Path, database_url: str, figures: Callable[[str, Any], None]
) -> None:
    rnd = random.Random(int(os.environ.get("TRACKER_TEST_SEED", str(time.time_ns()))))
    srv = start(tmp_path, database_url, 0, DEFAULT_SERVER)
    srv.cli("link", "create", "--slug", "flood-a", "--destination", "https://shop.example.com/a")
    srv.cli("link", "create", "--slug", "flood-b", "--destination", "https://shop.example.com/b")
    stored = 0
    for cycle in range(CYCLES):
        if cycle:
            srv = start(tmp_path, database_url, cycle, DEFAULT_SERVER)
        result, _ = await flood_until(srv, signal.SIGKILL, rnd)
        assert len(result.acks) >= 100, "the flood never got going"
        assert integrity(database_url) in ("ok", "n/a")
        out = check(srv.env)
        assert out.returncode == 0, f"cycle {cycle}: roll-ups differ:\n{out.stdout}{out.stderr}"
        raw, rolled = await totals(database_url)
        assert raw == rolled and raw > stored, (cycle, raw, rolled, stored)
        stored = raw
    # A deliberately wrong roll-up is found (the check can fail), and a rebuild repairs it.
    if database_url.startswith("sqlite"):
        with sqlite3.connect(database_url.removeprefix("sqlite:///")) as conn:
            conn.execute("UPDATE click_days SET unique_visitors = unique_visitors + 1")
    else:
        conn = await asyncpg.connect(database_url)
        try:
            await conn.execute("UPDATE click_days SET unique_visitors = unique_visitors + 1")
        finally:
            await conn.close()
    assert check(srv.env).returncode == 1
    srv.cli("rollups", "rebuild")
    assert check(srv.env).returncode == 0
    figures("kill -9 cycles, roll-ups = recount after each", CYCLES)
    figures("clicks on links stored across the cycles", stored)
