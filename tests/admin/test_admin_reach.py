"""The Reach page (issue 17): the panel shows what ``/api/v1/reports/country`` and
``/reports/variant`` compute, countries sorted by human clicks, and the storefront snippet's
tag with the integrity hash of the bytes the server actually serves."""

from __future__ import annotations

import base64
import hashlib
import html

import pytest

from tests.admin.test_admin import logged_in
from tests.conftest import Running
from tracker import demo

pytestmark = pytest.mark.anyio


async def test_reach_page_matches_the_api(live: Running) -> None:
    await demo.load(live.app, creators=20, orders=120)
    auth = await live.token()
    await logged_in(live)
    client = live.client
    api = (await client.get("/api/v1/reports/country", headers=auth)).json()
    ranked = sorted(api["rows"], key=lambda r: (-r["human_clicks"], -r["revenue_minor"]))
    assert len(ranked) > 20 and ranked[0]["key"]  # the demo's addresses have countries

    page = await client.get("/admin/reach")
    assert page.status_code == 200
    table = page.text.split('id="country-table"')[1].split("</table>")[0]
    shown = [c.split(">")[1].split("<")[0] for c in table.split('title="ROI by creator for ')[1:]]
    assert shown[:5] == [r["label"] for r in ranked[:5] if r["key"]][:5]
    assert table.count("<tr>") == 1 + 20  # the header and the top 20
    top = ranked[0]
    assert f">{top['human_clicks']:,}</td>" in table
    everything = await client.get("/admin/reach?countries=all")
    assert everything.text.split('id="country-table"')[1].count("<tr>") > 21

    filtered = await client.get(f"/admin/reach?country={top['key']}")
    table = filtered.text.split('id="country-table"')[1].split("</table>")[0]
    assert table.count("<tr>") == 2 and f"Filtered: country = {top['key']}" in filtered.text

    served = (await client.get("/static/creatorlink-v1.js")).content
    digest = "sha384-" + base64.b64encode(hashlib.sha384(served).digest()).decode()
    tag = html.unescape(page.text.split('id="snippet-tag">')[1].split("</code>")[0])
    assert f'integrity="{digest}"' in tag and 'data-param="cl_cid"' in tag
    assert tag.startswith('<script src="') and "/static/creatorlink-v1.js" in tag


async def test_links_page_marks_targeted_links(live: Running) -> None:
    auth = await live.token()
    await logged_in(live)
    variants = [
        {"name": "A", "destination": "https://shop.example.com/a"},
        {"name": "B", "destination": "https://shop.example.com/b"},
    ]
    r = await live.client.post(
        "/api/v1/links",
        headers=auth,
        json={"destination": "https://shop.example.com/p", "targeting": {"variants": variants}},
    )
    link = r.json()
    await live.client.get(f"/{link['slug']}")
    await live.flush()
    page = await live.client.get("/admin/links")
    assert f'/reach?link_id={link["id"]}"' in page.text and "rules / A/B</a>" in page.text
    reach = await live.client.get(f"/admin/reach?link_id={link['id']}")
    table = reach.text.split('id="variant-table"')[1].split("</table>")[0]
    assert table.count("<tr>") == 2 and ("<td>A</td>" in table or "<td>B</td>" in table)
