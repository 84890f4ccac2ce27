"""One link per creator in one call (``POST /api/v1/links/bulk``, ``tracker link bulk``, the
Links page's form), SQLite and PostgreSQL: each link with its creator's UTM defaults and
working redirect, all or nothing, and the refusals of a single link."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.admin.test_admin import csrf_of, logged_in
from tests.conftest import Running

pytestmark = pytest.mark.anyio

DEST = "https://shop.example.com/spring?ref=launch"


async def _portfolio(live: Running, auth: dict[str, str]) -> None:
    c = live.client
    for handle, platform in (("maya", "instagram"), ("bob.k", "tiktok"), ("cleo", "youtube")):
        r = await c.post(
            "/api/v1/creators", headers=auth, json={"handle": handle, "platform": platform}
        )
        assert r.status_code == 201, r.text
    await c.delete("/api/v1/creators/cleo", headers=auth)  # disabled: not in "every active"
    r = await c.post("/api/v1/campaigns", headers=auth, json={"name": "Spring Launch"})
    assert r.status_code == 201


async def _links(live: Running, auth: dict[str, str]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = (await live.client.get("/api/v1/links", headers=auth)).json()[
        "items"
    ]
    return items


async def test_one_link_per_active_creator_with_its_own_utms(
    live: Running, auth: dict[str, str]
) -> None:
    await _portfolio(live, auth)
    c = live.client
    r = await c.post(
        "/api/v1/links/bulk",
        headers=auth,
        json={"destination": DEST, "campaign_id": "spring launch", "content_type": "reel"},
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["created"] == 2 and len({i["slug"] for i in body["items"]}) == 2
    by_source = {i["utm_source"]: i for i in body["items"]}
    assert set(by_source) == {"instagram", "tiktok"}  # cleo is disabled
    for item in body["items"]:
        assert item["short_url"].endswith("/" + item["slug"])
        assert (item["utm_medium"], item["utm_campaign"]) == ("influencer", "spring_launch")
        assert item["content_type"] == "reel" and item["campaign_id"]
        location = (await c.get("/" + item["slug"])).headers["location"]
        assert location.startswith("https://shop.example.com/spring?ref=launch&")
        q = parse_qs(urlsplit(location).query)
        assert q["utm_source"] == [item["utm_source"]] and q["utm_content"] == [item["utm_content"]]
    assert by_source["tiktok"]["utm_content"] == "bob.k"
    # Named creators (id or @handle), the disabled one included when named.
    r = await c.post(
        "/api/v1/links/bulk",
        headers=auth,
        json={"destination": DEST, "creators": ["@cleo", "maya"], "utm_term": "serum"},
    )
    assert r.status_code == 201, r.text
    assert sorted(i["utm_content"] for i in r.json()["items"]) == ["cleo", "maya"]
    assert all(i["utm_term"] == "serum" and i["campaign_id"] is None for i in r.json()["items"])
    assert len(await _links(live, auth)) == 4


async def test_all_or_nothing_with_the_single_links_refusals(
    live: Running, auth: dict[str, str]
) -> None:
    await _portfolio(live, auth)
    c = live.client
    bad = [
        ({"destination": "javascript:alert(1)"}, "only absolute http"),
        ({"destination": DEST, "creators": ["maya", "ghost"]}, "ghost"),
        ({"destination": DEST, "creators": ["maya", "@maya"]}, "@maya is named twice"),
        ({"destination": DEST, "creators": []}, "creators"),
        ({"destination": DEST, "campaign_id": "nope"}, "campaign_id"),
        ({"destination": DEST, "expires_at": "10000-01-01T00:00:00Z"}, "expires_at"),
        ({"destination": DEST, "creators": ["x" * 101]}, "creators"),
    ]
    for body, words in bad:
        r = await c.post("/api/v1/links/bulk", headers=auth, json=body)
        assert r.status_code == 422, (body, r.status_code, r.text)
        assert words in r.text, (body, words, r.text)
    assert await _links(live, auth) == []
    assert (await c.post("/api/v1/links/bulk", json={"destination": DEST})).status_code == 401


def test_cli_link_bulk(server) -> None:  # type: ignore[no-untyped-def]
    server.cli("creator", "create", "--handle", "maya")
    server.cli("creator", "create", "--handle", "bob")
    server.cli("campaign", "create", "--name", "Spring")
    out = server.cli(
        "link", "bulk", "--destination", DEST, "--campaign", "spring", "--creators", "maya,bob"
    )
    lines = out.splitlines()
    # each creator by handle, as the links are handed out (it printed creator ids)
    assert lines[0].split() == ["short_url", "creator", "slug"] and len(lines) == 3
    assert sorted(line.split()[1] for line in lines[1:]) == ["@bob", "@maya"]
    listed = server.cli("link", "list")
    assert listed.count("shop.example.com/spring") == 2


async def test_the_links_page_makes_them_and_refuses_what_the_api_refuses(live: Running) -> None:
    token = await logged_in(live)
    for handle in ("maya", "bob"):
        await live.store.create_creator({"handle": handle, "platform": "tiktok"})
    campaign = await live.store.create_campaign({"name": "Spring", "name_key": "spring"})
    page = await live.client.get("/admin/links")
    assert 'id="bulk-links"' in page.text
    r = await live.client.post(
        "/admin/links/bulk",
        data={"destination": DEST, "creators": "ghost\nmaya", "csrf": token},
    )
    assert r.status_code == 422 and "ghost" in r.text and 'role="alert"' in r.text
    assert "ghost\nmaya" in r.text  # the form comes back as typed
    assert await live.store.search_links(q="", limit=10, offset=0) == ([], 0)
    r = await live.client.post(
        "/admin/links/bulk",
        data={"destination": DEST, "campaign_id": campaign["id"], "csrf": token},
    )
    assert r.status_code == 303, r.text
    to = urlsplit(r.headers["location"])
    assert to.path == "/admin/links" and parse_qs(to.query) == {
        "campaign": [campaign["id"]],
        "q": [DEST],
        "msg": ["links_created"],
    }
    listing = await live.client.get(r.headers["location"])
    assert listing.text.count("shop.example.com/spring") >= 2 and "Links created" in listing.text


async def test_viewer_and_missing_csrf_are_refused(live: Running) -> None:
    await live.store.create_creator({"handle": "maya", "platform": "tiktok"})
    await logged_in(live, "viewer")
    page = await live.client.get("/admin/links")
    assert 'id="bulk-links"' not in page.text
    r = await live.client.post(
        "/admin/links/bulk", data={"destination": DEST, "csrf": csrf_of(page.text)}
    )
    assert r.status_code == 403
    r = await live.client.post("/admin/links/bulk", data={"destination": DEST})
    assert r.status_code == 403 and "CSRF" in r.text


async def test_the_list_shown_after_holds_the_links_just_made(live: Running) -> None:
    """After the Links page's bulk form, the list (and its CSV, "each creator their short
    link") holds the links just made: those of its campaign to its page. It listed every
    link of the campaign, or of the whole portfolio without one."""
    token = await logged_in(live)
    for handle in ("maya", "bob"):
        await live.store.create_creator({"handle": handle, "platform": "tiktok"})
    campaign = await live.store.create_campaign({"name": "Spring", "name_key": "spring"})
    for slug, campaign_id in (("older", campaign["id"]), ("other", None)):
        await live.store.create_link(
            {"slug": slug, "campaign_id": campaign_id, "destination": "https://shop.example.com/x"}
        )
    for campaign_id, page in (("", "https://shop.example.com/a"), (campaign["id"], DEST)):
        r = await live.client.post(
            "/admin/links/bulk",
            data={"destination": page, "campaign_id": campaign_id, "csrf": token},
        )
        assert r.status_code == 303, r.text
        listing = await live.client.get(r.headers["location"])
        assert "Links created" in listing.text
        rows = (await live.client.get(r.headers["location"] + "&format=csv")).text.splitlines()
        assert len(rows) == 3 and all(page in row for row in rows[1:]), rows
