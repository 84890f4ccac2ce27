"""``tracker backup``: an online SQLite backup taken while clicks pour in, then restored."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import Server, free_port, run_cli, server_env
from tests.reliability.loadgen import Flood, flood

pytestmark = pytest.mark.slow


@pytest.mark.anyio
async def test_backup_under_load_and_restore(
    tmp_path: Path, figures: Callable[[str, Any], None]
) -> None:
    live_dir, restored_dir = tmp_path / "live", tmp_path / "restored"
    env = server_env(live_dir, f"sqlite:///{live_dir / 'tracker.db'}")
    srv = Server(env, free_port(), tmp_path / "live.log").start()
    backup = tmp_path / "backups" / "tracker-backup.db"
    backup.parent.mkdir()
    try:
        srv.cli("link", "create", "--slug", "tee", "--destination", "https://shop.example.com/t")
        stop = asyncio.Event()
        result = Flood()
        task = asyncio.create_task(
            flood(srv.port, ["/tee"], conns=8, seconds=20, stop=stop, out=result)
        )
        while len(result.acks) < 300 and not task.done():
            await asyncio.sleep(0.02)
        done = await asyncio.to_thread(run_cli, env, "backup", str(backup))
        during = len(result.acks)
        await asyncio.sleep(0.3)
        stop.set()
        await task
        assert done.returncode == 0, done.stderr
        assert "integrity ok" in done.stdout
        assert during > 300, "the backup did not run under load"
        again = run_cli(env, "backup", str(backup))
        assert again.returncode == 1 and "exists" in again.stderr  # never overwrites
    finally:
        srv.stop()
    assert not backup.with_name(backup.name + ".partial").exists()
    with sqlite3.connect(backup) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        in_backup = {r[0] for r in conn.execute("SELECT id FROM clicks")}
    with sqlite3.connect(live_dir / "tracker.db") as conn:
        in_live = {r[0] for r in conn.execute("SELECT id FROM clicks")}
    assert in_backup and in_backup <= in_live
    assert len(in_live) >= len(result.acks)  # SIGTERM drained everything

    # Restore: the backup becomes the database of a new data dir; a server starts on it.
    restored_dir.mkdir()
    shutil.copy(backup, restored_dir / "tracker.db")
    env2 = server_env(restored_dir, f"sqlite:///{restored_dir / 'tracker.db'}")
    srv2 = Server(env2, free_port(), tmp_path / "restored.log").start()
    try:
        assert "https://shop.example.com/t" in srv2.cli("link", "get", "tee")
        r = httpx.get(srv2.url + "/tee", follow_redirects=False)
        assert r.status_code == 302
        token = srv2.cli("token", "create", "restore-check").strip()
        stats = httpx.get(
            srv2.url + "/api/v1/links/tee/stats", headers={"Authorization": f"Bearer {token}"}
        ).json()
    finally:
        srv2.stop()
    assert stats["clicks"] >= len(in_backup)
    figures("clicks in backup taken under load", len(in_backup))
    figures("clicks acknowledged when the backup finished", during)


def test_backup_refuses_postgres_with_guidance(tmp_path: Path) -> None:
    env = server_env(tmp_path, "postgresql://postgres@127.0.0.1:1/none")
    out = run_cli(env, "backup", str(tmp_path / "x.db"))
    assert out.returncode == 2 and "pg_dump" in out.stderr


def test_backup_to_a_path_it_cannot_write_is_an_error_line(tmp_path: Path) -> None:
    """``tracker backup /no/such/dir/x.db`` ended in a sqlite3 traceback ("unable to open
    database file"); a path in a missing directory, or a directory, is one error line and
    exit 1, and nothing is left behind (hostile pass, third)."""
    env = server_env(tmp_path, f"sqlite:///{tmp_path / 'tracker.db'}")
    assert run_cli(env, "migrate").returncode == 0
    for dest in (tmp_path / "missing" / "x.db", tmp_path):
        out = run_cli(env, "backup", str(dest))
        assert out.returncode == 1 and "Traceback" not in out.stderr, out.stderr
        assert out.stderr.startswith("error: "), out.stderr
    assert not (tmp_path / "missing").exists()
    assert not list(tmp_path.glob("*.partial"))
