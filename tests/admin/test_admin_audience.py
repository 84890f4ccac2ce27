"""The Audience page: the panel shows what ``/api/v1/reports/breakdown`` computes (device,
OS, browser, referrer host), for the portfolio, a creator, a campaign or a link, with a bar
chart per dimension and a CSV of each table; reached from the creator, link and campaign
pages."""

from __future__ import annotations

import csv
import io
import re

import pytest

from admin.audience_view import TITLES
from tests.admin.test_admin import logged_in
from tests.conftest import Running
from tracker import demo
from tracker.clicks import reach

pytestmark = pytest.mark.anyio


def _cells(page: str, by: str) -> list[list[str]]:
    table = page.split(f'id="breakdown-{by}"')[1].split("</table>")[0]
    body = table.split("<tbody>")[1].split("</tbody>")[0]
    return [re.findall(r"<td[^>]*>(.*?)</td>", row) for row in body.split("</tr>")[:-1]]


async def test_audience_page_matches_the_api(live: Running) -> None:
    await demo.load(live.app, creators=12, orders=60)
    assert await reach.seal_due(live.store) > 0  # the closed days from the roll-up
    auth = await live.token()
    await logged_in(live)
    client = live.client
    for by in ("device", "os", "browser", "referrer"):
        api = (await client.get(f"/api/v1/reports/breakdown?by={by}", headers=auth)).json()
        page = await client.get("/admin/audience" + ("" if by == "device" else f"?by={by}"))
        assert page.status_code == 200
        shown = _cells(page.text, by)
        assert [row[0] for row in shown] == [r["label"] for r in api["rows"]][:25]
        assert [row[1] for row in shown] == [f"{r['clicks']:,}" for r in api["rows"]][:25]
        assert page.text.count('<svg class="chart"') == 1  # its bar chart
        assert f'aria-current="page">{TITLES[by]}</a>' in page.text  # its tab
        if by == "browser":
            assert "Instagram" in page.text and "TikTok" in page.text
    assert "Clicks of the whole portfolio" in page.text

    # One creator's clicks, reached from their page; their human clicks in words.
    handle = (await live.store.list_creators(limit=1))[0]["handle"]
    creator = await live.store.get_creator(handle)
    own = await client.get(f"/admin/creators/{creator['id']}")
    assert f'/admin/audience?creator_id={creator["id"]}"' in own.text
    mine = await client.get(f"/admin/audience?creator_id={handle}")
    api = (
        await client.get(f"/api/v1/reports/breakdown?by=os&creator_id={handle}", headers=auth)
    ).json()
    assert f"Clicks of @{handle}," in mine.text
    human = api["totals"]["human_clicks"]
    assert f"{human:,} human click{'' if human == 1 else 's'} of" in mine.text

    # A table's CSV: exactly its cells, the totals last.
    r = await client.get(f"/admin/audience?format=csv&by=os&creator_id={handle}")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(r.text)))
    assert lines[0][:3] == ["OS", "Clicks", "Human clicks"]
    assert [x[0] for x in lines[1:]] == [x["label"] for x in api["rows"]] + ["Total"]

    campaign = (await live.store.list_campaigns(limit=1))[0]
    page = await client.get(f"/admin/campaigns/{campaign['id']}")
    assert f'/admin/audience?campaign_id={campaign["id"]}"' in page.text
    link = (await live.store.list_links(limit=1))[0]
    page = await client.get(f"/admin/links/{link['id']}")
    assert f'/admin/audience?link_id={link["id"]}"' in page.text
    one = await client.get(f"/admin/audience?link_id={link['id']}")
    assert f"Clicks of /{link['slug']}," in one.text
    unknown = await client.get("/admin/audience?creator_id=nobody")
    assert unknown.status_code == 404
    bad = await client.get("/admin/audience?start=2026-13-01")
    assert bad.status_code == 400


async def test_an_unknown_creator_or_campaign_comes_back_in_the_form(live: Running) -> None:
    """A handle or campaign mistyped in the page's filters is said on the page, the form
    holding what was typed (it was the bare 404 page: the form and the range were lost)."""
    await logged_in(live)
    for field in ("creator_id", "campaign_id"):
        r = await live.client.get(f"/admin/audience?by=os&start=2026-10-01&{field}=nobody")
        assert r.status_code == 404
        assert 'role="alert"' in r.text and "nobody" in r.text
        assert f'name="{field}" value="nobody"' in r.text
        assert 'name="start" value="2026-10-01"' in r.text and 'name="by" value="os"' in r.text
        assert 'id="breakdown-os"' not in r.text  # no figures of someone else


async def test_the_api_call_named_on_the_page_is_the_page_s(live: Running) -> None:
    """ "The same numbers as /api/v1/reports/breakdown?..." names the page's own range and
    filters (it named ?by=os alone: the portfolio's last 30 days, not this creator's)."""
    await logged_in(live)
    await live.store.create_creator({"handle": "maya", "platform": "tiktok"})
    r = await live.client.get(
        "/admin/audience?by=os&start=2026-10-01&end=2026-10-31&creator_id=maya"
    )
    assert r.status_code == 200
    assert (
        "<code>/api/v1/reports/breakdown?by=os&amp;start=2026-10-01&amp;end=2026-10-31"
        "&amp;creator_id=maya</code>"
    ) in r.text
