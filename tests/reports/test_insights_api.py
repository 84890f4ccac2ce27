"""Issue 20 end to end over HTTP, on both engines: posts naming their link, click rows as the
redirect builds them at planted hours, orders through the generic postback; then the five
insight reports and ``exclude_flagged`` on the ROI report."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import Running
from tests.postback_helpers import dumps, generic_headers
from tracker.core import clock, ids
from tracker.reports import timing

pytestmark = pytest.mark.anyio
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Mobile/15E148 Instagram 327.0.0.31.105 (iPhone15,3; iOS 17_4; en_US; en; scale=3.00; "
    "1290x2796; 596206407)"
)
BOT = "Mozilla/5.0 (compatible; Twitterbot/1.0)"


def _row(live: Running, link: dict[str, Any], at: float, ua: str, n: int) -> tuple:  # type: ignore[type-arg]
    scope = {
        "method": "GET",
        "client": (f"198.51.{n // 250}.{n % 250 + 1}", 1234),
        "headers": [(b"user-agent", ua.encode()), (b"accept-language", b"en-US")],
    }
    row = list(
        live.state.capture.row(
            scope, link["slug"], link["id"], link["creator_id"], ids.click_id(at), at
        )
    )
    row[1] = clock.iso(at)
    return live.state.capture.complete(tuple(row))  # type: ignore[no-any-return]


async def _setup(live: Running, auth: dict[str, str]) -> dict[str, Any]:  # long: one small world
    c = live.client
    links: dict[str, Any] = {}
    for handle, followers, platform, kind in (
        ("ana", 20_000, "instagram", "reel"),
        ("ben", 5_000, "tiktok", "story"),
    ):
        r = await c.post(
            "/api/v1/creators",
            headers=auth,
            json={"handle": handle, "followers": followers, "platform": platform},
        )
        assert r.status_code == 201, r.text
        r = await c.post(
            "/api/v1/links",
            headers=auth,
            json={
                "destination": "https://shop.example.com/",
                "slug": handle,
                "creator_id": handle,
                "content_type": kind,
            },
        )
        assert r.status_code == 201, r.text
        links[handle] = r.json()
    secret = (
        await c.post("/api/v1/shops", headers=auth, json={"slug": "gen", "platform": "generic"})
    ).json()["secret"]
    today = datetime.now(UTC).date()
    # the last Tuesday at least 3 days ago, 19:00 UTC: ana's planted peak
    tue = today - timedelta(days=3 + (today.weekday() - 1 - 3) % 7)
    peak = datetime(tue.year, tue.month, tue.day, 19, tzinfo=UTC).timestamp()
    rows, n = [], 0
    for h in range(3):  # 40 human clicks in each of 19h, 20h, 21h
        for _ in range(40):
            rows.append(_row(live, links["ana"], peak + h * 3600 + n % 3000, IPHONE, n))
            n += 1
    for d in range(1, 8):  # 2 clicks a day at 08h elsewhere in the week
        at = peak - d * 86400 - 11 * 3600
        rows += [_row(live, links["ana"], at + i, IPHONE, n + i) for i in range(2)]
        n += 2
    # ben's post: 60 bot clicks and 5 human ones after it
    ben_post_at = peak - 2 * 86400
    rows += [_row(live, links["ben"], ben_post_at + 60 + i, BOT, n + i) for i in range(60)]
    rows += [_row(live, links["ben"], ben_post_at + 120 + i, IPHONE, n + 100 + i) for i in range(5)]
    await live.store.insert_clicks(rows)
    # 3 orders from peak clicks, one from an 08h click
    for k, row in enumerate([rows[0], rows[50], rows[100], rows[125]]):
        body = dumps(
            {
                "order_id": f"o{k}",
                "created_at": clock.iso(clock.epoch(row[1]) + 600),
                "currency": "USD",
                "total_minor": 10_000,
                "click_id": row[0],
            }
        )
        r = await c.post(
            "/postbacks/generic/gen", content=body, headers=generic_headers(body, secret, f"m{k}")
        )
        assert r.status_code == 200, r.text
    for handle, at, likes, link in (
        ("ana", peak - 3600, 800, "ana"),
        ("ana", peak - 5 * 86400, 700, None),
        ("ben", ben_post_at, 300, "ben"),
        ("ben", ben_post_at - 86400, 200, None),
    ):
        r = await c.post(
            "/api/v1/posts",
            headers=auth,
            json={
                "creator_id": handle,
                "link_id": link,
                "platform": "instagram",
                "format": "reel",
                "posted_at": clock.iso(at),
                "likes": likes,
                "comments": 20,
                "followers_at_post": 20_000 if handle == "ana" else 5_000,
            },
        )
        assert r.status_code == 201, r.text
    for months_ago, fee in ((0, 20_000), (1, 10_000), (2, 30_000)):
        day = (today - timedelta(days=30 * months_ago + 1)).isoformat()
        for handle in ("ana", "ben"):
            r = await c.post(
                "/api/v1/costs",
                headers=auth,
                json={"creator_id": handle, "kind": "fee", "amount_minor": fee, "incurred_on": day},
            )
            assert r.status_code == 201, r.text
    return {"links": links, "peak": tue}


async def test_insights_end_to_end(live: Running, auth: dict[str, str]) -> None:
    world = await _setup(live, auth)
    c = live.client

    async def get(path: str, status: int = 200) -> Any:
        r = await c.get(path, headers=auth)
        assert r.status_code == status, r.text
        return r.json()

    # a post naming another creator's link is refused, nothing written
    r = await c.post(
        "/api/v1/posts",
        headers=auth,
        json={
            "creator_id": "ana",
            "link_id": "ben",
            "platform": "instagram",
            "format": "reel",
            "posted_at": "2026-01-01T00:00:00Z",
        },
    )
    assert r.status_code == 422 and "another creator" in r.text

    eng = await get("/api/v1/reports/engagement")
    flagged = {p["handle"]: p for p in eng["flagged_posts"]}
    assert set(flagged) == {"ben"}
    kinds = {f["kind"] for f in flagged["ben"]["flags"]}
    assert kinds == {"bot_clicks"}
    assert flagged["ben"]["link_clicks"] == {"clicks": 65, "human_clicks": 5, "orders": 0}
    ben = next(x for x in eng["creators"] if x["handle"] == "ben")
    assert ben["posts"] == 2 and ben["flagged_posts"] == 1 and ben["flagged"] is False
    assert ben["engagement_rate_pct"] == pytest.approx((320 + 220) / 10_000 * 100)
    assert ben["authentic_rate_pct"] == pytest.approx(220 / 5_000 * 100)

    # the ROI report, with and without the flagged post in the engagement rate
    plain = {r["label"]: r for r in (await get("/api/v1/reports/creator"))["rows"]}
    clean = await get("/api/v1/reports/creator?exclude_flagged=true")
    rows = {r["label"]: r for r in clean["rows"]}
    assert plain["ben"]["engagement_rate"] == 5.4 and rows["ben"]["engagement_rate"] == 4.4
    assert rows["ben"]["flagged_posts_excluded"] == 1 and clean["flagged_posts_excluded"] == 1
    assert rows["ana"]["revenue_minor"] == plain["ana"]["revenue_minor"] == 40_000

    times = await get("/api/v1/reports/posting-times?creator_id=ana")
    grid = times["groups"][0]
    assert times["by"] == "creator" and grid["human_clicks"] == 120 + 14
    assert grid["best_windows"][0]["label"] == "Tue 19:00-22:00"
    assert grid["best_windows"][0]["conversions"] == 3 and grid["conversions"] == 4
    assert grid["revenue_minor"] == 40_000
    assert grid["enough_data"] is False  # 134 human clicks: said, not hidden
    by_platform = await get("/api/v1/reports/posting-times?by=platform&tz=Europe/Paris")
    assert {g["key"] for g in by_platform["groups"]} == {"instagram", "tiktok"}
    insta = next(g for g in by_platform["groups"] if g["key"] == "instagram")
    paris = timing.hour_of_week(world["peak"].isoformat() + "T19", ZoneInfo("Europe/Paris"))
    assert paris in (24 + 20, 24 + 21)  # 19h UTC is 20h in Paris in winter, 21h in summer
    assert insta["best_windows"][0]["label"] == timing.label(paris, 3)
    await get("/api/v1/reports/posting-times?tz=Mars/Olympus", 400)
    await get("/api/v1/reports/posting-times?by=creator", 400)

    content = await get("/api/v1/reports/content-types")
    by_kind = {(r["tier"], r["content_type"]): r for r in content["rows"]}
    ana_row = by_kind[("micro", "reel")]
    assert (
        ana_row["human_clicks"] == 134
        and ana_row["orders"] == 4
        and ana_row["revenue_minor"] == 40_000
    )
    assert ana_row["conversion_rate"] == round(4 / 134 * 100, 2)
    # a link naming no content type takes the format of the latest post carrying it
    r = await c.post(
        "/api/v1/links",
        headers=auth,
        json={"destination": "https://shop.example.com/", "slug": "ana-2", "creator_id": "ana"},
    )
    assert r.status_code == 201, r.text
    at = clock.epoch(clock.now_iso()) - 7200
    await live.store.insert_clicks(
        [_row(live, r.json(), at + i, IPHONE, 900 + i) for i in range(3)]
    )
    for fmt, when in (("story", at - 86400), ("short", at - 3600)):
        post = {"creator_id": "ana", "link_id": "ana-2", "platform": "instagram", "format": fmt}
        r = await c.post("/api/v1/posts", headers=auth, json={**post, "posted_at": clock.iso(when)})
        assert r.status_code == 201, r.text
    content = await get("/api/v1/reports/content-types")
    by_kind = {(r["tier"], r["content_type"]): r for r in content["rows"]}
    assert by_kind[("micro", "short")]["human_clicks"] == 3 and ("micro", "story") not in by_kind

    card = await get("/api/v1/reports/scores")
    ana = next(x for x in card["creators"] if x["handle"] == "ana")
    assert set(ana["parts"]) == {"roi", "conversion", "consistency", "authenticity", "trend"}
    assert ana["parts"]["authenticity"] == 100.0 and ana["parts"]["trend"] == 100.0
    assert ana["advice"] in ("renew", "expand", "watch", "conclude") and ana["reasons"]
    ben_card = next(x for x in card["creators"] if x["handle"] == "ben")
    assert ben_card["parts"]["authenticity"] == 50.0 and ben_card["advice"] == "conclude"
    assert ben_card["reasons"][0].startswith("ROAS 0.00")  # paid, sold nothing
    advice = await get("/api/v1/reports/recommendations")
    assert {s["creator"] for s in advice["scale"]} == {
        x["handle"] for x in card["creators"] if x["advice"] == "expand"
    }

    fc = await get("/api/v1/reports/forecast?by=creator&periods=3")
    assert {u["label"] for u in fc["units"]} == {"ana", "ben"}
    ana_fc = next(u for u in fc["units"] if u["label"] == "ana")
    assert [h["spend_minor"] for h in ana_fc["history"]] == [30_000, 10_000, 20_000]
    assert sum(h["revenue_minor"] for h in ana_fc["history"]) == 40_000
    assert fc["current"]["spend_minor"] == 40_000 == fc["proposed"]["spend_minor"]
    # computed from the touches alone (stored credit unusable without its basis row), the
    # forecast is the one the stored credit's SQL sums gave, to the last field
    stored_rows = await live.store.db.fetch_one("SELECT COUNT(*) AS n FROM order_credits")
    assert stored_rows["n"] > 0
    await live.store.db.execute("DELETE FROM credit_basis")
    assert await get("/api/v1/reports/forecast?by=creator&periods=3") == fc
    assert await live.store.sync_credits()  # stored again for what follows
    given = await get(
        "/api/v1/reports/forecast?by=creator&periods=3&split_minor=ana:25000,%40ben:0"
    )
    assert given["proposed"]["spend_minor"] == 25_000 and given["proposed_split"] == "given"
    tiers = await get("/api/v1/reports/forecast?periods=3")
    assert {u["key"] for u in tiers["units"]} == {"micro", "nano"}
    for bad in (
        "split_minor=ana:-5",
        "split_minor=nobody:100",
        "split_minor=ana",
        "period_days=3",
        "by=moon",
    ):
        await get(
            f"/api/v1/reports/forecast?by=creator&{bad}"
            if "by=" not in bad
            else f"/api/v1/reports/forecast?{bad}",
            400,
        )
    assert world["peak"].weekday() == 1
