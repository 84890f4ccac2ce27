"""The JSON API over HTTP: auth, CRUD of creators/campaigns/links, validation, OpenAPI."""

from __future__ import annotations

import pytest

from tests.conftest import Running

pytestmark = pytest.mark.anyio


async def test_no_token_bad_token_revoked_token(live: Running) -> None:
    assert (await live.client.get("/api/v1/creators")).status_code == 401
    bad = {"Authorization": "Bearer clk_nope"}
    r = await live.client.get("/api/v1/creators", headers=bad)
    assert r.status_code == 401 and r.json()["error"] == "unauthorized"
    _, token = await live.store.create_token("ops")
    good = {"Authorization": f"Bearer {token}"}
    assert (await live.client.get("/api/v1/creators", headers=good)).status_code == 200
    await live.store.revoke_token("ops")
    assert (await live.client.get("/api/v1/creators", headers=good)).status_code == 401


async def test_tokens_are_stored_hashed(live: Running) -> None:
    _, token = await live.store.create_token("ops")
    rows = await live.store.db.fetch_all("SELECT * FROM api_tokens")
    assert token not in repr(rows)


async def test_creator_crud_and_tiers(live: Running, auth: dict[str, str]) -> None:
    c = live.client
    r = await c.post(
        "/api/v1/creators", headers=auth, json={"handle": "@Maya.Glow", "followers": 9999}
    )
    assert r.status_code == 201
    maya = r.json()
    assert maya["handle"] == "Maya.Glow" and maya["tier"] == "nano"
    assert (
        await c.post("/api/v1/creators", headers=auth, json={"handle": "maya.glow"})
    ).status_code == 409
    for followers, tier in (
        (10_000, "micro"),
        (100_000, "mid"),
        (500_000, "macro"),
        (1_000_000, "mega"),
    ):
        r = await c.patch(
            f"/api/v1/creators/{maya['id']}", headers=auth, json={"followers": followers}
        )
        assert r.json()["tier"] == tier
    assert (await c.get("/api/v1/creators/@maya.glow", headers=auth)).json()["id"] == maya["id"]
    listed = (await c.get("/api/v1/creators?q=glow", headers=auth)).json()["items"]
    assert [x["id"] for x in listed] == [maya["id"]]
    r = await c.delete(f"/api/v1/creators/{maya['id']}", headers=auth)
    assert r.json()["status"] == "disabled"
    assert (await c.get("/api/v1/creators/nobody", headers=auth)).status_code == 404


async def test_campaign_and_link_with_refs(live: Running, auth: dict[str, str]) -> None:
    c = live.client
    await c.post("/api/v1/creators", headers=auth, json={"handle": "maya", "platform": "youtube"})
    r = await c.post(
        "/api/v1/campaigns",
        headers=auth,
        json={"name": "Spring Launch", "currency": "EUR", "budget_minor": 500000},
    )
    assert r.status_code == 201
    r = await c.post(
        "/api/v1/links",
        headers=auth,
        json={
            "destination": "https://shop.example.com/",
            "creator_id": "maya",
            "campaign_id": "spring launch",
            "utm_term": "serum",
            "content_type": "reel",
        },
    )
    assert r.status_code == 201, r.text
    link = r.json()
    assert link["utm_source"] == "youtube" and link["utm_campaign"] == "spring_launch"
    assert link["utm_term"] == "serum" and len(link["slug"]) >= 7
    assert link["short_url"].endswith("/" + link["slug"])
    # explicit null switches a default off
    r = await c.post(
        "/api/v1/links",
        headers=auth,
        json={"destination": "https://shop.example.com/", "creator_id": "maya", "utm_medium": None},
    )
    assert r.json()["utm_medium"] is None
    # unknown creator: 422, nothing written
    before = len((await c.get("/api/v1/links", headers=auth)).json()["items"])
    r = await c.post(
        "/api/v1/links",
        headers=auth,
        json={"destination": "https://shop.example.com/", "creator_id": "ghost"},
    )
    assert r.status_code == 422 and "ghost" in r.json()["detail"]
    assert len((await c.get("/api/v1/links", headers=auth)).json()["items"]) == before
    # duplicate custom slug
    await c.post(
        "/api/v1/links", headers=auth, json={"destination": "https://a.example.com/", "slug": "dup"}
    )
    r = await c.post(
        "/api/v1/links", headers=auth, json={"destination": "https://a.example.com/", "slug": "dup"}
    )
    assert r.status_code == 409
    filtered = (await c.get("/api/v1/links?creator_id=maya", headers=auth)).json()["items"]
    assert len(filtered) == 2


