"""What a new brand manager meets in the panel on the first day, over HTTP (both engines):
import errors in plain words, commission rates entered as costs shown as the rules they
are, codes and money in their currency's digits, and a blank CPA without a cost.

Each test is a problem met by following the README from a fresh clone (no regex, no
pydantic wording, no "no rule" while an order earns, no 15.00 for 1500 JPY)."""

from __future__ import annotations

import csv
import html
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.admin.test_admin import logged_in
from tests.admin.test_admin_pages2 import shopify_order_for, two_creators
from tests.admin.test_creator_pages import make_page
from tests.conftest import Running, make_settings, running
from tests.postback_helpers import dumps, generic_headers
from tracker.commissions import ledger

pytestmark = pytest.mark.anyio


async def test_creator_import_errors_say_what_to_type(live: Running) -> None:
    token = await logged_in(live)
    text = (
        "handle,platform,followers,status\n"
        "lena k,instagram,8500,active\n"
        "ben,instagram,15k,active\n"
        "zoe,insta,-5,paused\n"
    )
    r = await live.client.post(
        "/admin/import", data={"csrf": token, "action": "preview", "text": text}
    )
    assert r.status_code == 422
    page = r.text.replace("&#39;", "'")
    assert "handle: expected letters, digits, '.', '_' or '-'" in page and "'lena k'" in page
    assert "followers: expected a whole number such as 15000" in page and "'15k'" in page
    assert "platform: one of 'instagram'" in page and "got 'insta'" in page
    assert "followers: at least 0" in page and "status: one of 'active' or 'disabled'" in page
    for internal in ("Input should", "String should", "^@?", "{1,64}"):
        assert internal not in page, internal
    assert (await live.store.panel_totals())["creators"] == 0  # nothing written


async def test_a_commission_rate_entered_as_a_cost_is_listed_with_the_rules(
    live: Running,
) -> None:
    token = await logged_in(live)
    maya, _ = await two_creators(live)
    page = await live.client.get("/admin/commissions")
    assert "no order earns a commission until one applies" in page.text  # truly none yet
    assert 'id="cost-rules-table"' not in page.text
    r = await live.client.post(
        "/admin/costs",
        data={
            "csrf": token,
            "creator": "maya",
            "kind": "commission",
            "rate_percent": "10",
            "date": "2020-01-01",
        },
    )
    assert r.status_code == 303, r.text
    await shopify_order_for(live, maya)  # 199.65 USD through her code: 19.97 pending
    await ledger.backfill(live.store)
    page = await live.client.get("/admin/commissions")
    assert ">19.97<" in page.text  # the statement: she earns on the cost's rate
    assert "no order earns a commission until one applies" not in page.text
    assert "the commission rates entered as costs (below) apply" in page.text
    table = page.text[page.text.index('id="cost-rules-table"') :]
    table = table[: table.index("</table>")]
    assert "@maya" in table and "2020-01-01 → open" in table
    assert "10% of each credited order's net revenue" in html.unescape(table)
    # The creator's page and the costs list say the same: what the ledger pays (10 % of the
    # order's net after its refund, 199.65 of 598.94: 19.97), not "of attributed revenue"
    # (the ledger does not follow the attribution model).
    for path in (f"/admin/creators/{maya['id']}", "/admin/costs"):
        text = html.unescape((await live.client.get(path)).text)
        assert "10% of each credited order's net revenue" in text, path
        assert "of attributed revenue" not in text, path


async def test_codes_file_holds_a_fixed_value_as_the_panel_shows_it(
    live: Running, auth: dict[str, str]
) -> None:
    token = await logged_in(live)
    await two_creators(live)
    for code, kind, value, currency in (
        ("TENOFF", "fixed", "10.00", "USD"),
        ("MAYA15", "percent", "15", ""),
    ):
        r = await live.client.post(
            "/admin/codes",
            data={"csrf": token, "code": code, "creator_id": "maya", "value_type": kind,
                  "value": value, "currency": currency},
        )  # fmt: skip
        assert r.status_code == 303, r.text
    r = await live.client.post(
        "/admin/codes",
        data={"csrf": token, "code": "YEN", "creator_id": "liam", "value_type": "fixed",
              "value": "1500", "currency": "JPY"},
    )  # fmt: skip
    assert r.status_code == 303, r.text
    page = await live.client.get("/admin/codes")
    assert "10.00 USD" in page.text and "1500 JPY" in page.text and "15 %" in page.text
    for url, headers in (("/admin/codes.csv", {}), ("/api/v1/codes.csv", auth)):
        rows = {
            row["code"]: (row["value"], row["currency"])
            for row in csv.DictReader(
                io.StringIO((await live.client.get(url, headers=headers)).text)
            )
        }
        assert rows == {"TENOFF": ("10.00", "USD"), "MAYA15": ("15", ""), "YEN": ("1500", "JPY")}
    # the JSON keeps minor units, as every *_minor field and the CLI's JSON
    got = (await live.client.get("/api/v1/codes/TENOFF", headers=auth)).json()
    assert (got["value"], got["currency"]) == (1000, "USD")


