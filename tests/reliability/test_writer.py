"""One click row the database refuses must not block every click queued behind it."""

from __future__ import annotations

import time

import pytest

from tests.conftest import Running


def _row(cid: str, slug: str = "s") -> tuple[object, ...]:
    return (
        cid,
        time.time(),
        slug,
        None,
        None,
        "fp",
        "mobile",
        "iOS",
        "Safari",
        0,
        None,
        0,
        None,
        None,
        "GET",
    )


@pytest.mark.anyio
async def test_poison_row_is_set_aside_and_the_rest_written(live: Running) -> None:
    writer = live.state.writer
    # A value neither engine can store: NUL in text (PostgreSQL), a non-JSON object (SQLite).
    poison = "bad\x00slug" if live.store.db.dialect == "postgres" else object()
    for i in range(500):
        assert writer.add(_row(f"ok{i:04d}"))
    assert writer.add(_row("poison00000000", poison))  # type: ignore[arg-type]
    for i in range(500, 1000):
        assert writer.add(_row(f"ok{i:04d}"))
    await live.flush()
    assert writer.pending == 0
    assert writer.rejected == 1
    assert await live.store.count_clicks() == 1000
    assert await live.store.get_click("poison00000000") is None
    health = (await live.client.get("/healthz")).json()["click_writer"]
    assert health["rejected"] == 1 and health["dropped"] == 0
