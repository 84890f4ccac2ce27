"""Discount codes and shops through the API and the CLI."""

from __future__ import annotations

import csv
import io

import pytest

from tests.conftest import Running

pytestmark = pytest.mark.anyio


async def creators(live: Running, auth: dict[str, str], *handles: str) -> None:
    for h in handles:
        r = await live.client.post("/api/v1/creators", headers=auth, json={"handle": h})
        assert r.status_code == 201


async def test_custom_codes_are_unique_case_insensitively(
    live: Running, auth: dict[str, str]
) -> None:
    await creators(live, auth, "maya", "bob")
    c = live.client
    r = await c.post(
        "/api/v1/codes",
        headers=auth,
        json={"code": "MAYA15", "creator_id": "maya", "value_type": "percent", "value": 15},
    )
    assert r.status_code == 201 and r.json()["code"] == "MAYA15"
    r = await c.post("/api/v1/codes", headers=auth, json={"code": "maya15", "creator_id": "bob"})
    assert r.status_code == 409
    r = await c.post("/api/v1/codes", headers=auth, json={"code": "X1", "creator_id": "ghost"})
    assert r.status_code == 422
    r = await c.post(
        "/api/v1/codes", headers=auth, json={"code": "bad code!", "creator_id": "maya"}
    )
    assert r.status_code == 422
    assert (await c.delete("/api/v1/codes/maya15", headers=auth)).json()["status"] == "disabled"
    r = await c.patch("/api/v1/codes/MAYA15", headers=auth, json={"status": "active"})
    assert r.json()["status"] == "active"


async def test_bulk_generation_and_csv_export(live: Running, auth: dict[str, str]) -> None:
    await creators(live, auth, "maya", "bob.k", "cleo")
    c = live.client
    await c.post("/api/v1/campaigns", headers=auth, json={"name": "Spring"})
    await c.post("/api/v1/codes", headers=auth, json={"code": "MAYA20", "creator_id": "maya"})
    r = await c.post(
        "/api/v1/codes/bulk",
        headers=auth,
        json={"number": 20, "campaign_id": "spring", "value_type": "percent", "value": 20},
    )
    assert r.status_code == 201 and r.json()["created"] == 3
    made = {x["code"] for x in r.json()["items"]}
    assert {"BOBK20", "CLEO20"} <= made
    maya_code = next(x for x in made if x.startswith("MAYA"))
    assert maya_code != "MAYA20" and maya_code.startswith("MAYA-")  # clash -> random suffix
    r = await c.post(
        "/api/v1/codes/bulk",
        headers=auth,
        json={"creators": ["maya"], "pattern": "random", "prefix": "SUMMER", "length": 8},
    )
    code = r.json()["items"][0]["code"]
    assert code.startswith("SUMMER-") and len(code) == len("SUMMER-") + 8
    # all-or-nothing: an unknown creator in the list creates nothing
    before = len((await c.get("/api/v1/codes", headers=auth)).json()["items"])
    r = await c.post("/api/v1/codes/bulk", headers=auth, json={"creators": ["cleo", "ghost"]})
    assert r.status_code == 404
    assert len((await c.get("/api/v1/codes", headers=auth)).json()["items"]) == before
    r = await c.get("/api/v1/codes.csv", headers=auth)
    assert r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert {row["code"] for row in rows} >= {"MAYA20", "BOBK20", "CLEO20"}
    bob = next(row for row in rows if row["code"] == "BOBK20")
    assert bob["creator"] == "bob.k" and bob["campaign"] == "Spring" and bob["value"] == "20"


async def test_shop_secrets_are_shown_once(live: Running, auth: dict[str, str]) -> None:
    c = live.client
    r = await c.post("/api/v1/shops", headers=auth, json={"slug": "eu", "platform": "generic"})
    assert r.status_code == 201
    secret = r.json()["secret"]
    assert secret.startswith("whsec_") and r.json()["postback_url"].endswith(
        "/postbacks/generic/eu"
    )
    for url in ("/api/v1/shops", "/api/v1/shops/eu"):
        assert secret not in (await c.get(url, headers=auth)).text
        assert r.json()["pixel_token"] not in (await c.get(url, headers=auth)).text
    r = await c.post(
        "/api/v1/shops",
        headers=auth,
        json={"slug": "eu2", "platform": "generic", "secret": "not-base64-but-long!"},
    )
    assert r.status_code == 422
    r = await c.post(
        "/api/v1/shops", headers=auth, json={"slug": "Bad Slug", "platform": "shopify"}
    )
    assert r.status_code == 422
    r = await c.post("/api/v1/shops", headers=auth, json={"slug": "eu", "platform": "shopify"})
    assert r.status_code == 409


