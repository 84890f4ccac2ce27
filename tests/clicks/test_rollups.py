"""Issue 19: day roll-ups of clicks (``click_days``), on both engines.

A hand-computed case through the writer's store path in several batches (a batch sent
twice counts once), day edges (23:59:59.999999 and 00:00:00.000000), report facts over
whole days, partial ranges and both at once, retention (fingerprints erased: the unique
counts stay; raw clicks deleted: the day counts stay), the rebuild, and on PostgreSQL the
migration of a populated clicks table to month partitions and an export/import between
partitioned stores.
"""

from __future__ import annotations

import io
import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Running, make_settings
from tracker.clicks import commands, reach
from tracker.core import clock
from tracker.store import open_store
from tracker.store.click_days import split_range
from tracker.store.engine import CLICK_COLUMNS
from tracker.store.migrate import migrations_dir
from tracker.store.sqlite import split_statements
from tracker.store.transfer import export_store

D, D1, D2 = "2026-03-10", "2026-03-11", "2026-03-12"


def _row(cid: str, at: str, link: str | None, creator: str | None, fp: str | None, bot: int = 0):  # type: ignore[no-untyped-def]
    return (
        cid, at, "s", link, creator, fp, "mobile", "iOS", "Safari", bot,
        "crawler" if bot else None, 0, None, None, "GET", None, None,
    )  # fmt: skip


def _rows(l1: str, l2: str, creator: str) -> dict[int, tuple[Any, ...]]:
    return {
        1: _row("k1", f"{D}T10:05:00.000000Z", l1, creator, "A"),
        2: _row("k2", f"{D}T10:40:00.000000Z", l1, creator, "A"),
        3: _row("k3", f"{D}T11:10:00.000000Z", l1, creator, "A"),
        4: _row("k4", f"{D}T23:59:59.999999Z", l1, creator, "B"),
        5: _row("k5", f"{D1}T00:00:00.000000Z", l1, creator, "B"),
        6: _row("k6", f"{D}T12:00:00.000000Z", l1, creator, "X", bot=1),
        7: _row("k7", f"{D}T13:00:00.000000Z", l1, creator, None),
        8: _row("k8", f"{D}T10:06:00.000000Z", l2, None, "A"),
    }


async def _seed(live: Running) -> tuple[str, str, str]:
    store = live.store
    creator = (await store.create_creator({"handle": "maya"}))["id"]
    l1 = (
        await store.create_link(
            {"slug": "m1", "creator_id": creator, "destination": "https://shop.example.com/"}
        )
    )["id"]
    l2 = (await store.create_link({"slug": "m2", "destination": "https://shop.example.com/"}))["id"]
    r = _rows(l1, l2, creator)
    for batch in ([1, 8, 6], [2, 3, 7], [4, 5], [1, 2]):  # the last one again: no change
        await store.insert_clicks([r[i] for i in batch])
    return creator, l1, l2


def _figures(row: dict[str, Any]) -> tuple[int, int, int, int]:
    return (row["clicks"], row["human_clicks"], row["unique_clicks"], row["unique_visitors"])


async def _days(live: Running) -> dict[tuple[str, str], tuple[int, int, int, int]]:
    rows = await live.store.db.fetch_all("SELECT * FROM click_days")
    return {(r["day"], r["link_id"]): _figures(r) for r in rows}


async def _facts(live: Running, start: str, end: str) -> dict[Any, tuple[int, int, int, int]]:
    rows = await live.store.click_facts("creator", start, end, ())
    return {r["key"]: _figures(r) for r in rows}


def test_split_range() -> None:
    z = "T00:00:00.000000Z"
    assert split_range(f"{D}{z}", f"{D2}{z}") == ((D, D2), [])
    assert split_range(f"{D}T12:00:00.000000Z", f"{D2}T06:00:00.000000Z") == (
        (D1, D2),
        [(f"{D}T12:00:00.000000Z", D1), (D2, f"{D2}T06:00:00.000000Z")],
    )
    assert split_range(f"{D}T12:00:00.000000Z", f"{D1}T01:00:00.000000Z") == (
        None,
        [(f"{D}T12:00:00.000000Z", f"{D1}T01:00:00.000000Z")],
    )
    assert split_range(f"{D1}{z}", f"{D}{z}") == (None, [])


