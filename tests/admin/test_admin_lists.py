"""Every panel list is paginated, searchable and exports exactly what it shows (issue 16);
states tell the truth; report pages take a date range and a model; money is in major units
with excluded currencies named. Data: the demo portfolio (`tracker demo`)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from tests.admin.test_admin import logged_in
from tests.conftest import Running, make_settings, running
from tracker import demo

pytestmark = pytest.mark.anyio
RANGE = re.compile(r"(\d[\d,]*)\u2013(\d[\d,]*) of (\d[\d,]*)")


def _range(html: str) -> tuple[int, int, int]:
    m = RANGE.search(html)
    assert m, "no pager"
    a, b, total = (int(x.replace(",", "")) for x in m.groups())
    return a, b, total


def _csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"  # module-wide, so the demo app below lives across the module's tests


@pytest.fixture(scope="module")
async def demo_live(
    module_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Running]:
    """The demo portfolio, loaded once for the module: the tests read it (one adds an
    expired link that no other test counts)."""
    settings = make_settings(tmp_path_factory.mktemp("lists"), module_database_url)
    async with running(settings) as live:
        await demo.load(live.app, creators=60, orders=200)
        await logged_in(live)
        yield live


LISTS = [
    ("/admin/creators", "/admin/creators?format=csv", 0),
    ("/admin/links", "/admin/links?format=csv", 0),
    ("/admin/codes", "/admin/codes.csv", 0),
    ("/admin/costs", "/admin/costs?format=csv", 0),
    ("/admin/orders", "/admin/orders?format=csv", 0),
    ("/admin/reports", "/admin/reports?format=csv", 1),  # the ROI CSV ends with its totals
]


async def test_every_list_pages_and_exports_all_it_lists(demo_live: Running) -> None:
    client = demo_live.client
    for path, csv_path, extra in LISTS:
        first = await client.get(path)
        assert first.status_code == 200
        a, b, total = _range(first.text)
        assert (a, b) == (1, min(50, total)) and total > 50, (path, total)
        last_page = -(-total // 50)
        last = await client.get(f"{path}?page={last_page}")
        assert _range(last.text) == (50 * (last_page - 1) + 1, total, total), path
        r = await client.get(csv_path)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
        assert len(_csv(r.text)) == total + extra, path


async def test_searches_narrow_each_list_and_the_csv_follows(demo_live: Running) -> None:
    client = demo_live.client
    creator = (await demo_live.store.search_creators(limit=1))[0][0]
    handle = creator["handle"]
    for path, csv_path, column in (
        ("/admin/links", "/admin/links?format=csv", "Creator"),
        ("/admin/codes", "/admin/codes.csv", "creator"),
        ("/admin/costs", "/admin/costs?format=csv", "Creator"),
        ("/admin/reports", "/admin/reports?format=csv", "Creator"),
    ):
        page = await client.get(f"{path}?q={handle}")
        assert page.status_code == 200
        sep = "&" if "?" in csv_path else "?"
        rows = _csv((await client.get(f"{csv_path}{sep}q={handle}")).text)
        assert rows, path
        assert all(handle in row[column] for row in rows), (path, rows[:3])
        if path != "/admin/reports":
            assert _range(page.text)[2] == len(rows)


async def test_campaign_filter_on_links_is_honoured(demo_live: Running) -> None:
    client = demo_live.client
    campaign = (await demo_live.store.list_campaigns(limit=10))[0]
    page = await client.get("/admin/campaigns")
    assert f'href="/admin/links?campaign={campaign["id"]}"' in page.text
    r = await client.get(f"/admin/links?campaign={campaign['id']}&format=csv")
    rows = _csv(r.text)
    counts = await demo_live.store.campaign_link_counts()
    assert len(rows) == counts[campaign["id"]] > 0
    assert {row["Campaign"] for row in rows} == {campaign["name"]}
    all_links = _range((await client.get("/admin/links")).text)[2]
    assert len(rows) < all_links


async def test_link_states_are_truthful(demo_live: Running) -> None:
    client = demo_live.client
    creator = (await demo_live.store.search_creators(limit=1))[0][0]
    past = (datetime.now(UTC) - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    await demo_live.store.create_link(
        {
            "slug": "old-promo",
            "creator_id": creator["id"],
            "destination": "https://shop.example.com/old",
            "expires_at": past,
        }
    )
    r = await client.get("/admin/links?q=old-promo")
    row = r.text.split("/old-promo</code>")[1].split("</tr>")[0]
    assert "status-expired" in row and ">expired<" in row and ">active<" not in row
    assert (await client.get("/old-promo")).status_code == 410  # what visitors get
    rows = _csv((await client.get("/admin/links?state=expired&format=csv")).text)
    assert "old-promo" in {row["Short link"].rsplit("/", 1)[1] for row in rows}
    assert {row["State"] for row in rows} == {"expired"}
    rows = _csv((await client.get("/admin/links?state=active&format=csv")).text)
    assert rows and {row["State"] for row in rows} == {"active"}
    creator_page = await client.get(f"/admin/creators/{creator['id']}")
    assert ">expired</span>" in creator_page.text
    campaigns = (await client.get("/admin/campaigns")).text
    assert ">scheduled</span>" in campaigns and ">ended</span>" in campaigns


async def test_roi_table_counts_and_blank_cpa(demo_live: Running) -> None:
    client = demo_live.client
    rows = _csv((await client.get("/admin/reports?format=csv")).text)
    for row in rows:
        assert re.fullmatch(r"[\d,]+|—", row["Orders"]), row["Orders"]
        if row["Cost (USD)"] == "—":
            assert row["CPA (USD)"] == row["ROAS"] == row["ROI"] == "—"
    linear = _csv((await client.get("/admin/reports?format=csv&model=linear")).text)
    assert len(linear) == len(rows)
    page = await client.get("/admin/reports")
    assert "Excluded: amounts in EUR" in page.text  # the demo has EUR costs, no EUR rate


async def test_dashboard_campaign_and_creator_pages_take_range_and_model(
    demo_live: Running,
) -> None:
    client = demo_live.client
    today = datetime.now(UTC).date()
    start = (today - timedelta(days=6)).isoformat()
    page = await client.get(f"/admin/?start={start}&model=linear")
    assert page.status_code == 200
    assert f"ROI, {start} to {today.isoformat()}" in page.text
    assert '<option value="linear" selected>' in page.text
    bad = await client.get("/admin/?model=nonsense")
    assert bad.status_code == 400
    page = await client.get(f"/admin/campaigns?start={start}")
    assert f"from {start} to" in page.text and "Budget used" in page.text
    # a creator with orders: the money summary matches the ROI table's row
    best = _csv((await client.get("/admin/reports?format=csv&sort=revenue_minor")).text)[0]
    creator = await demo_live.store.get_creator(best["Creator"].lstrip("'@"))
    page = await client.get(f"/admin/creators/{creator['id']}")
    money = page.text.split('id="creator-money"')[1].split("</section>")[0]
    assert best["Revenue (USD)"] in money
    assert f'href="/admin/orders?creator={creator["id"]}"' in money


async def test_campaign_budget_against_spend_and_revenue(demo_live: Running) -> None:
    client = demo_live.client
    page = await client.get("/admin/campaigns")
    table = page.text.split('id="campaigns-table"')[1].split("</table>")[0]
    assert "Spend (USD)" in table and "Revenue (USD)" in table and "ROI" in table
    row = table.split("Glow serum")[1].split("</tr>")[0]
    cells = re.findall(r'<td class="num">(.*?)</td>', row, re.S)
    assert "8,000.00 USD" in cells[0]
    assert re.search(r"\d+%", cells[2])  # budget used


async def test_an_empty_panel_says_what_to_do_next(live: Running) -> None:
    await logged_in(live)
    page = await live.client.get("/admin/")
    steps = page.text.split('id="first-steps"')[1].split("</section>")[0]
    assert "Create a shop" in steps and "postback URL and secret" in steps
    assert "Generate a discount code" in steps and "make demo" in steps
    orders = await live.client.get("/admin/orders")
    assert "create a shop under" in orders.text
    await demo.load(live.app, creators=5, orders=10)
    page = await live.client.get("/admin/")
    assert 'id="first-steps"' not in page.text
