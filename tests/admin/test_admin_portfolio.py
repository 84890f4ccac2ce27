"""Portfolio pages (issue 16): the panel shows what the JSON API computes (same functions,
same numbers): concentration, bands, overlap heatmaps, code leaks with evidence, and
recommendations with their numbers and a link to act."""

from __future__ import annotations

import pytest

from tests.admin.test_admin import logged_in
from tests.conftest import Running
from tracker import demo

pytestmark = pytest.mark.anyio


async def test_portfolio_pages_match_the_api(live: Running) -> None:
    await demo.load(live.app, creators=40, orders=260)
    auth = await live.token()
    await logged_in(live)
    client = live.client

    api = (await client.get("/api/v1/reports/overview", headers=auth)).json()
    page = await client.get("/admin/portfolio")
    assert page.status_code == 200
    for n in (1, 5, 10):
        pct = api["concentration_pct"][f"top_{n}"]
        assert f"{pct:.1f}%" in page.text
    bands = page.text.split('id="bands"')[1].split("</section>")[0]
    for band, count in api["bands"].items():
        assert f"{band} {count}</a>" in bands
    top = page.text.split('id="top"')[1].split("</section>")[0]
    assert f"@{api['top'][0]['label']}" in top
    assert "Excluded: amounts in EUR" in page.text

    page = await client.get("/admin/portfolio/overlap")
    assert page.status_code == 200
    assert page.text.count('class="chart heatmap"') == 2
    first = api["overlap"]["creators"][0]
    assert f"<title>{first} and " in page.text

    leaks = (await client.get("/api/v1/reports/code-leaks", headers=auth)).json()["items"]
    flagged = [r for r in leaks if r["flagged"]]
    assert flagged, "the demo leaks one creator's code to a coupon site"
    page = await client.get("/admin/portfolio/leaks")
    row = page.text.split(f"@{flagged[0]['label']}</a>")[1].split("</tr>")[0]
    assert "leak suspected" in row
    assert f">{flagged[0]['from_coupon_sites']}</td>" in row
    assert f"/codes?creator={flagged[0]['creator_id']}" in row

    advice = (await client.get("/api/v1/reports/recommendations", headers=auth)).json()
    page = await client.get("/admin/portfolio/advice")
    assert page.status_code == 200
    realloc = advice["reallocate"]
    assert realloc is not None
    budget = f"{realloc['budget_minor'] / 100:,.2f}"
    assert f"<strong>{budget} USD</strong>" in page.text
    for r in advice["scale"]:
        assert f"@{r['creator']}</a>" in page.text
    if advice["scale"]:
        assert "#new-cost" in page.text  # a link to act


async def test_portfolio_pages_take_range_and_model(live: Running) -> None:
    await demo.load(live.app, creators=20, orders=60)
    await logged_in(live)
    for path in ("/admin/portfolio", "/admin/portfolio/leaks", "/admin/portfolio/advice"):
        r = await live.client.get(f"{path}?model=linear&start=2020-01-01&end=2020-01-31")
        assert r.status_code == 200
        assert "2020-01-01 to 2020-01-31" in r.text
        assert '<option value="linear" selected>' in r.text
    r = await live.client.get("/admin/portfolio?end=2020-01-01&start=2021-01-01")
    assert r.status_code == 400