@pytest.mark.anyio
async def test_hand_computed_day_rollups_and_report_ranges(live: Running) -> None:
    creator, l1, l2 = await _seed(live)
    # Day D on m1: clicks 1,2,3,4,6,7; human all but the bot; unique clicks A in hours 10
    # and 11, B in hour 23, the click without a fingerprint; visitors A and B.
    assert await _days(live) == {
        (D, l1): (6, 5, 4, 2),
        (D1, l1): (1, 1, 1, 1),
        (D, l2): (1, 1, 1, 1),
    }
    z = "T00:00:00.000000Z"
    # Whole days only (the roll-ups): A on D, B on D and again on D+1.
    assert (await _facts(live, f"{D}{z}", f"{D2}{z}"))[creator] == (7, 6, 5, 3)
    # Inside one day pair, no whole day: raw clicks 2-7.
    assert (await _facts(live, f"{D}T10:30:00.000000Z", f"{D1}T00:00:00.500000Z"))[creator] == (
        6,
        5,
        5,
        3,
    )
    # Head edge D 12:00 -> midnight (raw: 4, 6, 7), whole day D+1 (roll-up: 5), tail edge.
    assert (await _facts(live, f"{D}T12:00:00.000000Z", f"{D2}T06:00:00.000000Z"))[creator] == (
        4,
        3,
        3,
        2,
    )
    # The edges of a day: the last microsecond of D and the first of D+1.
    assert (await _facts(live, f"{D}T23:59:59.999999Z", f"{D1}T00:00:00.000001Z"))[creator] == (
        2,
        2,
        2,
        2,
    )
    assert await commands.check(live.store) == []
    stats = await live.store.link_stats(l1)
    assert (stats["clicks"], stats["human_clicks"], stats["unique_visitors"]) == (7, 6, 3)
    assert stats["last_click_at"] == f"{D1}T00:00:00.000000Z"
    counts = await live.store.click_counts_by_creator([creator])
    assert counts == {creator: 7}
    daily = await live.store.daily_clicks(D, creator_id=creator)
    assert [(d["day"], d["clicks"], d["human_clicks"]) for d in daily] == [
        (D, 6, 5),
        (D1, 1, 1),
    ]


@pytest.mark.anyio
async def test_retention_keeps_rollups_and_rebuild_repairs(live: Running) -> None:
    creator, _, _ = await _seed(live)
    before = await _days(live)
    await live.store.db.execute("UPDATE click_days SET clicks = 99 WHERE day = ?", (D,))
    assert {d["figure"] for d in await commands.check(live.store)} == {"clicks"}
    await commands.rebuild(live.store)
    assert await _days(live) == before
    # Fingerprints erased: unique counts cannot be recounted, so a rebuild keeps them.
    await live.store.purge_click_fingerprints(f"{D2}T00:00:00.000000Z")
    assert await live.store.db.fetch_all("SELECT * FROM click_visitors") == []
    await commands.rebuild(live.store)
    assert await _days(live) == before
    assert await commands.check(live.store) == []
    # Raw clicks of D deleted: the day's counts stay in the reports (whole days).
    deleted = await live.store.purge_clicks(f"{D1}T08:00:00.000000Z")
    assert deleted == 7
    z = "T00:00:00.000000Z"
    assert (await _facts(live, f"{D}{z}", f"{D2}{z}"))[creator] == (7, 6, 5, 3)
    await commands.rebuild(live.store)  # only days that still hold raw clicks
    assert await _days(live) == before


@pytest.mark.anyio
async def test_redirects_roll_up_end_to_end(live: Running) -> None:
    creator = (await live.store.create_creator({"handle": "ana"}))["id"]
    await live.store.create_link(
        {"slug": "ana1", "creator_id": creator, "destination": "https://shop.example.com/"}
    )
    agents = (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) Version/17.4",
        "Twitterbot/1.0",
    )
    for ua in (*agents, agents[0]):
        await live.client.get("/ana1", headers={"user-agent": ua})
    await live.flush()
    totals = await live.store.panel_totals()
    assert (totals["clicks"], totals["human_clicks"]) == (3, 2)
    assert await commands.check(live.store) == []


