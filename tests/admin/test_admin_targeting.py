"""The link page's targeting editor over HTTP (httpx against the app, SQLite and PostgreSQL):
a rule added in the panel steers the real redirect; the panel refuses what the API refuses,
with the API's message (one validator: ``schemas.TargetingIn`` + the destination rule), and
a refused form changes nothing; viewers and posts without CSRF are refused."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.admin.test_admin import csrf_of, logged_in
from tests.conftest import Running

RULE = {
    "action": "add_rule",
    "name": "tiktok",
    "destination": "https://shop.example.com/tt",
    "query_name": "src",
    "query_value": "tiktok",
}


async def _link(live: Running) -> dict[str, Any]:
    creator = await live.store.create_creator({"handle": "maya", "platform": "tiktok"})
    link: dict[str, Any] = await live.store.create_link(
        {"slug": "maya", "creator_id": creator["id"], "destination": "https://shop.example.com/p"}
    )
    return link


async def _targeting(live: Running, link: dict[str, Any]) -> Any:
    row = await live.store.get_link(link["id"])
    return json.loads(row["targeting"]) if row["targeting"] else None


@pytest.mark.anyio
async def test_rule_added_in_the_panel_steers_the_redirect(live: Running) -> None:
    token = await logged_in(live)
    link = await _link(live)
    page = await live.client.get(f"/admin/links/{link['id']}")
    assert page.status_code == 200 and 'id="add-rule"' in page.text
    assert (
        (await live.client.get("/maya?src=tiktok"))
        .headers["location"]
        .startswith("https://shop.example.com/p?")
    )  # cached before the change: the edit must invalidate it
    r = await live.client.post(f"/admin/links/{link['id']}/targeting", data={**RULE, "csrf": token})
    assert r.status_code == 303, r.text
    [rule] = (await _targeting(live, link))["rules"]
    assert rule["when"]["query"] == {"name": "src", "value": "tiktok"}
    assert (
        (await live.client.get("/maya?src=tiktok"))
        .headers["location"]
        .startswith("https://shop.example.com/tt?")
    )
    assert (
        (await live.client.get("/maya"))
        .headers["location"]
        .startswith("https://shop.example.com/p?")
    )
    form = {"action": "add_rule", "name": "apple", "destination": "https://shop.example.com/app"}
    r = await live.client.post(
        f"/admin/links/{link['id']}/targeting",
        data={**form, "os": ["ios", "macos"], "country": "us, ca", "csrf": token},
    )
    assert r.status_code == 303, r.text
    variant = {"action": "add_variant", "name": "B", "destination": "https://shop.example.com/b"}
    r = await live.client.post(
        f"/admin/links/{link['id']}/targeting", data={**variant, "weight": "30", "csrf": token}
    )
    assert r.status_code == 303, r.text
    spec = await _targeting(live, link)
    assert spec["rules"][1]["when"]["os"] == ["ios", "macos"]
    assert spec["rules"][1]["when"]["country"] == ["US", "CA"]
    assert spec["variants"] == [
        {"name": "B", "destination": "https://shop.example.com/b", "weight": 30}
    ]
    page = (await live.client.get(f"/admin/links/{link['id']}")).text
    assert "os ios or macos; country US or CA" in page and "?src=tiktok" in page
    for name in ("tiktok", "apple", "B"):
        r = await live.client.post(
            f"/admin/links/{link['id']}/targeting",
            data={"action": "remove", "name": name, "csrf": token},
        )
        assert r.status_code == 303, r.text
    assert await _targeting(live, link) is None
    assert (
        (await live.client.get("/maya?src=tiktok"))
        .headers["location"]
        .startswith("https://shop.example.com/p?")
    )


@pytest.mark.anyio
async def test_panel_refuses_what_the_api_refuses_and_changes_nothing(live: Running) -> None:
    token = await logged_in(live)
    link = await _link(live)
    url = f"/admin/links/{link['id']}/targeting"
    assert (await live.client.post(url, data={**RULE, "csrf": token})).status_code == 303
    before = await _targeting(live, link)
    api = await live.token()
    bad = [
        ({**RULE, "name": "evil", "destination": "javascript:alert(1)"}, "only absolute http"),
        ({**RULE, "name": "evil", "destination": "//evil.example/x"}, "only absolute http"),
        ({**RULE, "name": "TikTok"}, "names must be unique"),
        ({**RULE, "name": "uk", "query_name": "", "country": "GBR"}, "country"),
        ({**RULE, "name": "nothing", "query_name": ""}, "needs at least one condition"),
        (
            {
                "action": "add_variant",
                "name": "A",
                "destination": "https://x.example",
                "weight": "-1",
            },
            "weight",
        ),
    ]
    for form, words in bad:
        r = await live.client.post(url, data={**form, "csrf": token})
        assert r.status_code == 422, (form, r.status_code)
        assert words in r.text, (form, words)
        assert 'role="alert"' in r.text  # the form comes back with the reason
        assert await _targeting(live, link) == before, form
    # The API says the same about the same open redirect.
    r = await live.client.patch(
        f"/api/v1/links/{link['id']}",
        headers=api,
        json={"targeting": {"rules": [{**before["rules"][0], "destination": "//evil.example/x"}]}},
    )
    assert r.status_code == 422 and "only absolute http" in r.text
    r = await live.client.post(url, data={"action": "remove", "name": "nope", "csrf": token})
    assert r.status_code == 404
    r = await live.client.post(url, data={"action": "drop", "csrf": token})
    assert r.status_code == 422
    assert await _targeting(live, link) == before


@pytest.mark.anyio
async def test_viewer_and_missing_csrf_are_refused(live: Running) -> None:
    link = await _link(live)
    url = f"/admin/links/{link['id']}/targeting"
    await logged_in(live, "viewer")
    page = await live.client.get(f"/admin/links/{link['id']}")
    assert page.status_code == 200 and 'id="add-rule"' not in page.text
    r = await live.client.post(url, data={**RULE, "csrf": csrf_of(page.text)})
    assert r.status_code == 403
    r = await live.client.post(url, data=RULE)
    assert r.status_code == 403 and "CSRF" in r.text
    assert await _targeting(live, link) is None
    assert (await live.client.get("/admin/links/nope")).status_code == 404
