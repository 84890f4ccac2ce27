"""Journeys pages (issue 20): the panel shows what the API computes, and the collaboration
form (CSRF, admin only) creates and deletes collaborations with clear errors."""

from __future__ import annotations

import pytest

from tests.admin.test_admin import logged_in
from tests.conftest import Running
from tracker import demo

pytestmark = pytest.mark.anyio


async def test_journeys_pages_match_the_api(live: Running) -> None:
    await demo.load(live.app, creators=8, orders=30)
    auth = await live.token()
    csrf = await logged_in(live)
    c = live.client

    fit = (await c.get("/api/v1/reports/data-driven", headers=auth)).json()
    page = await c.get("/admin/journeys")
    assert page.status_code == 200
    portfolio = await c.get("/admin/portfolio")
    assert 'href="/admin/journeys"' in portfolio.text  # reached from the Portfolio page
    assert fit["fallback"] and fit["reason"] in page.text.replace("&#39;", "'")  # 30 < 300

    roi = await c.get("/admin/reports?model=data_driven")
    assert roi.status_code == 200 and "Data-driven: only " in roi.text  # the fallback, said
    exposure = (await c.get("/api/v1/reports/exposure", headers=auth)).json()
    page = await c.get("/admin/journeys/exposure")
    assert page.status_code == 200
    first = exposure["portfolio"]["by_creators"][0]
    table = page.text.split('class="data exposure-table"')[1].split("</table>")[0]
    assert f'<td class="num">{first["visitors"]:,}</td>' in table

    creators = (await c.get("/api/v1/creators?limit=2", headers=auth)).json()["items"]
    links = (await c.get("/api/v1/links?limit=1", headers=auth)).json()["items"]
    a, b = creators[0]["handle"], creators[1]["handle"]
    form = {
        "csrf": csrf,
        "name": "Duo",
        "kind": "link",
        "target": links[0]["slug"],
        "shares": f"@{a} 60, {b} 30",
    }
    r = await c.post("/admin/journeys/collabs", data=form)
    assert r.status_code == 422 and "must sum to 10000" in r.text
    r = await c.post("/admin/journeys/collabs", data={**form, "shares": f"@{a} 60%, {b}: 40"})
    assert r.status_code == 303
    assert (await c.post("/admin/journeys/collabs", data={**form, "csrf": "x"})).status_code == 403
    page = await c.get("/admin/journeys/collabs")
    row = page.text.split("<td>Duo</td>")[1].split("</tr>")[0]
    assert f"@{a} (60.0%" in row and f"@{b} (40.0%" in row
    api = (await c.get("/api/v1/reports/collabs", headers=auth)).json()["rows"][0]
    assert sum(m["revenue_minor"] for m in api["members"]) == api["revenue_minor"]
    collab = (await c.get("/api/v1/collabs", headers=auth)).json()["items"][0]
    r = await c.post(f"/admin/journeys/collabs/{collab['id']}/delete", data={"csrf": csrf})
    assert r.status_code == 303
    assert (await c.get("/api/v1/collabs", headers=auth)).json()["items"] == []

    answered = await live.store.db.fetch_one(
        "SELECT id, survey_answer FROM orders WHERE survey_answer LIKE '@%'"
    )  # the demo's answers: an @handle on some orders
    page = await c.get(f"/admin/orders/{answered['id']}")
    claim = page.text.split('id="survey-claim">')[1].split("</dd>")[0]
    assert 'names <a href="/admin/creators/' in claim and "exact @handle" in claim
    assert "does not decide the winner" in claim
    survey = await c.get("/admin/journeys/survey")
    assert survey.status_code == 200 and 'id="survey-table"' in survey.text

    page = await c.get("/admin/journeys/survey?start=2020-01-01&end=2020-01-31")
    assert page.status_code == 200 and "No survey answer naming a creator" in page.text
    assert (
        await c.get("/admin/journeys/survey?start=2021-01-01&end=2020-01-01")
    ).status_code == 400
