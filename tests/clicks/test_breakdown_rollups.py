"""The breakdown roll-up (``click_breakdown_days``, migration 0094): clicks per closed day,
link, and device, OS, browser or referrer host, sealed with the reach roll-up by the reach
job, on both engines.

A hand-computed case over a sealed day, the open day and a partial edge; a late click
unseals (both roll-ups) and the job recounts; the sealed rows equal a recount from the raw
clicks; raw and sealed figures equal the definition counted in Python under every filter.
"""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.clicks.test_rollups import _migrate_until
from tests.conftest import ENGINES, Running, make_settings
from tracker.clicks import commands, reach
from tracker.core import clock
from tracker.store import open_store
from tracker.store.engine import CLICK_COLUMNS

pytestmark = pytest.mark.anyio

D, D1, D2 = "2026-03-10", "2026-03-11", "2026-03-12"
Z = "T00:00:00.000000Z"
INSTAGRAM = ("mobile", "iOS", "Instagram")
TIKTOK = ("mobile", "Android", "TikTok")
MAC = ("desktop", "Mac OS X", "Chrome")
EMPTY = ("unknown", "", "")  # an empty user agent: a bot with no OS nor browser


def click(
    cid: str,
    at: str,
    link: str,
    creator: str | None,
    fp: str | None,
    agent: tuple[str, str, str],
    referrer: str | None,
    bot: int = 0,
) -> tuple[Any, ...]:
    """A stored click row (``CLICK_COLUMNS``)."""
    return (
        cid, at, "s", link, creator, fp, *agent, bot, "crawler" if bot else None, 0, referrer,
        None, "GET", None, None, None, None,
    )  # fmt: skip


def _figures(row: dict[str, Any]) -> tuple[int, int, int, int]:
    return (row["clicks"], row["human_clicks"], row["unique_clicks"], row["unique_visitors"])


async def _by(live: Running, by: str, start: str, end: str, **kw: Any) -> dict[Any, Any]:
    rows = await live.store.click_facts(by, start, end, (), **kw)
    return {r["key"]: _figures(r) for r in rows}


async def _stored(live: Running) -> list[tuple[Any, ...]]:
    rows = await live.store.db.fetch_all(
        "SELECT day, link_id, dimension, value, creator_id, clicks, human_clicks, "
        "unique_clicks, unique_visitors FROM click_breakdown_days"
    )
    return sorted(tuple(r.values()) for r in rows)


