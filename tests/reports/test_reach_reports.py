"""Country and targeting rule / variant as report dimensions and filters (issue 17), against a
hand-computed case, through signed postbacks, on both engines.

The case (money in USD cents; maya's link chooses by language, then by country):

| click | visitor                          | rule     | country | order                 |
|-------|----------------------------------|----------|---------|-----------------------|
| c1    | iPhone, fr, CDN says FR          | fr       | FR      | O1 100.00 by click id |
| c2    | iPhone, fr, CDN says FR          | fr       | FR      |                       |
| c3    | iPhone, CDN says DE              | de       | DE      | O2 50.00 by click id  |
| c4    | Twitterbot, CDN says DE          | de       | DE      | (a bot)               |
| c5    | iPhone, no header, TEST-NET addr | (none)   | (none)  |                       |
| -     | -                                | -        | -       | O3 20.00 by code only |

So per rule: fr 2 clicks, 2 human, 1 order, 10000, conversion 1/2 = 50%; de 2 clicks,
1 human, 1 order, 5000, conversion 100%; (none) 1 click, 1 order (code only, no click),
2000, conversion 0%. Per country the same numbers under FR, DE and (none). Total 17000.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.conftest import Running, make_settings, running
from tests.postback_helpers import post_generic_order

pytestmark = pytest.mark.anyio
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)
SHOP = "https://shop.example.com"


async def _click(live: Running, headers: dict[str, str]) -> str:
    r = await live.client.get("/serum", headers={"user-agent": IPHONE, **headers})
    assert r.status_code == 302
    return parse_qs(urlsplit(r.headers["location"]).query)["cl_cid"][0]


async def _order(live: Running, secret: str, oid: str, total: int, **extra: object) -> None:
    await post_generic_order(live.client, secret, oid, total, **extra)


async def _report(live: Running, auth: dict[str, str], path: str) -> dict[str, Any]:
    r = await live.client.get(f"/api/v1/reports/{path}", headers=auth)
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()
    return {str(row["key"]): row for row in data["rows"]} | {"_totals": data["totals"]}


async def test_country_and_variant_reports(tmp_path: Path, database_url: str) -> None:
    settings = make_settings(tmp_path, database_url, TRACKER_TRUSTED_PROXIES="203.0.113.0/24")
    async with running(settings) as live:  # the test client's address: a CDN in front
        auth = await live.token()
        c = live.client
        await c.post("/api/v1/creators", headers=auth, json={"handle": "maya"})
        await c.post("/api/v1/codes", headers=auth, json={"code": "MAYA15", "creator_id": "maya"})
        secret = (
            await c.post("/api/v1/shops", headers=auth, json={"slug": "gen", "platform": "generic"})
        ).json()["secret"]
        rules = [
            {"name": "fr", "when": {"language": ["fr"]}, "destination": f"{SHOP}/fr"},
            {"name": "de", "when": {"country": ["DE"]}, "destination": f"{SHOP}/de"},
        ]
        r = await c.post(
            "/api/v1/links",
            headers=auth,
            json={
                "destination": f"{SHOP}/p",
                "slug": "serum",
                "creator_id": "maya",
                "targeting": {"rules": rules},
            },
        )
        assert r.status_code == 201, r.text
        fr = {"accept-language": "fr-FR,fr;q=0.9", "cf-ipcountry": "FR"}
        c1 = await _click(live, fr)
        await _click(live, fr)
        c3 = await _click(live, {"cf-ipcountry": "DE"})
        await _click(live, {"cf-ipcountry": "DE", "user-agent": "Twitterbot/1.0"})
        await _click(live, {})
        await live.flush()
        await _order(live, secret, "O1", 10000, click_id=c1)
        await _order(live, secret, "O2", 5000, click_id=c3)
        await _order(live, secret, "O3", 2000, discount_codes=["MAYA15"])

        by_rule = await _report(live, auth, "variant")
        want = {
            "fr": (2, 2, 1, 10000, 50.0),
            "de": (2, 1, 1, 5000, 100.0),
            "None": (1, 1, 1, 2000, 0.0),
        }
        for by, names in ((by_rule, ("fr", "de")), (await _report(live, auth, "country"), None)):
            for key, (clicks, human, orders, revenue, conversion) in want.items():
                if names is None:
                    key = {"fr": "FR", "de": "DE"}.get(key, key)
                row = by[key]
                got = (
                    row["clicks"],
                    row["human_clicks"],
                    row["orders"],
                    row["revenue_minor"],
                    row["conversion_rate"],
                )
                assert got == (clicks, human, orders, revenue, conversion), (key, row)
                assert row["cost_minor"] is None  # a country has no cost of its own
            assert by["_totals"]["revenue_minor"] == 17000
            assert sum(r["revenue_minor"] for k, r in by.items() if k != "_totals") == 17000

        # filters on any report: maya's numbers from France only, then from no rule
        maya = await _report(live, auth, "creator?country=fr")
        (row,) = [r for k, r in maya.items() if k != "_totals"]
        assert (row["clicks"], row["orders"], row["revenue_minor"]) == (2, 1, 10000)
        none = await _report(live, auth, "link?variant=none")  # the code has no link
        link = next(k for k in none if k not in ("None", "_totals"))
        assert (none[link]["clicks"], none[link]["orders"]) == (1, 0)
        assert (none["None"]["clicks"], none["None"]["revenue_minor"]) == (0, 2000)
        # one link's split: another link's "fr" click drops out under link_id
        r = await c.post(
            "/api/v1/links",
            headers=auth,
            json={"destination": f"{SHOP}/q", "slug": "other", "targeting": {"rules": rules}},
        )
        other = await c.get("/other", headers={"user-agent": IPHONE, **fr})
        assert other.headers["location"].startswith(f"{SHOP}/fr?")
        await live.flush()
        assert (await _report(live, auth, "variant"))["fr"]["clicks"] == 3
        serum = (await c.get("/api/v1/links/serum", headers=auth)).json()["id"]
        one = await _report(live, auth, f"variant?link_id={serum}")
        assert (one["fr"]["clicks"], one["fr"]["revenue_minor"]) == (2, 10000)
        assert (await c.get("/api/v1/reports/variant?link_id=x", headers=auth)).status_code == 400
        series = await c.get("/api/v1/reports/daily?country=DE", headers=auth)
        assert sum(d["revenue_minor"] for d in series.json()["days"]) == 5000
        for bad in ("country=USA", "country=1", "variant=%3Cscript%3E"):
            r = await c.get(f"/api/v1/reports/creator?{bad}", headers=auth)
            assert r.status_code == 400, (bad, r.text)
