"""Redirect rules over real HTTP (httpx against the app), on both engines."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from tests.conftest import Running

pytestmark = pytest.mark.anyio
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)
CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36"
)


async def make_link(live: Running, auth: dict[str, str], **fields: object) -> dict[str, object]:
    creator = await live.client.post(
        "/api/v1/creators",
        headers=auth,
        json={"handle": "maya", "platform": "tiktok", "followers": 25000},
    )
    assert creator.status_code in (201, 409)
    body = {"destination": "https://shop.example.com/p/serum", "creator_id": "maya", **fields}
    r = await live.client.post("/api/v1/links", headers=auth, json=body)
    assert r.status_code == 201, r.text
    data: dict[str, object] = r.json()
    return data


def query(location: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(location).query, keep_blank_values=True)


async def test_redirect_adds_utm_and_click_id(live: Running, auth: dict[str, str]) -> None:
    link = await make_link(live, auth, slug="maya1")
    r = await live.client.get("/maya1", headers={"user-agent": IPHONE})
    assert r.status_code == 302
    assert r.headers["cache-control"] == "private, no-store"
    loc = r.headers["location"]
    assert loc.startswith("https://shop.example.com/p/serum?")
    q = query(loc)
    assert q["utm_source"] == ["tiktok"] and q["utm_medium"] == ["influencer"]
    assert q["utm_content"] == ["maya"]
    click_id = q["cl_cid"][0]
    await live.flush()
    click = await live.store.get_click(click_id)
    assert click is not None
    assert click["link_id"] == link["id"] and click["creator_id"] == link["creator_id"]
    assert click["device"] == "mobile" and click["os"] == "iOS"
    assert click["is_bot"] == 0 and click["bot_reason"] is None
    assert click["at"].endswith("Z")


async def test_destination_query_fragment_and_own_utm_kept(
    live: Running, auth: dict[str, str]
) -> None:
    await make_link(
        live,
        auth,
        slug="keep",
        destination="https://shop.example.com/p?color=red&utm_source=newsletter#reviews",
    )
    r = await live.client.get("/keep")
    loc = r.headers["location"]
    assert loc.endswith("#reviews")
    q = query(loc.split("#")[0])
    assert q["color"] == ["red"]
    assert q["utm_source"] == ["newsletter"]  # the destination's own value wins by default
    assert "cl_cid" in q


async def test_utm_override(live: Running, auth: dict[str, str]) -> None:
    await make_link(
        live,
        auth,
        slug="over",
        utm_override=True,
        destination="https://shop.example.com/p?utm_source=newsletter",
    )
    q = query((await live.client.get("/over")).headers["location"])
    assert q["utm_source"] == ["tiktok"]


async def test_shopper_params_pass_through_but_never_override(
    live: Running, auth: dict[str, str]
) -> None:
    await make_link(live, auth, slug="pass")
    r = await live.client.get("/pass?gclid=abc&utm_source=evil&cl_cid=forged&x=%C3%BC")
    q = query(r.headers["location"])
    assert q["gclid"] == ["abc"] and q["x"] == ["ü"]
    assert q["utm_source"] == ["tiktok"]
    assert len(q["cl_cid"]) == 1 and q["cl_cid"][0] != "forged"


async def test_unicode_destination_is_percent_encoded(live: Running, auth: dict[str, str]) -> None:
    await make_link(live, auth, slug="uni", destination="https://shop.example.com/café?q=ü")
    loc = (await live.client.get("/uni")).headers["location"]
    assert loc.startswith("https://shop.example.com/caf%C3%A9?q=%C3%BC&")
    assert loc.isascii()


async def test_unknown_slug_is_404_and_recorded_as_orphan(live: Running) -> None:
    r = await live.client.get("/nosuchlink", headers={"user-agent": CHROME})
    assert r.status_code == 404 and "Link not found" in r.text
    assert r.headers["cache-control"] == "private, no-store"
    await live.flush()
    orphans = await live.store.list_clicks(orphans=True)
    assert [o["slug"] for o in orphans] == ["nosuchlink"]


async def test_disabled_and_expired_links_are_410(live: Running, auth: dict[str, str]) -> None:
    await make_link(live, auth, slug="off")
    assert (await live.client.delete("/api/v1/links/off", headers=auth)).json()[
        "status"
    ] == "disabled"
    assert (await live.client.get("/off")).status_code == 410
    await make_link(live, auth, slug="old", expires_at="2020-01-01T00:00:00Z")
    r = await live.client.get("/old")
    assert r.status_code == 410 and "no longer active" in r.text
    # re-enabling is picked up at once (local cache invalidation)
    await live.client.patch("/api/v1/links/off", headers=auth, json={"status": "active"})
    assert (await live.client.get("/off")).status_code == 302


async def test_destination_change_is_served_at_once(live: Running, auth: dict[str, str]) -> None:
    await make_link(live, auth, slug="chg")
    assert (await live.client.get("/chg")).status_code == 302
    r = await live.client.patch(
        "/api/v1/links/chg", headers=auth, json={"destination": "https://shop.example.com/new"}
    )
    assert r.status_code == 200
    assert (
        (await live.client.get("/chg"))
        .headers["location"]
        .startswith("https://shop.example.com/new?")
    )


async def test_slugs_are_case_sensitive(live: Running, auth: dict[str, str]) -> None:
    await make_link(live, auth, slug="Maya")
    assert (await live.client.get("/Maya")).status_code == 302
    assert (await live.client.get("/maya")).status_code == 404


async def test_head_is_redirected_and_flagged(live: Running, auth: dict[str, str]) -> None:
    await make_link(live, auth, slug="hd")
    r = await live.client.head("/hd", headers={"user-agent": CHROME})
    assert r.status_code == 302
    await live.flush()
    click = await live.store.get_click(query(r.headers["location"])["cl_cid"][0])
    assert click["is_bot"] == 1 and click["bot_reason"] == "head-request"
    assert click["method"] == "HEAD"


@pytest.mark.parametrize(
    ("ua", "headers", "reason"),
    [
        (
            "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
            {},
            "previewer:facebookexternalhit",
        ),
        ("Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)", {}, "previewer:slackbot"),
        ("WhatsApp/2.23.20.0", {}, "previewer:whatsapp"),
        (
            "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
            {},
            "previewer:discordbot",
        ),
        ("Twitterbot/1.0", {}, "previewer:twitterbot"),
        ("", {}, "empty-user-agent"),
        (CHROME, {"sec-purpose": "prefetch"}, "prefetch"),
        (CHROME, {"purpose": "prefetch"}, "prefetch"),
        ("Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)", {}, None),
    ],
)
async def test_bots_and_prefetch_are_redirected_but_flagged(
    live: Running, auth: dict[str, str], ua: str, headers: dict[str, str], reason: str | None
) -> None:
    await make_link(live, auth, slug="bot")
    r = await live.client.get("/bot", headers={"user-agent": ua, **headers})
    assert r.status_code == 302
    await live.flush()
    click = await live.store.get_click(query(r.headers["location"])["cl_cid"][0])
    assert click["is_bot"] == 1
    if reason:
        assert click["bot_reason"] == reason
    else:
        assert click["bot_reason"]


async def test_fingerprint_is_stable_and_no_raw_ip(live: Running, auth: dict[str, str]) -> None:
    await make_link(live, auth, slug="fp")
    h = {"user-agent": IPHONE, "accept-language": "en-US"}
    ids_ = [
        query((await live.client.get("/fp", headers=h)).headers["location"])["cl_cid"][0]
        for _ in range(2)
    ]
    other = query(
        (await live.client.get("/fp", headers={**h, "accept-language": "de"})).headers["location"]
    )["cl_cid"][0]
    await live.flush()
    a, b, c = [await live.store.get_click(i) for i in (*ids_, other)]
    assert a["fingerprint"] == b["fingerprint"] != c["fingerprint"]
    assert len(a["fingerprint"]) == 32
    assert a["ip"] is None
    dump = repr(await live.store.db.fetch_all("SELECT * FROM clicks"))
    assert "203.0.113" not in dump


async def test_forwarded_for_only_from_trusted_proxies(tmp_path, database_url) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import make_settings, running

    settings = make_settings(
        tmp_path,
        database_url,
        TRACKER_TRUSTED_PROXIES="203.0.113.0/24",
        TRACKER_STORE_RAW_IP="true",
    )
    async with running(settings) as live:
        auth = await live.token()
        await make_link(live, auth, slug="px")
        r = await live.client.get("/px", headers={"x-forwarded-for": "198.51.100.9, 203.0.113.50"})
        await live.flush()
        click = await live.store.get_click(query(r.headers["location"])["cl_cid"][0])
        assert click["ip"] == "198.51.100.9"
    settings = make_settings(
        tmp_path / "b", database_url.replace("tracker.db", "b.db"), TRACKER_STORE_RAW_IP="true"
    )
    async with running(settings) as live:
        auth = await live.token()
        await make_link(live, auth, slug="px2")
        r = await live.client.get("/px2", headers={"x-forwarded-for": "198.51.100.9"})
        await live.flush()
        click = await live.store.get_click(query(r.headers["location"])["cl_cid"][0])
        assert click["ip"] == "203.0.113.7"  # the peer; an untrusted peer cannot spoof


@pytest.mark.parametrize("path", ["/api", "/admin", "/healthz", "/postbacks", "/static"])
async def test_reserved_paths_are_never_slugs(
    live: Running, auth: dict[str, str], path: str
) -> None:
    r = await live.client.post(
        "/api/v1/links",
        headers=auth,
        json={"destination": "https://shop.example.com/", "slug": path.strip("/")},
    )
    assert r.status_code == 422
    assert "reserved" in r.json()["detail"] or "slug" in r.json()["detail"]


async def test_healthz(live: Running) -> None:
    r = await live.client.get("/healthz")
    assert r.status_code == 200 and r.json()["status"] == "ok"