def test_cli_codes_and_shops(server) -> None:  # type: ignore[no-untyped-def]
    server.cli("creator", "create", "--handle", "maya")
    server.cli("code", "create", "--code", "MAYA15", "--creator", "maya")
    server.cli("code", "bulk", "--number", "30")
    out = server.cli("code", "export")
    assert out.splitlines()[0] == "code,creator,campaign,value_type,value,currency,status"
    assert "MAYA15,maya" in out
    shop = server.cli("shop", "create", "--slug", "demo", "--platform", "shopify")
    assert '"secret"' in shop and "/postbacks/shopify/demo" in shop
    assert "secret" not in server.cli("shop", "list")


async def test_null_for_a_required_shop_or_code_field_is_422_not_500(
    live: Running, auth: dict[str, str]
) -> None:
    """Found by schemathesis once /shops/{ref} and /codes/{ref} entered the OpenAPI document:
    an explicit null for a NOT NULL column reached the database (500)."""
    c = live.client
    await creators(live, auth, "maya")
    r = await c.post("/api/v1/shops", headers=auth, json={"slug": "s0", "platform": "generic"})
    assert r.status_code == 201
    for body in ({"name": None}, {"currency": None, "secret": "s" * 32}, {"status": None}):
        r = await c.patch("/api/v1/shops/s0", headers=auth, json=body)
        assert r.status_code == 422, (body, r.text)
    assert (await c.get("/api/v1/shops/s0", headers=auth)).json()["currency"] == "USD"
    await c.post("/api/v1/codes", headers=auth, json={"code": "MAYA5", "creator_id": "maya"})
    r = await c.patch("/api/v1/codes/MAYA5", headers=auth, json={"status": None})
    assert r.status_code == 422
    r = await c.patch("/api/v1/codes/MAYA5", headers=auth, json={"currency": None})
    assert r.status_code == 200


async def test_a_code_value_with_a_decimal_point_is_refused_not_read_as_cents(
    live: Running, auth: dict[str, str]
) -> None:
    """A new user posted {"value": "10.00"} for a 10 USD code: it was stored as 10 minor
    units (0.10 USD) without a word. A decimal point is now a 422 that says the unit."""
    await creators(live, auth, "omar")
    for value in ("10.00", 10.0, "12.5"):
        r = await live.client.post(
            "/api/v1/codes",
            headers=auth,
            json={"code": "OMAR10", "creator_id": "omar", "value_type": "fixed",
                  "value": value, "currency": "USD"},
        )  # fmt: skip
        assert r.status_code == 422, (value, r.text)
        assert "1000 for 10.00 USD" in r.json()["detail"]
    assert (await live.client.get("/api/v1/codes", headers=auth)).json()["items"] == []
    r = await live.client.post(
        "/api/v1/codes",
        headers=auth,
        json={"code": "OMAR10", "creator_id": "omar", "value_type": "fixed", "value": 1000,
              "currency": "USD"},
    )  # fmt: skip
    assert r.status_code == 201 and r.json()["value"] == 1000
    r = await live.client.patch("/api/v1/codes/OMAR10", headers=auth, json={"value": "10.00"})
    assert r.status_code == 422
    r = await live.client.get("/api/v1/codes.csv", headers=auth)
    row = next(csv.DictReader(io.StringIO(r.text)))
    assert (row["value"], row["currency"]) == ("10.00", "USD")  # people read major units


async def test_a_percent_past_100_and_a_campaign_ending_before_it_starts_are_422(
    live: Running, auth: dict[str, str]
) -> None:
    """Both were stored (found by the hostile pass): a code 150% off, a campaign whose last
    day comes before its first. Each is a 422 naming its field, and nothing is written."""
    await creators(live, auth, "maya")
    c = live.client
    for body in (
        {"code": "HALF150", "creator_id": "maya", "value_type": "percent", "value": 150},
        {"creators": ["maya"], "value_type": "percent", "value": 101},
    ):
        url = "/api/v1/codes" + ("/bulk" if "creators" in body else "")
        r = await c.post(url, headers=auth, json=body)
        assert r.status_code == 422 and r.json()["detail"].startswith("value:"), r.text
    r = await c.post(
        "/api/v1/codes",
        headers=auth,
        json={"code": "FULL100", "creator_id": "maya", "value_type": "percent", "value": 100},
    )
    assert r.status_code == 201
    r = await c.patch(
        "/api/v1/codes/FULL100", headers=auth, json={"value_type": "percent", "value": 120}
    )
    assert r.status_code == 422
    codes = (await c.get("/api/v1/codes", headers=auth)).json()["items"]
    assert [(x["code"], x["value"]) for x in codes] == [("FULL100", 100)]
    r = await c.post(
        "/api/v1/campaigns",
        headers=auth,
        json={"name": "Spring", "starts_on": "2026-05-02", "ends_on": "2026-05-01"},
    )
    assert r.status_code == 422 and r.json()["detail"].startswith("ends_on:"), r.text
    assert (await c.get("/api/v1/campaigns", headers=auth)).json()["items"] == []
    r = await c.post(
        "/api/v1/campaigns",
        headers=auth,
        json={"name": "Spring", "starts_on": "2026-05-02", "ends_on": "2026-05-02"},
    )
    assert r.status_code == 201