async def _reach(live: Running, dimension: str, start: str, end: str, **kw: Any) -> dict[Any, Any]:
    """Clicks, human clicks, unique clicks and unique visitors per key (cheap: the first
    two only)."""
    distinct = kw.pop("distinct", True)
    rows = await live.store.click_facts(dimension, start, end, (), distinct=distinct, **kw)
    return {r["key"]: _figures(r) if distinct else _figures(r)[:2] for r in rows}


async def _reach_rows(live: Running) -> list[tuple[Any, ...]]:
    rows = await live.store.db.fetch_all(
        "SELECT day, link_id, country, variant, creator_id, clicks, human_clicks, "
        "unique_clicks, unique_visitors FROM click_reach_days"
    )
    return sorted(tuple(r.values()) for r in rows)


@pytest.mark.anyio
async def test_hand_computed_reach_rollups(live: Running) -> None:
    """``click_reach_days`` (migration 0092): the report figures per closed day, link,
    country and variant, sealed by the reach job; what the Reach page and the country and
    variant reports read for sealed days, the raw clicks for the others. A visitor counts
    once per day, link, country and variant in those reports."""
    store = live.store
    maya = (await store.create_creator({"handle": "maya"}))["id"]
    ana = (await store.create_creator({"handle": "ana"}))["id"]
    dest = "https://shop.example.com/"
    l1 = (await store.create_link({"slug": "r1", "creator_id": maya, "destination": dest}))["id"]
    l2 = (await store.create_link({"slug": "r2", "creator_id": ana, "destination": dest}))["id"]

    def row(cid: str, at: str, link: str, creator: str, fp: str | None, country: str | None,
            variant: str | None, bot: int = 0) -> tuple[Any, ...]:  # fmt: skip
        return (*_row(cid, at, link, creator, fp, bot), country, variant)

    rows = [
        row("c1", f"{D}T09:00:00.000000Z", l1, maya, "A", "DE", "A"),
        row("c2", f"{D}T09:30:00.000000Z", l1, maya, "A", "DE", "A"),  # same hour: 1 unique
        row("c3", f"{D}T11:00:00.000000Z", l1, maya, "A", "DE", "A", bot=1),
        row("c4", f"{D}T12:00:00.000000Z", l1, maya, None, None, None),
        row("c5", f"{D}T23:59:59.999999Z", l2, ana, "B", "FR", None),
        row("c6", f"{D1}T00:00:00.000000Z", l2, ana, "B", "FR", None),
        row("c7", f"{D1}T08:00:00.000000Z", l1, maya, "C", "DE", "B"),
    ]
    for batch in (rows[:3], rows[3:6], rows[6:], rows[:2]):  # the last one again: no change
        await store.insert_clicks(batch)
    assert await _reach_rows(live) == []  # kept by the job, not by the writer
    assert await reach.seal_due(store) == 2  # D and D+1 (long closed); sealed once
    assert await reach.seal_due(store) == 0
    sealed_d = [
        (D, l1, "", "", maya, 1, 1, 1, 0),  # c4: no fingerprint, one unique click alone
        (D, l1, "DE", "A", maya, 3, 2, 1, 1),  # c1, c2 (one hour, one visitor), bot c3
        (D, l2, "FR", "", ana, 1, 1, 1, 1),
    ]
    sealed_d1 = [(D1, l1, "DE", "B", maya, 1, 1, 1, 1), (D1, l2, "FR", "", ana, 1, 1, 1, 1)]
    assert await _reach_rows(live) == sorted(sealed_d + sealed_d1)
    # A late click of a sealed day unseals it in the writer's transaction; the job recounts.
    await store.insert_clicks([row("c8", f"{D1}T18:00:00.000000Z", l1, maya, "C", "US", "B")])
    assert await store.sealed_reach_days(D, D2) == {D}
    assert await reach.seal_due(store) == 1
    late = (D1, l1, "US", "B", maya, 1, 1, 1, 1)
    assert await _reach_rows(live) == sorted([*sealed_d, *sealed_d1, late])
    assert await commands.check(store) == []
    # Today is open: the job does not seal it; reports read its raw clicks.
    now = clock.now_iso()
    await store.insert_clicks([row("c9", now, l2, ana, "B", "FR", None)])
    assert await reach.seal_due(store) == 0

    z = "T00:00:00.000000Z"
    days = (f"{D}{z}", f"{D2}{z}")
    # visitor C on l1 on D+1 in DE and in US: once per country
    by_country = {"DE": (4, 3, 2, 2), None: (1, 1, 1, 0), "FR": (2, 2, 2, 2), "US": (1, 1, 1, 1)}
    assert await _reach(live, "country", *days) == by_country
    # visitor C in variant B in two countries: once per country and variant
    by_variant = {"A": (3, 2, 1, 1), "B": (2, 2, 2, 2), None: (3, 3, 3, 2)}
    assert await _reach(live, "variant", *days) == by_variant
    assert await _reach(live, "country", *days, distinct=False) == {
        k: v[:2] for k, v in by_country.items()
    }
    # A filter: creators' clicks from Germany.
    assert await _reach(live, "creator", *days, where=(("country", "DE"),)) == {maya: (4, 3, 2, 2)}
    assert await _reach(live, "country", *days, creator_id=ana) == {"FR": (2, 2, 2, 2)}
    # D 10:30 -> D+2 06:00: the head edge from the raw clicks (c3, c4, c5), the whole day
    # D+1 from the roll-up (c6, c7, c8), an empty tail edge.
    edges = (f"{D}T10:30:00.000000Z", f"{D2}T06:00:00.000000Z")
    assert await _reach(live, "country", *edges) == {
        "DE": (2, 1, 1, 1), None: (1, 1, 1, 0), "FR": (2, 2, 2, 2), "US": (1, 1, 1, 1)
    }  # fmt: skip
    # Sealed D+1 and open today (raw): ana's FR clicks c6 and c9, visitor B on two days.
    tomorrow = clock.shift(f"{now[:10]}{z}", timedelta(days=1))
    assert await _reach(live, "country", f"{D1}{z}", tomorrow, creator_id=ana) == {
        "FR": (2, 2, 2, 2)
    }  # fmt: skip
    # Nothing sealed (the roll-up emptied): the raw clicks give the same figures.
    await store.db.execute("DELETE FROM click_reach_sealed")
    assert await _reach(live, "country", *days) == by_country
    assert await _reach(live, "variant", *days) == by_variant
    await reach.seal_due(store)
    # Raw clicks deleted by retention: the sealed days' counts stay (read from the roll-up).
    await store.purge_clicks(f"{D2}{z}")
    assert await _reach(live, "country", *days) == by_country
    # A wrong sealed row is found, and a rebuild recounts and seals again.
    await store.insert_clicks([row("c10", f"{D2}T09:00:00.000000Z", l1, maya, "E", "DE", None)])
    await reach.seal_due(store)
    await store.db.execute("UPDATE click_reach_days SET clicks = 7 WHERE day = ?", (D2,))
    assert [d["figure"] for d in await commands.check(store)] == ["clicks in (DE, -)"]
    await commands.rebuild(store)
    assert await commands.check(store) == []
    assert (D2, l1, "DE", "", maya, 1, 1, 1, 1) in await _reach_rows(live)


