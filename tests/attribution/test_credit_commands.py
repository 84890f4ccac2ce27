"""``tracker credits check|rebuild`` (issue 19) through the real CLI, on both engines: check
finds a tampered stored row and an order whose credit was never stored, exits 1, and
rebuild puts both right."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.conftest import make_settings, run_cli, server_env
from tracker.store import open_store


async def _tamper(tmp_path: Path, database_url: str) -> tuple[str, str]:
    """One order's revenue split moved by a unit; another's rows gone and its mark cleared,
    as an order written around the ingest has it."""
    store = await open_store(make_settings(tmp_path, database_url), migrate=False)
    try:
        rows = await store.db.fetch_all(
            "SELECT DISTINCT order_id FROM order_credits ORDER BY order_id LIMIT 2"
        )
        changed, gone = rows[0]["order_id"], rows[1]["order_id"]
        n = await store.db.execute(
            "UPDATE order_credits SET revenue_minor = revenue_minor + 1 WHERE order_id = ? "
            "AND seq = 0",
            (changed,),
        )
        assert n >= 1
        await store.db.execute("DELETE FROM order_credits WHERE order_id = ?", (gone,))
        await store.db.execute("UPDATE orders SET credit_stored = 0 WHERE id = ?", (gone,))
        return changed, gone
    finally:
        await store.close()


@pytest.mark.slow
def test_check_finds_a_tampered_row_and_rebuild_fixes_it(tmp_path: Path, database_url: str) -> None:
    env = server_env(tmp_path, database_url)
    demo = run_cli(env, "demo", "--creators", "6", "--orders", "30")
    assert demo.returncode == 0, demo.stderr
    ok = run_cli(env, "credits", "check")
    assert ok.returncode == 0, ok.stderr
    assert "the stored credit agrees" in ok.stdout

    changed, gone = asyncio.run(_tamper(tmp_path, database_url))
    bad = run_cli(env, "credits", "check")
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert f"{changed}: differs" in bad.stdout and f"{gone}: not stored" in bad.stdout
    assert "1 differ, 1 not stored, 0 removed orders with rows" in bad.stderr

    fixed = run_cli(env, "credits", "rebuild")
    assert fixed.returncode == 0, fixed.stderr
    assert "recomputed the stored credit of" in fixed.stdout
    again = run_cli(env, "credits", "check")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "0 differ, 0 not stored" in again.stdout