async def test_no_cost_means_no_cpa_in_the_panel_the_api_and_both_csvs(
    live: Running, auth: dict[str, str]
) -> None:
    await logged_in(live)
    maya, _ = await two_creators(live)
    await shopify_order_for(live, maya)  # one counted order, no cost recorded
    api = (await live.client.get("/api/v1/reports/creator", headers=auth)).json()
    row = next(r for r in api["rows"] if r["label"] == "maya")
    assert row["orders"] == 1 and row["cost_minor"] == 0
    assert (row["cpa_minor"], row["roas"], row["roi_pct"]) == (None, None, None)
    assert api["totals"]["cpa_minor"] is None
    link = (await live.client.get("/api/v1/reports/link", headers=auth)).json()
    assert link["totals"]["cpa_minor"] is None  # links carry no cost: never a CPA of 0.00
    api_csv = (await live.client.get("/api/v1/reports/creator.csv", headers=auth)).text
    maya_csv = next(r for r in csv.DictReader(io.StringIO(api_csv)) if r["label"] == "maya")
    assert maya_csv["cpa_minor"] == ""
    panel_csv = (await live.client.get("/admin/reports", params={"format": "csv"})).text
    panel_row = next(r for r in csv.DictReader(io.StringIO(panel_csv)) if r["Creator"] == "maya")
    assert panel_row["CPA (USD)"] == "—" and panel_row["Revenue (USD)"] == "199.65"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_yen_reports_read_in_yen_on_the_roi_page_and_the_creators_page(
    tmp_path: Path, database_url: str
) -> None:
    settings = make_settings(tmp_path, database_url, TRACKER_REPORTING_CURRENCY="JPY")
    async with running(settings) as live:
        token = await logged_in(live)
        maya, _ = await two_creators(live)
        auth = await live.token()
        shop = await live.client.post(
            "/api/v1/shops", headers=auth, json={"slug": "jp", "platform": "generic"}
        )
        secret = shop.json()["secret"]
        await live.store.create_codes([{"code": "MAYAJP", "creator_id": maya["id"]}])
        now = datetime.now(UTC).isoformat()
        for oid, codes in (("J1", ["MAYAJP"]), ("J2", [])):  # credited; unattributed
            body = dumps({"order_id": oid, "created_at": now, "currency": "JPY",
                          "total_minor": 1500, "discount_codes": codes})  # fmt: skip
            r = await live.client.post(
                "/postbacks/generic/jp", content=body, headers=generic_headers(body, secret, oid)
            )
            assert r.status_code == 200, r.text
        roi = await live.client.get("/admin/reports")
        assert "Unattributed: 1 order (1,500 JPY)" in roi.text  # one order, singular
        url = await make_page(live, token, maya["id"])
        live.client.cookies.clear()
        own = (await live.client.get(url)).text
        assert 'id="kpi-revenue">1,500<' in own
        assert "1,500 JPY" in own and "15.00" not in own


async def test_the_panel_link_forms_set_the_content_type_and_utm_term(live: Running) -> None:
    """The ROI report has a content-type dimension, but a link made in the panel could not
    have one: every panel link landed in "(none)"."""
    token = await logged_in(live)
    maya, _ = await two_creators(live)
    for path in ("/admin/links", f"/admin/creators/{maya['id']}"):
        page = (await live.client.get(path)).text
        assert 'name="content_type"' in page and 'id="content-types"' in page
    assert 'name="utm_term"' in (await live.client.get("/admin/links")).text
    r = await live.client.post(
        "/admin/links",
        data={"csrf": token, "creator_id": "@maya", "slug": "maya-reel",
              "destination": "https://shop.example.com/serum", "content_type": "reel",
              "utm_term": "serum"},
    )  # fmt: skip
    assert r.status_code == 303, r.text
    link = await live.store.get_link("maya-reel")
    assert (link["content_type"], link["utm_term"]) == ("reel", "serum")
    r = await live.client.get("/maya-reel", headers={"user-agent": "Mozilla/5.0 (iPhone)"})
    assert "utm_term=serum" in r.headers["location"]