async def test_hand_computed_breakdown(live: Running) -> None:
    store = live.store
    maya = (await store.create_creator({"handle": "maya"}))["id"]
    ana = (await store.create_creator({"handle": "ana"}))["id"]
    spring = (await store.create_campaign({"name": "spring"}))["id"]
    dest = "https://shop.example.com/"
    l1 = (
        await store.create_link(
            {"slug": "b1", "creator_id": maya, "campaign_id": spring, "destination": dest}
        )
    )["id"]
    l2 = (await store.create_link({"slug": "b2", "creator_id": ana, "destination": dest}))["id"]
    ig, tt = "l.instagram.com", "www.tiktok.com"
    rows = [
        click("c1", f"{D}T09:00:00.000000Z", l1, maya, "A", INSTAGRAM, ig),
        click("c2", f"{D}T09:30:00.000000Z", l1, maya, "A", INSTAGRAM, ig),  # same hour
        click("c3", f"{D}T11:00:00.000000Z", l1, maya, "A", INSTAGRAM, ig, bot=1),
        click("c4", f"{D}T12:00:00.000000Z", l1, maya, None, MAC, None),  # no fingerprint
        click("c5", f"{D}T23:59:59.999999Z", l2, ana, "B", TIKTOK, tt),
        click("c6", f"{D1}T00:00:00.000000Z", l2, ana, "B", TIKTOK, tt),  # B on a new day
        click("c7", f"{D1}T08:00:00.000000Z", l1, maya, "C", INSTAGRAM, ig),
        click("c8", f"{D1}T09:00:00.000000Z", l1, maya, "C", INSTAGRAM, None),  # C, no referrer
        click("c9", f"{D1}T10:00:00.000000Z", l2, ana, None, EMPTY, None, bot=1),
    ]
    for batch in (rows[:3], rows[3:6], rows[6:], rows[:2]):  # the last one again: no change
        await store.insert_clicks(batch)
    days = (f"{D}{Z}", f"{D2}{Z}")
    by_device = {"mobile": (7, 6, 5, 4), "desktop": (1, 1, 1, 0), "unknown": (1, 0, 0, 0)}
    by_os = {"iOS": (5, 4, 3, 2), "Mac OS X": (1, 1, 1, 0), "Android": (2, 2, 2, 2), None: (1, 0, 0, 0)}  # fmt: skip
    # visitor C reached l1 from Instagram and from nowhere on D+1: once in each row
    by_referrer = {ig: (4, 3, 2, 2), tt: (2, 2, 2, 2), None: (3, 2, 2, 1)}
    raw = [await _by(live, by, *days) for by in ("device", "os", "referrer")]
    assert raw == [by_device, by_os, by_referrer]  # nothing sealed: all from the raw clicks

    assert await _stored(live) == []  # kept by the job, not by the writer
    assert await reach.seal_due(store) == 2 and await reach.seal_due(store) == 0
    assert [await _by(live, by, *days) for by in ("device", "os", "referrer")] == raw
    d_device = [
        (D, l1, "device", "desktop", maya, 1, 1, 1, 0),
        (D, l1, "device", "mobile", maya, 3, 2, 1, 1),
        (D, l2, "device", "mobile", ana, 1, 1, 1, 1),
    ]
    assert [r for r in await _stored(live) if r[0] == D and r[2] == "device"] == sorted(d_device)
    assert (D1, l2, "os", "", ana, 1, 0, 0, 0) in await _stored(live)  # none kept as ''
    totals = await store.db.fetch_all(
        "SELECT value, clicks, human_clicks, unique_clicks, unique_visitors "
        "FROM click_breakdown_totals WHERE day = ? AND dimension = 'device' ORDER BY value",
        (D,),
    )  # the portfolio's rows: the link rows summed (what an unfiltered breakdown reads)
    assert [tuple(r.values()) for r in totals] == [("desktop", 1, 1, 1, 0), ("mobile", 4, 3, 2, 2)]
    assert await commands.check(store) == []  # the sealed rows equal a recount

    # Filters: a creator, a campaign (its links' clicks), a link.
    assert await _by(live, "device", *days, creator_id=ana) == {
        "mobile": (2, 2, 2, 2), "unknown": (1, 0, 0, 0)
    }  # fmt: skip
    assert await _by(live, "referrer", *days, where=(("campaign_id", spring),)) == {
        ig: (4, 3, 2, 2), None: (2, 2, 2, 1)
    }  # fmt: skip
    assert await _by(live, "browser", *days, where=(("link_id", l2),)) == {
        "TikTok": (2, 2, 2, 2), None: (1, 0, 0, 0)
    }  # fmt: skip

    # D 10:30 -> D+2 06:00: the head edge raw (c3, c4, c5), D+1 from the roll-up.
    edges = (f"{D}T10:30:00.000000Z", f"{D2}T06:00:00.000000Z")
    assert await _by(live, "device", *edges) == {
        "mobile": (5, 4, 4, 3), "desktop": (1, 1, 1, 0), "unknown": (1, 0, 0, 0)
    }  # fmt: skip

    # The open day (today) is never sealed: read raw, beside sealed D+1.
    now = clock.now_iso()
    await store.insert_clicks([click("c10", now, l2, ana, "B", TIKTOK, tt)])
    assert await reach.seal_due(store) == 0
    tomorrow = clock.shift(f"{now[:10]}{Z}", timedelta(days=1))
    assert await _by(live, "referrer", f"{D1}{Z}", tomorrow, creator_id=ana) == {
        tt: (2, 2, 2, 2), None: (1, 0, 0, 0)
    }  # fmt: skip

    # A late click of sealed D+1 unseals it (both roll-ups); the job recounts both.
    ipad = ("tablet", "iOS", "Mobile Safari")
    await store.insert_clicks([click("c11", f"{D1}T18:00:00.000000Z", l1, maya, "E", ipad, "google.com")])  # fmt: skip
    assert await store.sealed_reach_days(D, D2) == {D}
    assert (await _by(live, "device", *days))["tablet"] == (1, 1, 1, 1)  # raw meanwhile
    assert await reach.seal_due(store) == 1
    assert (D1, l1, "device", "tablet", maya, 1, 1, 1, 1) in await _stored(live)
    assert (D1, l1, "", "", maya, 1, 1, 1, 1) not in await _stored(live)
    reach_rows = await store.db.fetch_one(
        "SELECT SUM(clicks) AS n FROM click_reach_days WHERE day = ?", (D1,)
    )
    assert reach_rows == {"n": 5}  # c6-c9 and the late c11
    assert await commands.check(store) == []

    # A wrong sealed row is found; a rebuild recounts and seals again.
    await store.db.execute(
        "UPDATE click_breakdown_days SET human_clicks = 9 WHERE day = ? AND value = ?", (D, tt)
    )
    assert [d["figure"] for d in await commands.check(store)] == [
        f"human_clicks in (referrer, {tt})"
    ]
    await commands.rebuild(store)
    assert await commands.check(store) == []
    await store.db.execute("UPDATE click_breakdown_totals SET clicks = 9 WHERE day = ?", (D1,))
    assert {(d["link_id"], d["figure"][:6]) for d in await commands.check(store)} == {
        ("", "clicks")
    }
    await commands.rebuild(store)
    assert await commands.check(store) == []
    # Raw clicks deleted by retention: the sealed days' breakdown stays.
    before = await _by(live, "os", *days)
    await store.purge_clicks(f"{D2}{Z}")
    assert await _by(live, "os", *days) == before


