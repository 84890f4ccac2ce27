"""``GET /api/v1/reports/breakdown`` (and ``.csv``): clicks by device, OS, browser or
referrer host, of the portfolio, a creator, a campaign or a link, over HTTP on both engines.

The case: on a sealed past day D (stored clicks, sealed by the reach job) and today (real
redirects, the open day, read raw):

| click | day   | link            | agent                    | referrer         | visitor |
|-------|-------|-----------------|--------------------------|------------------|---------|
| p1    | D     | maya's (spring) | mobile, iOS, Instagram   | l.instagram.com  | P       |
| p2    | D     | maya's (spring) | mobile, iOS, Instagram   | l.instagram.com  | P       |
| p3    | D     | ana's           | desktop, Mac OS X, Chrome| (none)           | Q       |
| r1    | today | maya's (spring) | mobile, iOS, Instagram   | l.instagram.com  | iPhone  |
| r2    | today | ana's           | mobile, Android, TikTok  | www.tiktok.com   | Android |
| r3    | today | ana's           | bot (Twitterbot)         | t.co             | (bot)   |

p1 and p2 are one visitor within one hour: 2 clicks, 1 unique click, 1 unique visitor.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.clicks.test_breakdown_rollups import INSTAGRAM, MAC, click
from tests.conftest import Running, run_cli, server_env
from tracker.clicks import reach

pytestmark = pytest.mark.anyio
IG_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
    "like Gecko) Mobile/15E148 Instagram 309.0.0.40.113 (iPhone14,3; iOS 17_1_2; en_US; en; "
    "scale=3.00; 1284x2778; 538224370)"
)
TIKTOK_UA = (
    "Mozilla/5.0 (Linux; Android 13; SM-S918B Build/TP1A.220624.014; wv) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Version/4.0 Chrome/119.0.6045.163 Mobile Safari/537.36 trill_320103 "
    "JsSdk/1.0 NetType/WIFI Channel/googleplay AppName/musical_ly app_version/32.1.3"
)
D = "2026-03-10"
FIGURES = ("clicks", "human_clicks", "unique_clicks", "unique_visitors")


async def _seed(live: Running, auth: dict[str, str]) -> dict[str, str]:
    c, store = live.client, live.store
    for path, body in (
        ("creators", {"handle": "maya"}),
        ("creators", {"handle": "ana"}),
        ("campaigns", {"name": "spring"}),
    ):
        assert (await c.post(f"/api/v1/{path}", headers=auth, json=body)).status_code == 201
    dest = "https://shop.example.com/p"
    ids = {}
    for slug, extra in (("mayas", {"creator_id": "maya", "campaign_id": "spring"}), ("anas", {"creator_id": "ana"})):  # fmt: skip
        r = await c.post("/api/v1/links", headers=auth, json={"slug": slug, "destination": dest, **extra})  # fmt: skip
        assert r.status_code == 201, r.text
        ids[slug] = r.json()["id"]
    maya, ana = [(await store.get_creator(h))["id"] for h in ("maya", "ana")]
    ids |= {"maya": maya, "ana": ana, "spring": (await store.get_campaign("spring"))["id"]}
    ig = "l.instagram.com"
    await store.insert_clicks(
        [
            click("p1", f"{D}T10:00:00.000000Z", ids["mayas"], maya, "P", INSTAGRAM, ig),
            click("p2", f"{D}T10:20:00.000000Z", ids["mayas"], maya, "P", INSTAGRAM, ig),
            click("p3", f"{D}T11:00:00.000000Z", ids["anas"], ana, "Q", MAC, None),
        ]
    )
    assert await reach.seal_due(store) == 1
    for slug, ua, referer in (
        ("mayas", IG_UA, "https://l.instagram.com/?u=x"),
        ("anas", TIKTOK_UA, "https://www.tiktok.com/@ana"),
        ("anas", "Twitterbot/1.0", "https://t.co/abc"),
    ):
        r = await c.get(f"/{slug}", headers={"user-agent": ua, "referer": referer})
        assert r.status_code == 302
    await live.flush()
    return ids


async def _get(live: Running, auth: dict[str, str], query: str) -> dict[str, Any]:
    r = await live.client.get(f"/api/v1/reports/breakdown?{query}", headers=auth)
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()
    return data


def _table(data: dict[str, Any]) -> dict[Any, tuple[int, ...]]:
    return {r["key"]: tuple(r[f] for f in FIGURES) for r in data["rows"]}


async def test_breakdown_report(live: Running, auth: dict[str, str]) -> None:
    ids = await _seed(live, auth)
    today = datetime.now(UTC).date()
    span = f"start={D}&end={today.isoformat()}"

    device = await _get(live, auth, f"by=device&{span}")
    assert _table(device) == {
        "mobile": (4, 4, 3, 3), "desktop": (1, 1, 1, 1), "bot": (1, 0, 0, 0)
    }  # fmt: skip
    assert [r["key"] for r in device["rows"]] == ["mobile", "desktop", "bot"]  # by human clicks
    assert device["totals"] == {
        "clicks": 6, "human_clicks": 5, "unique_clicks": 4, "unique_visitors": 4,
        "human_share_pct": 100.0,
    }  # fmt: skip
    assert device["rows"][0]["human_share_pct"] == 80.0
    assert (device["by"], device["start"], device["creator_id"]) == ("device", D, None)

    browser = await _get(live, auth, f"by=browser&{span}")
    assert _table(browser) == {
        "Instagram": (3, 3, 2, 2), "TikTok": (1, 1, 1, 1), "Chrome": (1, 1, 1, 1),
        "Twitterbot": (1, 0, 0, 0),
    }  # fmt: skip
    referrer = await _get(live, auth, f"by=referrer&{span}")
    assert _table(referrer) == {
        "l.instagram.com": (3, 3, 2, 2), "www.tiktok.com": (1, 1, 1, 1), None: (1, 1, 1, 1),
        "t.co": (1, 0, 0, 0),
    }  # fmt: skip
    assert next(r["label"] for r in referrer["rows"] if r["key"] is None) == "(none)"

    # Whose clicks: a creator (by handle), a campaign (by name), a link; one day alone.
    ana = await _get(live, auth, f"by=os&{span}&creator_id=ana")
    assert ana["creator_id"] == ids["ana"]
    assert _table(ana) == {"Android": (1, 1, 1, 1), "Mac OS X": (1, 1, 1, 1), "Other": (1, 0, 0, 0)}
    spring = await _get(live, auth, f"by=os&{span}&campaign_id=spring")
    assert _table(spring) == {"iOS": (3, 3, 2, 2)}
    link = await _get(live, auth, f"by=device&{span}&link_id={ids['anas']}")
    assert _table(link) == {"mobile": (1, 1, 1, 1), "desktop": (1, 1, 1, 1), "bot": (1, 0, 0, 0)}
    sealed = await _get(live, auth, f"by=device&start={D}&end={D}")
    assert _table(sealed) == {"mobile": (2, 2, 1, 1), "desktop": (1, 1, 1, 1)}
    empty = await _get(live, auth, f"by=device&start={(today - timedelta(days=400)).isoformat()}&end={(today - timedelta(days=399)).isoformat()}")  # fmt: skip
    assert empty["rows"] == [] and empty["totals"]["human_share_pct"] is None

    # The CSV: the rows and totals of the JSON.
    r = await live.client.get(f"/api/v1/reports/breakdown.csv?by=referrer&{span}", headers=auth)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert f"breakdown-referrer-{D}-" in r.headers["content-disposition"]
    lines = list(csv.DictReader(io.StringIO(r.text)))
    assert [x["label"] for x in lines] == [x["label"] for x in referrer["rows"]] + ["Total"]
    assert [int(x["clicks"]) for x in lines] == [3, 1, 1, 1, 6]
    assert {x["by"] for x in lines} == {"referrer"} and lines[2]["key"] == ""


@pytest.mark.parametrize(
    ("query", "status", "says"),
    [
        ("", 400, "by: one of device, os, browser, referrer"),
        ("by=country", 400, "by: one of"),
        ("by=device&start=2026-13-01", 400, "start: expected a date"),
        ("by=device&start=2026-02-01&end=2026-01-01", 400, "start must be on or before end"),
        ("by=device&end=9999-12-31", 400, "end: must be"),
        ("by=device&link_id=%27%3B--", 400, "link_id: a link id"),
        ("by=device&country=DE", 400, "no country or variant filter"),
        ("by=os&variant=none", 400, "no country or variant filter"),
        ("by=device&creator_id=nobody", 404, "no such creator"),
        ("by=device&campaign_id=%E2%80%AE" + "x" * 300, 404, "no such campaign"),
        ("by=referrer&creator_id=%00", 400, "NUL byte"),
    ],
)
async def test_hostile_parameters(
    live: Running, auth: dict[str, str], query: str, status: int, says: str
) -> None:
    for path in ("breakdown", "breakdown.csv"):
        r = await live.client.get(f"/api/v1/reports/{path}?{query}", headers=auth)
        assert r.status_code == status, r.text
        assert says in r.json()["detail"]


async def test_breakdown_needs_a_token(live: Running) -> None:
    r = await live.client.get("/api/v1/reports/breakdown?by=device")
    assert r.status_code == 401


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_cli_breakdown(tmp_path: Path, database_url: str) -> None:
    """``tracker insights breakdown``: the API's JSON (or CSV) of the same breakdown."""
    env = server_env(tmp_path, database_url)
    assert run_cli(env, "demo", "--creators", "4", "--orders", "10").returncode == 0
    handle = run_cli(env, "creator", "list").stdout.splitlines()[1].split()[1]
    out = run_cli(env, "insights", "breakdown", "--by", "browser", "--creator", handle)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["by"] == "browser" and report["creator_id"].startswith("cr_")
    assert sum(r["clicks"] for r in report["rows"]) == report["totals"]["clicks"] > 0
    table = run_cli(env, "insights", "breakdown", "--by", "os", "--csv")
    lines = list(csv.reader(io.StringIO(table.stdout)))
    assert lines[0] == ["by", "key", "label", *FIGURES, "human_share_pct"]
    assert lines[-1][2] == "Total"
    bad = run_cli(env, "insights", "breakdown", "--creator", "nobody")
    assert bad.returncode == 1 and "no such creator 'nobody'" in bad.stderr
