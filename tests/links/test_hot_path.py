"""The tuned redirect path (issue 8): behaviour kept while it got cheaper.

Click ids, the link cache's periodic sync (changes made behind the app's back), the one-hop
SQLite batch insert (values that would end a SQL literal), the writer's backpressure (it
blocks, it never drops) and ``/healthz?since=``.
"""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path

import pytest

from tests.conftest import Running, make_settings, running
from tracker.core import ids

pytestmark = pytest.mark.anyio


def test_click_ids_are_url_safe_unique_and_time_ordered() -> None:
    many = [ids.click_id() for _ in range(20_000)]
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{16}", c) for c in many)
    assert len(set(many)) == len(many)
    stamps = [1.0e9, 1.7e9, 1.7e9 + 1, 2.5e9, 4.0e9]
    made = [ids.click_id(t) for t in stamps]
    assert made == sorted(made)  # text order is time order: the primary key grows at its end


async def _link(live: Running, auth: dict[str, str], slug: str, dest: str) -> dict[str, str]:
    r = await live.client.post(
        "/api/v1/links", headers=auth, json={"slug": slug, "destination": dest}
    )
    assert r.status_code == 201, r.text
    body: dict[str, str] = r.json()
    return body


async def test_change_made_elsewhere_reaches_the_cache_by_sync(
    live: Running, auth: dict[str, str]
) -> None:
    link = await _link(live, auth, "syncme", "https://shop.example.com/a")
    assert (
        (await live.client.get("/syncme"))
        .headers["location"]
        .startswith("https://shop.example.com/a?")
    )
    # Changed straight in the store (as another node or the CLI would): no invalidation.
    await live.store.update_link(link["id"], {"destination": "https://shop.example.com/b"})
    assert (
        (await live.client.get("/syncme"))
        .headers["location"]
        .startswith("https://shop.example.com/a?")
    )  # cached until the next sync
    await live.state.cache.sync()
    assert (
        (await live.client.get("/syncme"))
        .headers["location"]
        .startswith("https://shop.example.com/b?")
    )
    await live.store.update_link(link["id"], {"slug": "renamed"})
    await live.store.update_link(link["id"], {"status": "disabled"})
    await live.state.cache.sync()
    assert (await live.client.get("/syncme")).status_code == 404
    assert (await live.client.get("/renamed")).status_code == 410


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_ttl_zero_reads_the_store_every_time(tmp_path: Path, database_url: str) -> None:
    settings = make_settings(tmp_path, database_url, TRACKER_LINK_CACHE_TTL="0")
    async with running(settings) as live:
        auth = await live.token()
        link = await _link(live, auth, "fresh", "https://shop.example.com/a")
        await live.store.update_link(link["id"], {"destination": "https://shop.example.com/z"})
        assert (
            (await live.client.get("/fresh"))
            .headers["location"]
            .startswith("https://shop.example.com/z?")
        )


async def test_quotes_and_sql_in_click_values_are_stored_verbatim(
    live: Running, auth: dict[str, str]
) -> None:
    await _link(live, auth, "quoted", "https://shop.example.com/q")
    host = "it's.example'); drop table clicks; --"
    r = await live.client.get(
        "/quoted",
        headers={
            "referer": f"https://{host}/p",
            "user-agent": "Mozilla/5.0 'quoted' \u00e9".encode("latin-1"),
        },
    )
    assert r.status_code == 302
    click_id = r.headers["location"].rsplit("cl_cid=", 1)[1]
    await live.flush()
    row = await live.store.get_click(click_id)
    assert row is not None and row["referrer_host"] == host
    assert await live.store.count_clicks() == 1


# SQLite only: holding its single write transaction is how a test makes the store slow.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_writer_blocks_redirects_while_behind_and_loses_nothing(
    live: Running, auth: dict[str, str]
) -> None:
    await _link(live, auth, "busy", "https://shop.example.com/busy")
    writer = live.state.writer
    await live.client.get("/busy")
    await live.flush()
    # Hold the SQLite write transaction: the writer's next flush waits behind it.
    async with live.store.db.transaction():
        assert (await live.client.get("/busy")).status_code == 302
        await asyncio.sleep(0.1)  # the writer starts flushing that click and waits for the lock
        assert writer._flushing and writer.pending == 0
        filler = [("filler",)] * writer._backlog  # a backlog as if traffic had piled up
        writer._buf.extend(filler)
        blocked = asyncio.create_task(live.client.get("/busy"))
        await asyncio.sleep(0.2)
        assert not blocked.done()  # the redirect waits for room instead of growing the queue
        del writer._buf[: len(filler)]
    assert (await blocked).status_code == 302
    await live.flush()
    stats = writer.stats()
    assert stats["dropped"] == 0 and stats["waits"] >= 1
    assert await live.store.count_clicks() == writer.written == 3


async def test_healthz_since_limits_lag_figures(live: Running, auth: dict[str, str]) -> None:
    await _link(live, auth, "lagged", "https://shop.example.com/l")
    for _ in range(3):
        await live.client.get("/lagged")
    await live.flush()
    everything = (await live.client.get("/healthz", params={"since": "0"})).json()
    assert everything["click_writer"]["lag_rows"] == 3
    later = (await live.client.get("/healthz", params={"since": str(time.time() + 60)})).json()
    assert later["click_writer"]["lag_rows"] == 0
    assert later["click_writer"]["written"] == 3
    bad = await live.client.get("/healthz", params={"since": "yesterday"})
    assert bad.status_code == 400


