"""Issue 20's speed work, by hand, on both engines: the hour-by-hour click read behind the
posting times (hour edges, bots, orphan clicks, a range that starts and ends inside an
hour; per link and summed over the links), the hour cutting, the batched curve fits (a unit's curve does not depend on the
others fitted with it) and the one query-integer parser.
"""

from __future__ import annotations

from typing import Any

import pytest
from starlette.requests import Request

from tests.conftest import Running
from tracker.core.errors import BadRequest
from tracker.http.common import query_int
from tracker.reports import curves
from tracker.reports.timing import clock_hours

pytestmark = pytest.mark.anyio
D, D1 = "2026-03-10", "2026-03-11"


def _row(cid: str, at: str, link: str | None, creator: str | None, bot: int = 0) -> tuple[Any, ...]:
    return (
        cid, at, "s", link, creator, "f" + cid, "mobile", "iOS", "Safari", bot,
        "crawler" if bot else None, 0, None, None, "GET", None, None,
    )  # fmt: skip


async def test_link_hour_clicks_by_hand(live: Running) -> None:
    store = live.store
    creator = (await store.create_creator({"handle": "maya"}))["id"]
    dest = "https://shop.example.com/"
    l1 = await store.create_link({"slug": "m1", "creator_id": creator, "destination": dest})
    l2 = await store.create_link({"slug": "m2", "creator_id": creator, "destination": dest})
    a, b = l1["id"], l2["id"]
    await store.insert_clicks(
        [
            _row("k1", f"{D}T10:05:00.000000Z", a, creator),
            _row("k2", f"{D}T10:40:00.000000Z", a, creator),
            _row("k3", f"{D}T10:59:59.999999Z", a, creator),
            _row("k4", f"{D}T11:00:00.000000Z", a, creator),
            _row("k5", f"{D}T10:30:00.000000Z", a, creator, bot=1),  # a bot: not counted
            _row("k6", f"{D}T23:59:59.999999Z", a, creator),
            _row("k7", f"{D1}T00:00:00.000000Z", a, creator),  # the next day: outside
            _row("k8", f"{D}T10:06:00.000000Z", b, creator),
            _row("k9", f"{D}T10:07:00.000000Z", None, None),  # no link: not counted
        ]
    )

    def counts(rows: list[dict[str, Any]]) -> dict[tuple[str, str], int]:
        return {(r["hour"], r["link_id"]): int(r["human_clicks"]) for r in rows}

    day = clock_hours(f"{D}T00:00:00.000000Z", f"{D1}T00:00:00.000000Z")
    assert len(day) == 24
    assert counts(await store.link_hour_clicks(day)) == {
        (f"{D}T10", a): 3,
        (f"{D}T11", a): 1,
        (f"{D}T23", a): 1,
        (f"{D}T10", b): 1,
    }
    part = clock_hours(f"{D}T10:30:00.000000Z", f"{D}T11:30:00.000000Z")
    assert part == [
        (f"{D}T10:30:00.000000Z", f"{D}T11:00:00.000000Z"),
        (f"{D}T11:00:00.000000Z", f"{D}T11:30:00.000000Z"),
    ]
    assert counts(await store.link_hour_clicks(part)) == {(f"{D}T10", a): 2, (f"{D}T11", a): 1}
    assert await store.link_hour_clicks([]) == []
    # summed over the links (the grid of all links): the same clicks, hours without one left out
    for span in (day, part):
        totals: dict[str, int] = {}
        for (hour, _), n in counts(await store.link_hour_clicks(span)).items():
            totals[hour] = totals.get(hour, 0) + n
        rows = await store.hour_clicks(span)
        assert {r["hour"]: int(r["human_clicks"]) for r in rows} == totals
        assert len(rows) == len(totals)
    assert {r["hour"]: int(r["human_clicks"]) for r in await store.hour_clicks(day)} == {
        f"{D}T10": 4,
        f"{D}T11": 1,
        f"{D}T23": 1,
    }
    assert await store.hour_clicks([]) == []


def test_clock_hours_edges() -> None:
    inside = clock_hours(f"{D}T10:10:00.000000Z", f"{D}T10:20:00.000000Z")
    assert inside == [(f"{D}T10:10:00.000000Z", f"{D}T10:20:00.000000Z")]
    assert clock_hours(f"{D}T10:00:00.000000Z", f"{D}T10:00:00.000000Z") == []
    night = clock_hours(f"{D}T23:30:00.000000Z", f"{D1}T01:00:00.000000Z")
    assert [h[0][:13] for h in night] == [f"{D}T23", f"{D1}T00"]


def test_batched_fits_do_not_mix_units() -> None:
    def planted(a: float, b: float, c: float, spends: list[float]) -> list[tuple[float, float]]:
        return [(x, c + a * (1 - 2.718281828459045 ** (-x / b))) for x in spends]

    six = planted(50_000, 20_000, 2_000, [0, 10_000, 20_000, 40_000, 60_000, 80_000])
    other = planted(9_000, 3_000, 0, [1_000, 2_000, 4_000, 8_000, 16_000, 32_000])
    four = planted(30_000, 10_000, 500, [5_000, 10_000, 20_000, 40_000])
    flat = [(10_000.0, 40_000.0), (10_000.0, 44_000.0), (10_000.0, 36_000.0)]
    together = curves.fit_many([six, other, four, flat, []])
    alone = [curves.fit(s) for s in (six, other, four, flat, [])]
    assert [c.kind for c in together] == ["saturating"] * 3 + ["linear", "none"]
    for x, y in zip(together, alone, strict=True):
        assert x == y
    # noiseless planted curves come back (a, b, c) to 0.1%
    for got, (a, b, c) in zip(together, [(50_000, 20_000, 2_000), (9_000, 3_000, 0)], strict=False):
        assert got.a == pytest.approx(a, rel=1e-3) and got.b == pytest.approx(b, rel=1e-3)
        assert got.c == pytest.approx(c, abs=a * 1e-3)


def _request(query: bytes) -> Request:
    return Request({"type": "http", "method": "GET", "query_string": query, "headers": []})


@pytest.mark.parametrize(
    ("query", "expected"),
    [(b"", 30), (b"n=", 30), (b"n=7", 7), (b"n=92", 92), (b"n=007", 7)],
)
def test_query_int_reads(query: bytes, expected: int) -> None:
    assert query_int(_request(query), "n", 30, 7, 92) == expected


@pytest.mark.parametrize("raw", ["x", "+8", "1_0", " 8", "8.0", "6", "93", "-8", "٨", "9" * 40])
def test_query_int_rejects_with_the_name_and_range(raw: str) -> None:
    from urllib.parse import quote

    with pytest.raises(BadRequest) as err:
        query_int(_request(f"n={quote(raw)}".encode()), "n", 30, 7, 92)
    assert str(err.value).startswith("n: a whole number 7..92, got ")
