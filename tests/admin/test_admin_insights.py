"""Insight pages (issue 20): the panel shows what the JSON API computes (the same
functions): flagged posts with their reasons, scores with their parts and advice, the week
heatmap with the best windows, content types per tier, and the budget what-if form."""

from __future__ import annotations

import pytest

from tests.admin.test_admin import logged_in
from tests.conftest import Running
from tracker import demo

pytestmark = pytest.mark.anyio


async def test_insight_pages_match_the_api(live: Running) -> None:
    await demo.load(live.app, creators=30, orders=200)
    auth = await live.token()
    await logged_in(live)
    client = live.client

    async def api(path: str) -> dict:  # type: ignore[type-arg]
        r = await client.get(f"/api/v1/reports/{path}", headers=auth)
        assert r.status_code == 200, r.text
        return r.json()  # type: ignore[no-any-return]

    async def page(path: str) -> str:
        r = await client.get(f"/admin/insights{path}")
        assert r.status_code == 200, r.text
        return r.text

    home = await page("")
    assert 'href="/admin/insights"' in home and 'aria-current="page"' in home
    eng = await api("engagement")
    assert f"{eng['totals']['posts']:,}</span>" in home
    assert eng["flagged_posts"], "the demo buys likes on every 25th post"
    for post in eng["flagged_posts"][:3]:
        assert post["flags"][0]["summary"].replace("'", "&#39;") in home

    card = await api("scores")
    text = await page("/scores")
    first = card["creators"][0]
    row = text.split(f"@{first['handle']}</a>")[1].split("</tr>")[0]
    assert f"<strong>{first['advice']}</strong>" in row
    assert f"<strong>{first['score']}</strong>" in row

    times = await api("posting-times")
    text = await page("/timing")
    assert text.count('class="chart heatmap week"') == len(times["groups"]) == 1
    best = times["groups"][0]["best_windows"][0]
    assert f"<td>{best['label']}</td>" in text
    assert "Not a time zone" not in await page("/timing?by=platform&tz=Asia/Tokyo")
    bad = await client.get("/admin/insights/timing?tz=Nowhere/Land")
    assert bad.status_code == 400 and "time zone" in bad.text

    content = await api("content-types")
    text = await page("/content")
    for r in content["rows"][:3]:
        assert f"<td>{r['content_type']}</td>" in text

    fc = await api("forecast")
    text = await page("/forecast")
    assert f"{fc['proposed']['spend_minor'] / 100:,.2f}" in text
    unit = fc["units"][0]
    spent = await page(f"/forecast?by=tier&spend.{unit['key']}=100.00")
    given = await api(f"forecast?split_minor={unit['key']}:10000")
    assert f"{given['proposed']['revenue_minor'] / 100:,.2f}" in spent
    for amount in ("abc", "-5"):
        bad = await client.get(f"/admin/insights/forecast?spend.{unit['key']}={amount}")
        assert bad.status_code == 422, amount
