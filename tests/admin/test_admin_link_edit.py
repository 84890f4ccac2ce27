"""The link page's edit form over HTTP (SQLite and PostgreSQL): an edit steers the next
redirect at once; an emptied field clears; the panel refuses what the API refuses (one
validator: ``schemas.LinkPatch`` + the destination rule) and a refused form changes nothing;
viewers and posts without CSRF are refused."""

from __future__ import annotations

from typing import Any

import pytest

from tests.admin.test_admin import csrf_of, logged_in
from tests.conftest import Running

pytestmark = pytest.mark.anyio

FORM = {
    "destination": "https://shop.example.com/new?ref=x",
    "title": "Spring reel",
    "campaign_id": "",
    "content_type": "reel",
    "utm_source": "tiktok",
    "utm_medium": "influencer",
    "utm_campaign": "",
    "utm_content": "maya",
    "utm_term": "",
    "expires_at": "",
    "status": "active",
}


async def _link(live: Running) -> tuple[dict[str, Any], dict[str, Any]]:
    creator = await live.store.create_creator({"handle": "maya", "platform": "tiktok"})
    campaign = await live.store.create_campaign({"name": "Spring", "name_key": "spring"})
    link: dict[str, Any] = await live.store.create_link(
        {
            "slug": "maya",
            "creator_id": creator["id"],
            "campaign_id": campaign["id"],
            "destination": "https://shop.example.com/p",
            "utm_campaign": "spring",
            "utm_term": "serum",
            "title": "Old",
        }
    )
    return link, campaign


async def test_an_edit_steers_the_next_redirect_and_an_emptied_field_clears(
    live: Running,
) -> None:
    token = await logged_in(live)
    link, campaign = await _link(live)
    page = await live.client.get(f"/admin/links/{link['id']}")
    assert page.status_code == 200 and 'id="edit-link"' in page.text and "Spring" in page.text
    first = (await live.client.get("/maya")).headers["location"]  # cached before the edit
    assert first.startswith("https://shop.example.com/p?") and "utm_term=serum" in first
    r = await live.client.post(f"/admin/links/{link['id']}", data={**FORM, "csrf": token})
    assert r.status_code == 303, r.text
    row = await live.store.get_link(link["id"])
    assert row["destination"] == "https://shop.example.com/new?ref=x"
    assert (row["title"], row["content_type"], row["utm_source"]) == (
        "Spring reel",
        "reel",
        "tiktok",
    )
    assert row["campaign_id"] is None and row["utm_campaign"] is None and row["utm_term"] is None
    location = (await live.client.get("/maya")).headers["location"]
    assert location.startswith("https://shop.example.com/new?ref=x&utm_source=tiktok")
    assert "utm_term" not in location and "utm_campaign" not in location
    # Expiry in the form's own format (datetime-local, UTC), then disabled.
    form = {**FORM, "campaign_id": campaign["id"], "expires_at": "2001-01-01T00:00"}
    r = await live.client.post(f"/admin/links/{link['id']}", data={**form, "csrf": token})
    assert r.status_code == 303, r.text
    row = await live.store.get_link(link["id"])
    assert row["campaign_id"] == campaign["id"] and row["expires_at"].startswith("2001-01-01T00:00")
    assert (await live.client.get("/maya")).status_code == 410  # expired: the cache followed
    page = await live.client.get(f"/admin/links/{link['id']}")
    assert 'value="2001-01-01T00:00"' in page.text


async def test_the_panel_refuses_what_the_api_refuses_and_changes_nothing(live: Running) -> None:
    token = await logged_in(live)
    link, _ = await _link(live)
    before = await live.store.get_link(link["id"])
    url = f"/admin/links/{link['id']}"
    bad = [
        ({"destination": "javascript:alert(1)"}, "only absolute http"),
        ({"destination": "//evil.example/x"}, "only absolute http"),
        ({"destination": ""}, "destination"),
        ({"campaign_id": "ghost"}, "campaign_id"),
        ({"expires_at": "10000-01-01T00:00"}, "expires_at"),
        ({"status": "deleted"}, "status"),
        ({"utm_source": "x" * 201}, "utm_source"),
    ]
    for change, words in bad:
        r = await live.client.post(url, data={**FORM, **change, "csrf": token})
        assert r.status_code == 422, (change, r.status_code)
        assert words in r.text, (change, words)
        assert 'role="alert"' in r.text  # the form comes back with the reason and the values
        assert await live.store.get_link(link["id"]) == before, change
    assert (
        (await live.client.get("/maya"))
        .headers["location"]
        .startswith("https://shop.example.com/p?")
    )


async def test_viewer_and_missing_csrf_are_refused(live: Running) -> None:
    link, _ = await _link(live)
    before = await live.store.get_link(link["id"])
    await logged_in(live, "viewer")
    page = await live.client.get(f"/admin/links/{link['id']}")
    assert page.status_code == 200 and 'id="edit-link"' not in page.text
    url = f"/admin/links/{link['id']}"
    r = await live.client.post(url, data={**FORM, "csrf": csrf_of(page.text)})
    assert r.status_code == 403
    r = await live.client.post(url, data=FORM)
    assert r.status_code == 403 and "CSRF" in r.text
    assert await live.store.get_link(link["id"]) == before


async def test_the_page_links_to_its_campaign(live: Running) -> None:
    """A link's campaign is a link to the campaign's page, on its page and in the list (it
    was plain text)."""
    await logged_in(live)
    link, campaign = await _link(live)
    to_campaign = f'<a href="/admin/campaigns/{campaign["id"]}">Spring</a>'
    assert to_campaign in (await live.client.get(f"/admin/links/{link['id']}")).text
    assert to_campaign in (await live.client.get("/admin/links")).text  # the list's cell too
