"""A discount code's page and its edit form over HTTP (SQLite and PostgreSQL): a fixed value
typed in major units of its currency, an emptied campaign or value cleared, the panel
refusing what the API refuses (``CodePatch`` and the money rule) with nothing changed;
viewers and posts without CSRF refused."""

from __future__ import annotations

from typing import Any

import pytest

from tests.admin.test_admin import csrf_of, logged_in
from tests.conftest import Running

pytestmark = pytest.mark.anyio

FORM = {
    "campaign_id": "",
    "value_type": "fixed",
    "value": "12.50",
    "currency": "EUR",
    "status": "active",
}


async def _code(live: Running) -> tuple[dict[str, Any], dict[str, Any]]:
    creator = await live.store.create_creator({"handle": "maya", "platform": "tiktok"})
    campaign = await live.store.create_campaign({"name": "Spring", "name_key": "spring"})
    [code] = await live.store.create_codes(
        [
            {
                "code": "MAYA15",
                "creator_id": creator["id"],
                "campaign_id": campaign["id"],
                "value_type": "percent",
                "value": 15,
                "currency": None,
            }
        ]
    )
    return code, campaign


async def test_an_edit_is_saved_in_minor_units_and_an_emptied_field_clears(
    live: Running,
) -> None:
    token = await logged_in(live)
    code, campaign = await _code(live)
    listing = await live.client.get("/admin/codes")
    assert f'/codes/{code["id"]}"' in listing.text
    page = await live.client.get(f"/admin/codes/{code['id']}")
    assert page.status_code == 200 and 'id="edit-code"' in page.text and "15 %" in page.text
    r = await live.client.post(f"/admin/codes/{code['id']}", data={**FORM, "csrf": token})
    assert r.status_code == 303, r.text
    row = await live.store.get_code(code["id"])
    assert (row["value_type"], row["value"], row["currency"]) == ("fixed", 1250, "EUR")
    assert row["campaign_id"] is None and row["code"] == "MAYA15"
    page = await live.client.get(f"/admin/codes/{code['id']}")
    assert 'value="12.50"' in page.text  # shown as typed
    form = {**FORM, "campaign_id": campaign["id"], "value_type": "", "value": "", "currency": ""}
    r = await live.client.post(f"/admin/codes/{code['id']}", data={**form, "csrf": token})
    assert r.status_code == 303, r.text
    row = await live.store.get_code(code["id"])
    assert row["campaign_id"] == campaign["id"] and row["value"] is None


async def test_the_panel_refuses_what_the_api_refuses_and_changes_nothing(live: Running) -> None:
    token = await logged_in(live)
    code, _ = await _code(live)
    before = await live.store.get_code(code["id"])
    bad = [
        ({"value": "12.345"}, "value"),  # more decimals than EUR has
        ({"currency": ""}, "currency: required for a fixed value"),  # not a CLI flag
        ({"currency": "ZZZ"}, "currency"),
        ({"value_type": "percent", "value": "101", "currency": ""}, "100"),
        ({"value_type": "percent", "value": "1.5", "currency": ""}, "whole number"),
        ({"campaign_id": "ghost"}, "campaign_id"),
        ({"status": "deleted"}, "status"),
        ({"value_type": "bogus"}, "value_type"),
    ]
    for change, words in bad:
        r = await live.client.post(
            f"/admin/codes/{code['id']}", data={**FORM, **change, "csrf": token}
        )
        assert r.status_code == 422, (change, r.status_code)
        assert words in r.text, (change, words)
        assert 'role="alert"' in r.text and "--currency" not in r.text
        assert await live.store.get_code(code["id"]) == before, change
    assert (await live.client.get("/admin/codes/nope")).status_code == 404


async def test_viewer_and_missing_csrf_are_refused(live: Running) -> None:
    code, _ = await _code(live)
    before = await live.store.get_code(code["id"])
    await logged_in(live, "viewer")
    page = await live.client.get(f"/admin/codes/{code['id']}")
    assert page.status_code == 200 and 'id="edit-code"' not in page.text
    url = f"/admin/codes/{code['id']}"
    assert (
        await live.client.post(url, data={**FORM, "csrf": csrf_of(page.text)})
    ).status_code == 403
    r = await live.client.post(url, data=FORM)
    assert r.status_code == 403 and "CSRF" in r.text
    assert await live.store.get_code(code["id"]) == before


async def test_the_page_names_its_campaign_with_a_link(live: Running) -> None:
    """The code's facts say which campaign it belongs to (only its edit form did)."""
    await logged_in(live)
    code, campaign = await _code(live)
    page = await live.client.get(f"/admin/codes/{code['id']}")
    facts = page.text.split('id="code-facts"')[1].split("</dl>")[0]
    assert f'<a href="/admin/campaigns/{campaign["id"]}">Spring</a>' in facts
    listing = await live.client.get("/admin/codes")
    assert f'<a href="/admin/campaigns/{campaign["id"]}">Spring</a>' in listing.text