def _definition(rows: list[tuple[Any, ...]], index: int, daily: bool) -> dict[Any, Any]:
    """The README's breakdown figures counted in Python: a visitor once per day, link and
    value; a unique click once per visitor and clock hour there (a human click without a
    fingerprint once on its own); bots in clicks only; '' and None one key."""
    counts: dict[Any, list[Any]] = {}
    for r in rows:
        cid, at, link, fp, bot, value = r[0], r[1], r[3], r[5], r[9], r[index] or None
        k = (value, at[:10]) if daily else value
        c = counts.setdefault(k, [0, 0, set(), set()])
        c[0] += 1
        if bot:
            continue
        c[1] += 1
        c[2].add((at[:13], link, fp or ("click", cid)))
        if fp is not None:
            c[3].add((at[:10], link, fp))
    return {k: (a, b, len(u), len(v)) for k, (a, b, u, v) in counts.items()}


async def test_breakdowns_raw_and_sealed_equal_the_definition(live: Running) -> None:
    """Every dimension, daily or not, over whole days or partial edges, unfiltered or by a
    creator, a campaign or a link: the raw count (nothing sealed), the sealed roll-up and
    the definition counted in Python agree."""
    store, rng = live.store, random.Random(93)
    dest = "https://shop.example.com/"
    maya = (await store.create_creator({"handle": "maya"}))["id"]
    ana = (await store.create_creator({"handle": "ana"}))["id"]
    spring = (await store.create_campaign({"name": "spring"}))["id"]
    owner, campaign = {}, {}
    for i, (creator, camp) in enumerate(((maya, spring), (ana, spring), (maya, None))):
        link = {"slug": f"q{i}", "creator_id": creator, "campaign_id": camp, "destination": dest}
        made = (await store.create_link(link))["id"]
        owner[made], campaign[made] = creator, camp
    links = list(owner)
    agents = [INSTAGRAM, TIKTOK, MAC, EMPTY, ("mobile", "iOS", "")]
    rows = []
    for i in range(400):
        link = rng.choice(links)
        at = f"{(D, D1, D2)[i % 3]}T{rng.randrange(24):02d}:{rng.randrange(60):02d}:00.000000Z"
        fp, bot = rng.choice(["A", "B", "C", "D", None]), int(rng.random() < 0.15)
        referrer = rng.choice(["l.instagram.com", "t.co", "", None])
        rows.append(
            click(f"k{i:03d}", at, link, owner[link], fp, rng.choice(agents), referrer, bot)
        )
    await store.insert_clicks(rows)
    index = {"device": 6, "os": 7, "browser": 8, "referrer": 12}
    cases: list[tuple[str, bool, dict[str, Any], Any]] = [
        ("device", False, {}, lambda r: True),
        ("os", True, {}, lambda r: True),
        ("browser", False, {"creator_id": ana}, lambda r: r[4] == ana),
        ("referrer", False, {"where": (("campaign_id", spring),)}, lambda r: campaign[r[3]]),
        ("referrer", True, {"where": (("link_id", links[2]),)}, lambda r: r[3] == links[2]),
    ]

    async def figures(span: tuple[str, str]) -> list[Any]:
        out = []
        for by, daily, kw, _ in cases:
            got = await store.click_facts(by, *span, (), daily=daily, **kw)
            out.append({(r["key"], r["day"]) if daily else r["key"]: _figures(r) for r in got})
        return out

    whole = (f"{D}{Z}", clock.shift(f"{D2}{Z}", timedelta(days=1)))
    part = (f"{D}T13:00:00.000000Z", f"{D2}T07:30:00.000000Z")
    raw = {span: await figures(span) for span in (whole, part)}
    for span, got in raw.items():
        for (by, daily, _, keep), fig in zip(cases, got, strict=True):
            inside = [r for r in rows if span[0] <= r[1] < span[1] and keep(r)]
            assert fig == _definition(inside, index[by], daily), (span, by)
    assert await reach.seal_due(store) == 3
    assert {span: await figures(span) for span in (whole, part)} == raw
    assert await commands.check(store) == []