@pytest.mark.anyio
async def test_a_day_of_many_reach_rows_is_sealed_in_chunks(live: Running) -> None:
    """250 (country, variant) rows on one day: written in several INSERTs, all of them."""
    store = live.store
    link = await store.create_link({"slug": "many", "destination": "https://shop.example.com/"})
    rows = [
        (
            *_row(f"m{i}", f"{D}T10:00:00.000000Z", link["id"], None, f"v{i}"),
            f"C{i % 50}",
            f"V{i // 50}",
        )
        for i in range(250)
    ]
    await store.insert_clicks(rows)
    assert await reach.seal_due(store) == 1
    n = await store.db.fetch_one(
        "SELECT COUNT(*) AS n, SUM(unique_visitors) AS v FROM click_reach_days"
    )
    assert n == {"n": 250, "v": 250}
    assert await commands.check(store) == []


def _reach_definition(
    rows: list[tuple[Any, ...]], key: Any, daily: bool = False
) -> dict[Any, tuple[int, int, int, int]]:
    """The README's figures of a country or variant report, counted in Python: a visitor
    once per day, link, country and variant; a unique click once per visitor and clock hour
    there (a human click without a fingerprint once on its own); bots in clicks only."""
    counts: dict[Any, list[Any]] = {}
    for r in rows:
        cid, at, link, fp, bot = r[0], r[1], r[3], r[5], r[9]
        country, variant = r[-2] or "", r[-1] or ""
        k = (key(r), at[:10]) if daily else key(r)
        c = counts.setdefault(k, [0, 0, set(), set()])
        c[0] += 1
        if bot:
            continue
        c[1] += 1
        c[2].add((at[:13], link, country, variant, fp or ("click", cid)))
        if fp is not None:
            c[3].add((at[:10], link, country, variant, fp))
    return {k: (a, b, len(u), len(v)) for k, (a, b, u, v) in counts.items()}