def test_one_process_click_ids_only_increase() -> None:
    now = time.time()
    made = [ids.click_id(now) for _ in range(5_000)]  # all within one second
    assert made == sorted(made) and len(set(made)) == len(made)


async def _click_indexes(live: Running) -> set[str]:
    if live.store.db.dialect == "sqlite":
        sql = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'clicks'"
    else:
        sql = (
            "SELECT indexname AS name FROM pg_indexes WHERE tablename = 'clicks' "
            "AND schemaname = current_schema()"
        )
    return {r["name"] for r in await live.store.db.fetch_all(sql)}


async def test_clicks_carry_only_append_only_indexes_and_counts_still_add_up(
    live: Running, auth: dict[str, str]
) -> None:
    """Every index on clicks costs every redirect; per-link and per-creator counts read the
    (at, link_id, is_bot) index instead of indexes of their own (migration 0006)."""
    names = await _click_indexes(live)
    assert {n for n in names if not n.startswith(("sqlite_autoindex", "clicks_pkey"))} == {
        "clicks_at",
        "clicks_fingerprint_human",
    }
    c = live.client
    cr = (await c.post("/api/v1/creators", headers=auth, json={"handle": "ana"})).json()["id"]
    for slug in ("ana1", "ana2"):
        r = await c.post(
            "/api/v1/links",
            headers=auth,
            json={"slug": slug, "destination": "https://shop.example.com/", "creator_id": cr},
        )
        assert r.status_code == 201
    human = {"user-agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) Safari/604.1"}
    for slug, n in (("ana1", 3), ("ana2", 2)):
        for _ in range(n):
            await c.get(f"/{slug}", headers=human)
    await c.get("/ana1", headers={"user-agent": "facebookexternalhit/1.1"})
    await live.flush()
    links = {ln["slug"]: ln["id"] for ln in await live.store.list_links()}
    by_link = await live.store.click_counts_by_link([links["ana1"], links["ana2"]])
    assert by_link == {links["ana1"]: 4, links["ana2"]: 2}
    assert await live.store.click_counts_by_creator([cr]) == {cr: 6}
    stats = (await c.get("/api/v1/links/ana1/stats", headers=auth)).json()
    assert stats["clicks"] == 4 and stats["human_clicks"] == 3
    if live.store.db.dialect == "sqlite":  # answered from the index, never the table
        plan = await live.store.db.fetch_all(
            "EXPLAIN QUERY PLAN SELECT link_id, COUNT(*) FROM clicks WHERE link_id IN (?, ?) "
            "GROUP BY link_id",
            (links["ana1"], links["ana2"]),
        )
        assert any("COVERING INDEX clicks_at" in r["detail"] for r in plan), plan


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_checkpoints_copy_the_wal_without_the_writers(
    live: Running, auth: dict[str, str]
) -> None:
    """The writers' own autocheckpoint is only a far-off backstop; the checkpointer copies
    committed clicks into the database file about every CHECKPOINT_EVERY seconds."""
    import sqlite3

    from tracker.store.sqlite import CHECKPOINT_EVERY

    await _link(live, auth, "ckpt", "https://shop.example.com/c")
    for _ in range(20):
        await live.client.get("/ckpt")
    await live.flush()
    await asyncio.sleep(CHECKPOINT_EVERY * 2 + 0.2)
    path = live.store.db.path
    # immutable=1 reads the database file alone, ignoring the WAL.
    main_file = sqlite3.connect(f"file:{path}?immutable=1", uri=True)
    try:
        assert main_file.execute("SELECT COUNT(*) FROM clicks").fetchone()[0] == 20
    finally:
        main_file.close()


async def test_click_batches_of_every_size_are_stored_exactly_once(live: Running) -> None:
    """SQLite binds a batch into 256-, 64- and 16-row statements, padding the last one with
    copies its conflict clause drops; a retried batch adds nothing either."""
    from tracker.core import clock

    now = time.time()
    total = 0
    for n in (1, 15, 16, 17, 63, 65, 255, 257, 650):
        rows = [
            (ids.click_id(now), clock.iso(now), "s", None, None, None, "", "", "", 0, None, 0,
             None, None, "GET")
            for _ in range(n)
        ]  # fmt: skip
        await live.store.insert_clicks(rows)
        await live.store.insert_clicks(rows[: n // 2 + 1])  # a retry of part of it
        total += n
        assert await live.store.count_clicks() == total, n


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_wal_restarts_under_sustained_writes(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With commits every few milliseconds a passive checkpoint never catches up alone, and
    the WAL grew by ~12 MB/s under full load. The checkpointer's second pass under the
    write lock lets it restart: the WAL stays a fraction of what was written."""
    from tracker.core import clock
    from tracker.store import sqlite as engine_module

    monkeypatch.setattr(engine_module, "CHECKPOINT_EVERY", 0.2)
    settings = make_settings(tmp_path, database_url)
    async with running(settings) as live:
        db = live.store.db
        before = db.path.stat().st_size
        deadline = time.monotonic() + 3.0
        while time.monotonic() < deadline:
            now = time.time()
            rows = [
                (ids.click_id(now), clock.iso(now), "s" * 40, None, None, "f" * 32, "mobile",
                 "iOS", "Mobile Safari", 0, None, 0, "l.instagram.com", None, "GET")
                for _ in range(300)
            ]  # fmt: skip
            await live.store.insert_clicks(rows)
        assert db._checkpointer.runs >= 5
        await db._checkpointer.checkpoint()
        grown = db.path.stat().st_size - before
        wal = Path(f"{db.path}-wal").stat().st_size
        assert grown > 4_000_000  # enough written for the comparison to mean something
        assert wal < grown / 2, (wal, grown)