@pytest.fixture(params=ENGINES)
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database (no migration applied), each engine."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'old.db'}"
    url: str = request.getfixturevalue("pg_schema_url")
    return url


async def test_the_migration_unseals_the_days_it_has_no_rows_for(
    tmp_path: Path, empty_url: str
) -> None:
    """A store sealed before 0094: the days still holding raw clicks are unsealed, so the
    reach job seals them again with their breakdown; a day whose raw clicks retention
    deleted keeps its seal and its reach rows."""
    settings = make_settings(tmp_path, empty_url)
    await _migrate_until(settings, tmp_path, "0092")
    store = await open_store(settings, migrate=False)
    try:
        await store.db.execute("DELETE FROM click_reach_sealed")  # none yet; for clarity
        rows = [
            click(f"m{i}", f"{day}T10:00:00.000000Z", "ln_x", "cr_x", "A", INSTAGRAM, "t.co")
            for i, day in enumerate((D, D1, D2))
        ]
        async with store.db.transaction() as tx:  # as 0092's writer stored them
            for r in rows:
                marks = ", ".join("?" for _ in r)
                await tx.execute(f"INSERT INTO clicks ({', '.join(CLICK_COLUMNS)}) VALUES ({marks})", r)  # fmt: skip
            for day in (D, D1, D2):
                await tx.execute(
                    "INSERT INTO click_days (day, link_id, creator_id, clicks, human_clicks, "
                    "unique_clicks, unique_visitors, last_at) VALUES (?, 'ln_x', 'cr_x', 1, 1, 1, 1, ?)",
                    (day, f"{day}T10:00:00.000000Z"),
                )  # fmt: skip
                await tx.execute(
                    "INSERT INTO click_reach_sealed (day, sealed_at) VALUES (?, 'then')", (day,)
                )
            await tx.execute("DELETE FROM clicks WHERE at < ?", (D1,))  # retention took D
        assert (await store.migrate())[-1] == "0094"
        assert await store.sealed_reach_days(D, "2026-03-13") == {D}
        assert await reach.seal_due(store) == 2
        got = await store.click_facts("referrer", f"{D1}{Z}", f"2026-03-13{Z}", ())
        assert [(r["key"], r["clicks"]) for r in got] == [("t.co", 2)]
    finally:
        await store.close()