@pytest.mark.anyio
async def test_reach_reports_raw_and_sealed_equal_the_definition(live: Running) -> None:
    """Issue 19: on SQLite the raw clicks of days not sealed are counted per day, link,
    country and variant first, then summed per report key (the open day's two distinct
    counts over a whole key's clicks took 0.4-0.7 s at 10M clicks; PostgreSQL counts them
    in one level). On both engines every country or variant report, daily
    or not, by any dimension under a country or variant filter, over whole days or with
    partial edges, equals the definition counted in Python, and the sealed roll-up gives
    the same; bots, clicks without a fingerprint, a country or a variant, and visitors
    seen from two countries included."""
    import random

    store, rng = live.store, random.Random(19)
    dest = "https://shop.example.com/"
    maya, ana = [
        (await store.create_creator({"handle": h, "followers": f}))["id"]
        for h, f in (("maya", 500_000), ("ana", 900))
    ]
    owner = {}
    for i, creator in enumerate((maya, ana, maya)):
        link = {"slug": f"q{i}", "creator_id": creator, "destination": dest}
        owner[(await store.create_link(link))["id"]] = creator
    links = list(owner)
    rows = []
    for i in range(400):
        link, at = (
            rng.choice(links),
            f"{(D, D1, D2)[i % 3]}T{rng.randrange(24):02d}:{rng.randrange(60):02d}:00.000000Z",
        )
        fp, bot = rng.choice(["A", "B", "C", "D", "E", None]), int(rng.random() < 0.15)
        country, variant = rng.choice(["DE", "FR", None]), rng.choice(["A", "B", None])
        rows.append((*_row(f"k{i:03d}", at, link, owner[link], fp, bot), country, variant))
    await store.insert_clicks(rows)
    tiers = (("big", 100_000), ("small", 0))
    tier = {maya: "big", ana: "small"}
    cases: list[tuple[str, tuple[tuple[str, str], ...], bool, Any, Any]] = [
        ("country", (), False, lambda r: True, lambda r: r[-2]),
        ("variant", (), False, lambda r: True, lambda r: r[-1]),
        ("country", (), True, lambda r: True, lambda r: r[-2]),
        ("variant", (("country", "DE"),), True, lambda r: r[-2] == "DE", lambda r: r[-1]),
        ("link", (("variant", "A"),), False, lambda r: r[-1] == "A", lambda r: r[3]),
        ("tier", (("country", "FR"),), False, lambda r: r[-2] == "FR", lambda r: tier[r[4]]),
        ("creator", (("country", ""),), True, lambda r: r[-2] is None, lambda r: r[4]),
    ]

    async def figures(span: tuple[str, str]) -> list[Any]:
        out = []
        for dimension, where, daily, _, _ in cases:
            got = await store.click_facts(dimension, *span, tiers, daily=daily, where=where)
            out.append({(r["key"], r["day"]) if daily else r["key"]: _figures(r) for r in got})
        return out

    z = "T00:00:00.000000Z"
    whole = (f"{D}{z}", clock.shift(f"{D2}{z}", timedelta(days=1)))
    part = (f"{D}T13:00:00.000000Z", f"{D2}T07:30:00.000000Z")
    raw = {span: await figures(span) for span in (whole, part)}  # nothing sealed yet
    for span, got in raw.items():
        for (dimension, where, daily, keep, key), fig in zip(cases, got, strict=True):
            inside = [r for r in rows if span[0] <= r[1] < span[1] and keep(r)]
            assert fig == _reach_definition(inside, key, daily), (span, dimension, where)
    assert await reach.seal_due(store) == 3
    assert {span: await figures(span) for span in (whole, part)} == raw