async def test_an_empty_campaign_or_creator_reference_is_no_reference_not_a_500(
    live: Running, auth: dict[str, str]
) -> None:
    """A form's blank choice ('') names no campaign: stored as none, and a patch with ''
    clears it (it was written as '' and failed the foreign key: a 500)."""
    await creators(live, auth, "maya")
    c = live.client
    await c.post("/api/v1/campaigns", headers=auth, json={"name": "Spring"})
    r = await c.post(
        "/api/v1/codes",
        headers=auth,
        json={"code": "Y0", "creator_id": "maya", "campaign_id": "", "value": 0},
    )
    assert r.status_code == 201, r.text
    assert r.json()["campaign_id"] is None
    r = await c.patch("/api/v1/codes/Y0", headers=auth, json={"campaign_id": "spring"})
    assert r.status_code == 200 and r.json()["campaign_id"]
    r = await c.patch("/api/v1/codes/Y0", headers=auth, json={"campaign_id": ""})
    assert r.status_code == 200 and r.json()["campaign_id"] is None
    r = await c.post(
        "/api/v1/links",
        headers=auth,
        json={"destination": "https://shop.example.com/", "creator_id": "", "campaign_id": ""},
    )
    assert r.status_code == 201, r.text
    assert r.json()["creator_id"] is None and r.json()["campaign_id"] is None
    slug = r.json()["slug"]
    r = await c.patch(f"/api/v1/links/{slug}", headers=auth, json={"campaign_id": "spring"})
    assert r.status_code == 200 and r.json()["campaign_id"]
    r = await c.patch(f"/api/v1/links/{slug}", headers=auth, json={"campaign_id": ""})
    assert r.status_code == 200 and r.json()["campaign_id"] is None


async def test_a_natural_key_shaped_like_a_record_id_is_refused(
    live: Running, auth: dict[str, str]
) -> None:
    """Records are addressed by id or natural key (``WHERE id = ? OR handle_key = ?``): a
    handle, campaign name, slug or code made of another record's id answered to both, so
    ``GET /creators/cr_...`` (and an update or a code's creator) reached either record
    (hostile pass, third). A natural key shaped like an id (``xx_`` and 22 letters or
    digits, any case) is a 422, on create and on update, and nothing is stored."""
    c = live.client
    bob = (await c.post("/api/v1/creators", headers=auth, json={"handle": "bob"})).json()
    camp = (await c.post("/api/v1/campaigns", headers=auth, json={"name": "spring"})).json()
    link = await c.post(
        "/api/v1/links",
        headers=auth,
        json={"destination": "https://shop.example.com/", "slug": "bob"},
    )
    code = await c.post("/api/v1/codes", headers=auth, json={"code": "BOB15", "creator_id": "bob"})
    assert link.status_code == 201 and code.status_code == 201, (link.text, code.text)
    ln, dc = link.json()["id"], code.json()["id"]
    before = {
        path: (await c.get(path, headers=auth)).json()
        for path in ("/api/v1/creators", "/api/v1/campaigns", "/api/v1/links", "/api/v1/codes")
    }
    attempts = [
        ("post", "/api/v1/creators", {"handle": bob["id"]}, "handle"),
        ("post", "/api/v1/creators", {"handle": "@" + bob["id"].upper()}, "handle"),
        ("patch", "/api/v1/creators/bob", {"handle": bob["id"].lower()}, "handle"),
        ("post", "/api/v1/campaigns", {"name": camp["id"]}, "name"),
        ("patch", "/api/v1/campaigns/spring", {"name": camp["id"].upper()}, "name"),
        ("post", "/api/v1/links", {"destination": "https://shop.example.com/", "slug": ln}, "slug"),
        ("patch", "/api/v1/links/bob", {"slug": ln}, "slug"),
        ("post", "/api/v1/codes", {"code": dc, "creator_id": "bob"}, "code"),
        ("post", "/api/v1/codes", {"code": dc.upper(), "creator_id": "bob"}, "code"),
    ]
    for method, path, body, field in attempts:
        r = await c.request(method, path, headers=auth, json=body)
        assert r.status_code == 422, (path, body, r.text)
        assert r.json()["errors"][0]["field"] == field, r.text
    for path, items in before.items():
        assert (await c.get(path, headers=auth)).json() == items, path
    assert (await c.get(f"/api/v1/creators/{bob['id']}", headers=auth)).json()["handle"] == "bob"
    # an id-like text that is not an id's shape stays a fine natural key
    r = await c.post("/api/v1/creators", headers=auth, json={"handle": "cr_maya"})
    assert r.status_code == 201, r.text
