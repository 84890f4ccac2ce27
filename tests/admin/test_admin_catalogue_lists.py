"""Campaigns, shops and API tokens lists (issue 16): paginated, searchable, filtered in SQL,
and the CSV export holds exactly the filtered rows, on both engines."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest

from tests.admin.test_admin import logged_in
from tests.admin.test_admin_lists import _range
from tests.conftest import Running

pytestmark = pytest.mark.anyio


def _csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


async def test_campaigns_shops_and_tokens_page_search_and_export(live: Running) -> None:
    store, client = live.store, live.client
    await logged_in(live)
    today = datetime.now(UTC).date()
    for i in range(60):  # 20 ended, 10 scheduled, 30 running
        starts = today + timedelta(days=5) if 20 <= i < 30 else today - timedelta(days=90)
        ends = today - timedelta(days=1) if i < 20 else None
        await store.create_campaign(
            {
                "name": f"{'spring' if i % 2 else 'summer'}-{i:02d}",
                "starts_on": starts.isoformat(),
                "ends_on": ends.isoformat() if ends else None,
                "currency": "EUR",
                "budget_minor": 100_000 + i,
            }
        )
    for i in range(55):
        await store.create_shop(
            {
                "slug": f"shop-{i:02d}",
                "name": f"Store {i}",
                "platform": "woocommerce" if i < 5 else "shopify",
                "secret": f"secret-{i}-0123456789abcdef",
                "pixel_token": "",
                "currency": "USD",
            }
        )
    for i in range(53):
        row, _ = await store.create_token(f"{'zapier' if i < 3 else 'sync'}-{i}")
        if i < 4:
            await store.revoke_token(row["id"])

    for path, total in (("/admin/campaigns", 60), ("/admin/shops", 55), ("/admin/tokens", 53)):
        first = await client.get(path)
        assert first.status_code == 200, path
        assert _range(first.text) == (1, 50, total), path
        second = await client.get(f"{path}?page=2")
        assert _range(second.text) == (51, total, total), path
        rows = _csv((await client.get(f"{path}?format=csv")).text)
        assert len(rows) == total, path

    # campaigns: search by name, state filter; the CSV follows both
    spring = await client.get("/admin/campaigns?q=spring")
    assert _range(spring.text) == (1, 30, 30)
    ended = _csv((await client.get("/admin/campaigns?state=ended&format=csv")).text)
    assert len(ended) == 20 and {r["State"] for r in ended} == {"ended"}
    scheduled = _csv(
        (await client.get("/admin/campaigns?state=scheduled&q=summer&format=csv")).text
    )
    assert sorted(r["Name"] for r in scheduled) == [f"summer-{i}" for i in range(20, 30, 2)]
    assert scheduled[0]["Budget"] == "1,000.20 EUR"
    page = await client.get("/admin/campaigns?state=active&q=spring-5")
    assert _range(page.text) == (1, 5, 5)  # spring-51, 53, 55, 57, 59
    assert "spring-51" in page.text and "spring-49" not in page.text

    # shops: search and platform; no secret in the page or the file
    woo = _csv((await client.get("/admin/shops?platform=woocommerce&format=csv")).text)
    assert sorted(r["Slug"] for r in woo) == [f"shop-{i:02d}" for i in range(5)]
    assert woo[0]["Postback URL"].endswith("/postbacks/woocommerce/shop-00")
    found = await client.get("/admin/shops?q=store 4")
    assert _range(found.text) == (1, 11, 11)  # Store 4, 40-49
    every = await client.get("/admin/shops?format=csv")
    assert "secret-" not in every.text and "secret-" not in found.text

    # tokens: search and status; never the hash
    revoked = _csv((await client.get("/admin/tokens?status=revoked&format=csv")).text)
    assert sorted(r["Name"] for r in revoked) == ["sync-3", "zapier-0", "zapier-1", "zapier-2"]
    zapier = await client.get("/admin/tokens?q=zapier&status=active")
    assert "No token matches these filters." in zapier.text
    hashes = await store.db.fetch_all("SELECT token_hash FROM api_tokens")
    listed = (await client.get("/admin/tokens?format=csv")).text
    assert not any(h["token_hash"] in listed for h in hashes)
    bad = await client.get("/admin/campaigns?state=nonsense&page=999999999")
    assert bad.status_code == 200


async def test_campaigns_page_opens_with_campaigns_older_than_the_report_range(
    live: Running, auth: dict[str, str]
) -> None:
    """A campaign the API accepts (1970-01-01 to 9999-12-31, or one started in 2010) never
    turns the campaigns page into a 400: its spend is read over the longest range a report
    covers (hostile pass, third: the page's derived start was 2010, past the 10-year cap)."""
    client = live.client
    await logged_in(live)
    for name, starts, ends in (
        ("always-on", "2010-01-01", None),
        ("forever", "1970-01-01", "9999-12-31"),
    ):
        r = await client.post(
            "/api/v1/campaigns",
            headers=auth,
            json={"name": name, "starts_on": starts, "ends_on": ends, "budget_minor": 100_000},
        )
        assert r.status_code == 201, r.text
    page = await client.get("/admin/campaigns")
    assert page.status_code == 200, page.text[-500:]
    assert "always-on" in page.text and "forever" in page.text
    csv_file = await client.get("/admin/campaigns?format=csv")
    assert csv_file.status_code == 200
    assert {r["Name"] for r in _csv(csv_file.text)} == {"always-on", "forever"}
    # a chosen end before every campaign's start: still the page, over an empty range
    early = await client.get("/admin/campaigns?end=2000-01-01")
    assert early.status_code == 200, early.text[-500:]


async def test_campaigns_csv_is_the_page_s_table_with_the_currency(live: Running) -> None:
    """The CSV holds the table's header and cells, money columns naming their currency as
    on the page ("Spend (USD)": the CSV said "Spend", a number without its currency; its
    dates read "a to b", the page "a, dash, b")."""
    await live.store.create_campaign(
        {"name": "spring", "starts_on": "2026-03-01", "budget_minor": 100_000}
    )
    await logged_in(live)
    page = await live.client.get("/admin/campaigns")
    table = page.text.split('id="campaigns-table"')[1].split("</table>")[0]
    thead, tbody = table.split("</thead>")

    def texts(html: str) -> list[str]:
        cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", html, re.S)
        return [" ".join(re.sub(r"<[^>]+>", " ", c).split()) for c in cells]

    csv_rows = list(
        csv.reader(io.StringIO((await live.client.get("/admin/campaigns?format=csv")).text))
    )
    assert "Spend (USD)" in texts(thead)
    assert csv_rows == [texts(thead), texts(tbody)]