async def _migrate_until(settings: Any, tmp_path: Path, last: str) -> None:
    partial = tmp_path / "migrations"
    partial.mkdir()
    for path in migrations_dir().glob("*.sql"):
        if path.name[:4] <= last:
            shutil.copy(path, partial / path.name)
    from tracker.store import open_engine
    from tracker.store.migrate import migrate

    engine = await open_engine(settings)
    try:
        await migrate(engine, partial)
    finally:
        await engine.close()


@pytest.mark.anyio
async def test_postgres_partitions_a_populated_table(tmp_path: Path, pg_schema_url: str) -> None:
    settings = make_settings(tmp_path, pg_schema_url)
    await _migrate_until(settings, tmp_path, "0070")
    store = await open_store(settings, migrate=False)
    try:
        rows = [
            _row(
                f"p{i}",
                f"2026-0{1 + i % 2}-1{i % 9}T0{i % 10}:00:00.000000Z",
                "lk",
                "cr",
                f"f{i % 3}",
            )
            for i in range(40)
        ]
        # The unpartitioned table, as before 0071, written as that version's writer did:
        # the clicks and their day roll-ups (today's writer also needs 0092's table).
        async with store.db.transaction() as tx:
            for r in rows:
                cols = CLICK_COLUMNS[: len(r)]
                marks = ", ".join("?" for _ in r)
                await tx.execute(f"INSERT INTO clicks ({', '.join(cols)}) VALUES ({marks})", r)
            backfill = (migrations_dir() / "0070_click_rollups.sql").read_text()
            for statement in split_statements(backfill):
                if statement.startswith("INSERT"):  # 0070's own fill of its tables
                    await tx.execute(statement)
        assert (await store.migrate())[0] == "0071"  # then any later migrations
        parts = await store.db.fetch_all(
            "SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'clicks' "
            "AND p.relnamespace = to_regnamespace(current_schema())"
        )
        names = {r["name"] for r in parts}
        assert {"clicks_2026_01", "clicks_2026_02", "clicks_default"} <= names
        count = await store.db.fetch_one("SELECT COUNT(*) AS n FROM clicks_2026_01")
        assert count is not None and count["n"] == 20
        assert await commands.check(store) == []
        # A batch of a month without its table: the writer makes it (and the next) first.
        await store.insert_clicks([_row("q1", "2030-05-01T00:00:00.000000Z", "lk", "cr", "f")])
        default = await store.db.fetch_one("SELECT COUNT(*) AS n FROM clicks_default")
        assert default is not None and default["n"] == 0
        # Export (partitions are not tables of their own) and import into a new store.
        out = io.StringIO()
        counts = await export_store(store.db, out)
        assert "clicks_2026_01" not in counts and counts["clicks"] == 41
        assert counts["click_days"] > 0 and counts["click_visitors"] > 0
        assert counts["click_reach_days"] == 0  # 0092 fills nothing: the reach job seals
        assert await reach.seal_due(store) == len({r[1][:10] for r in rows})  # not 2030: open
        counts = await export_store(store.db, io.StringIO())
        assert counts["click_reach_days"] > 0 and await commands.check(store) == []
        # Retention drops whole months (2026-01), then deletes the rest before the day.
        deleted = await store.purge_clicks("2026-02-14T12:00:00.000000Z")
        assert deleted == 20 + sum(1 for r in rows if "2026-02" in r[1] and r[1] < "2026-02-14")
        assert await store.db.fetch_one("SELECT to_regclass('clicks_2026_01') AS t") == {"t": None}
    finally:
        await store.close()
