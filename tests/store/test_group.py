"""Group commit (tracker/store/group.py) on both engines: jobs queued together share one
transaction, a failing job is undone alone, and its neighbours' writes are kept."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.conftest import Running

pytestmark = pytest.mark.anyio


async def _probe(live: Running) -> Any:
    store = live.store
    await store.db.execute("CREATE TABLE gc_probe (k TEXT PRIMARY KEY)")
    return store


async def _keys(store: Any) -> list[str]:
    return [r["k"] for r in await store.db.fetch_all("SELECT k FROM gc_probe ORDER BY k")]


def _insert(*keys: str, fail: bool = False) -> Any:
    async def job(tx: Any) -> str:
        for k in keys:
            await tx.execute("INSERT INTO gc_probe (k) VALUES (?)", (k,))
        if fail:
            raise RuntimeError(f"job {keys[0]} failed")
        return keys[0]

    return job


async def test_a_failing_job_is_undone_alone_and_its_batch_commits(live: Running) -> None:
    store = await _probe(live)
    batches = store.writes.batches  # PostgreSQL's lanes: one key, one lane
    results = await asyncio.gather(
        store.writes.run(_insert("a1", "a2"), "one lane"),
        store.writes.run(_insert("b1", "b2", fail=True), "one lane"),
        store.writes.run(_insert("c1"), "one lane"),
        store.writes.run(_insert("a1"), "one lane"),  # a unique violation: the database refuses it
        store.writes.run(_insert("d1"), "one lane"),
        return_exceptions=True,
    )
    assert results[0] == "a1" and results[2] == "c1" and results[4] == "d1"
    assert isinstance(results[1], RuntimeError) and "job b1 failed" in str(results[1])
    assert isinstance(results[3], Exception)
    assert await _keys(store) == ["a1", "a2", "c1", "d1"]  # nothing of b, nothing twice
    assert store.writes.batches == batches + 1  # the five shared one commit


async def test_a_lone_failing_job_writes_nothing(live: Running) -> None:
    store = await _probe(live)
    with pytest.raises(RuntimeError, match="job x1 failed"):
        await store.writes.run(_insert("x1", "x2", fail=True))
    assert await store.writes.run(_insert("y1")) == "y1"
    assert await _keys(store) == ["y1"]