@pytest.mark.parametrize(
    "destination",
    [
        "javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "//evil.example",
        "\\\\evil.example",
        "https:evil.example",
        "https:/evil.example",
        "https://user:pass@shop.example.com/",
        "https://shop.example.com@evil.example/",
        "https://shop.example.com/\r\nSet-Cookie:x=1",
        "https://shop.example.com/\tx",
        "https://evil.example\\@shop.example.com/",
        "ftp://shop.example.com/",
        "https://127.0.0.1/",
        "https://[::1]/",
        "https://localhost/",
        "https://xn--pple-43d.com/",
        "https://\u0430pple.com/",
        "https%3A%2F%2Fevil.example",
        "https://shop.example.com/" + "a" * 5000,
        "",
        "HTTPS://",
        "http://-bad-.example/",
        "https://0x7f000001/",
    ],
)
async def test_hostile_destinations_rejected(
    live: Running, auth: dict[str, str], destination: str
) -> None:
    r = await live.client.post("/api/v1/links", headers=auth, json={"destination": destination})
    assert r.status_code == 422, destination
    assert r.json()["detail"]
    assert await live.store.list_links() == []


async def test_allowed_hosts(tmp_path, database_url) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import make_settings, running

    settings = make_settings(tmp_path, database_url, TRACKER_ALLOWED_HOSTS="shop.example.com")
    async with running(settings) as live:
        auth = await live.token()
        ok = await live.client.post(
            "/api/v1/links", headers=auth, json={"destination": "https://eu.shop.example.com/x"}
        )
        assert ok.status_code == 201
        r = await live.client.post(
            "/api/v1/links", headers=auth, json={"destination": "https://evil.example/x"}
        )
        assert r.status_code == 422 and "TRACKER_ALLOWED_HOSTS" in r.json()["detail"]
        r = await live.client.post(
            "/api/v1/links",
            headers=auth,
            json={"destination": "https://shop.example.com.evil.example/"},
        )
        assert r.status_code == 422


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"{not json", 400),
        (b"[1,2]", 400),
        (b'{"handle": 5}', 422),
        (b'{"handle": "ok", "extra": 1}', 422),
        (b'{"handle": "bad handle!"}', 422),
        (b'{"handle": "ok", "followers": -1}', 422),
        (b"\xff\xfe", 400),
    ],
)
async def test_bad_bodies(live: Running, auth: dict[str, str], body: bytes, status: int) -> None:
    r = await live.client.post(
        "/api/v1/creators", headers={**auth, "content-type": "application/json"}, content=body
    )
    assert r.status_code == status
    assert r.json()["detail"]
    assert await live.store.list_creators() == []


async def test_oversized_body_413(live: Running, auth: dict[str, str]) -> None:
    r = await live.client.post(
        "/api/v1/creators", headers=auth, content=b'{"name": "' + b"a" * 1_100_000 + b'"}'
    )
    assert r.status_code == 413


async def test_bad_paging(live: Running, auth: dict[str, str]) -> None:
    assert (await live.client.get("/api/v1/links?limit=abc", headers=auth)).status_code == 400
    assert (await live.client.get("/api/v1/links?limit=0", headers=auth)).status_code == 400
    r = await live.client.get("/api/v1/links?offset=10000000000", headers=auth)
    assert r.status_code == 400 and "offset: a whole number 0..1000000000" in r.text  # named
    r = await live.client.get("/api/v1/links?limit=\u0663", headers=auth)  # an Arabic-Indic 3
    assert r.status_code == 400 and "limit:" in r.text


async def test_link_stats_and_clicks(live: Running, auth: dict[str, str]) -> None:
    await live.client.post(
        "/api/v1/links",
        headers=auth,
        json={"destination": "https://shop.example.com/", "slug": "st"},
    )
    for ua in ("Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0", "Twitterbot/1.0"):
        await live.client.get("/st", headers={"user-agent": ua})
    await live.flush()
    stats = (await live.client.get("/api/v1/links/st/stats", headers=auth)).json()
    assert stats["clicks"] == 2 and stats["human_clicks"] == 1 and stats["unique_visitors"] == 1
    clicks = (await live.client.get("/api/v1/clicks?link=st", headers=auth)).json()["items"]
    assert len(clicks) == 2


async def test_openapi_schema(live: Running) -> None:
    r = await live.client.get("/api/v1/openapi.json")
    assert r.status_code == 200
    spec = r.json()
    assert spec["openapi"].startswith("3.")
    assert "/api/v1/links" in spec["paths"] and "LinkIn" in spec["components"]["schemas"]
    assert spec["components"]["schemas"]["LinkIn"]["required"] == ["destination"]
