"""A campaign's page and its edit form over HTTP (SQLite and PostgreSQL): the budget typed in
major units of the campaign's currency, an emptied date or budget cleared, the panel
refusing what the API refuses (``CampaignPatch`` and the one money rule) with nothing
changed; viewers and posts without CSRF refused."""

from __future__ import annotations

import pytest

from tests.admin.test_admin import csrf_of, logged_in
from tests.conftest import Running

pytestmark = pytest.mark.anyio

FORM = {
    "name": "Spring 2027",
    "starts_on": "2027-03-01",
    "ends_on": "2027-05-31",
    "budget": "1,500.50",
    "currency": "USD",
    "status": "active",
}


async def _campaign(live: Running) -> dict[str, object]:
    row: dict[str, object] = await live.store.create_campaign(
        {"name": "Spring", "name_key": "spring", "budget_minor": 100_000, "currency": "USD"}
    )
    return row


async def test_an_edit_is_saved_and_an_emptied_budget_or_date_clears(live: Running) -> None:
    token = await logged_in(live)
    c = await _campaign(live)
    listing = await live.client.get("/admin/campaigns")
    assert f'/campaigns/{c["id"]}"' in listing.text  # the name links to the page
    page = await live.client.get(f"/admin/campaigns/{c['id']}")
    assert page.status_code == 200 and 'id="edit-campaign"' in page.text
    assert 'value="1,000.00"' in page.text  # the stored budget shown as typed
    r = await live.client.post(f"/admin/campaigns/{c['id']}", data={**FORM, "csrf": token})
    assert r.status_code == 303, r.text
    row = await live.store.get_campaign(str(c["id"]))
    assert (row["name"], row["starts_on"], row["ends_on"]) == (
        "Spring 2027",
        "2027-03-01",
        "2027-05-31",
    )
    assert row["budget_minor"] == 150_050
    form = {**FORM, "budget": "150000", "currency": "JPY", "starts_on": "", "ends_on": ""}
    r = await live.client.post(f"/admin/campaigns/{c['id']}", data={**form, "csrf": token})
    assert r.status_code == 303, r.text
    row = await live.store.get_campaign(str(c["id"]))
    assert (row["budget_minor"], row["currency"]) == (150_000, "JPY")  # JPY has no minor unit
    assert row["starts_on"] is None and row["ends_on"] is None
    r = await live.client.post(
        f"/admin/campaigns/{c['id']}", data={**form, "budget": "", "csrf": token}
    )
    assert r.status_code == 303
    assert (await live.store.get_campaign(str(c["id"])))["budget_minor"] is None


async def test_the_panel_refuses_what_the_api_refuses_and_changes_nothing(live: Running) -> None:
    token = await logged_in(live)
    c = await _campaign(live)
    await live.store.create_campaign({"name": "Taken", "name_key": "taken"})
    before = await live.store.get_campaign(str(c["id"]))
    bad = [
        ({"name": ""}, "name"),
        ({"ends_on": "2027-01-01"}, "ends_on"),  # before it starts
        ({"budget": "12.345"}, "budget"),  # more decimals than USD has
        ({"budget": "-5"}, "budget"),
        ({"currency": "dollars"}, "currency"),
        ({"starts_on": "10000-01-01"}, "starts_on"),
        ({"status": "deleted"}, "status"),
        ({"name": "taken"}, "taken"),
    ]
    for change, words in bad:
        r = await live.client.post(
            f"/admin/campaigns/{c['id']}", data={**FORM, **change, "csrf": token}
        )
        assert r.status_code in (409, 422), (change, r.status_code)
        assert words in r.text.lower(), (change, words)
        assert 'role="alert"' in r.text
        assert await live.store.get_campaign(str(c["id"])) == before, change
    assert (await live.client.get("/admin/campaigns/nope")).status_code == 404


async def test_viewer_and_missing_csrf_are_refused(live: Running) -> None:
    c = await _campaign(live)
    before = await live.store.get_campaign(str(c["id"]))
    await logged_in(live, "viewer")
    page = await live.client.get(f"/admin/campaigns/{c['id']}")
    assert page.status_code == 200 and 'id="edit-campaign"' not in page.text
    url = f"/admin/campaigns/{c['id']}"
    assert (
        await live.client.post(url, data={**FORM, "csrf": csrf_of(page.text)})
    ).status_code == 403
    r = await live.client.post(url, data=FORM)
    assert r.status_code == 403 and "CSRF" in r.text
    assert await live.store.get_campaign(str(c["id"])) == before


async def test_the_page_links_to_its_links_and_codes(live: Running) -> None:
    """From a campaign's page to its links and to its codes (only the links were linked)."""
    await logged_in(live)
    c = await _campaign(live)
    page = await live.client.get(f"/admin/campaigns/{c['id']}")
    assert f'href="/admin/links?campaign={c["id"]}"' in page.text
    assert f'href="/admin/codes?campaign={c["id"]}"' in page.text
    codes = await live.client.get(f"/admin/codes?campaign={c['id']}")
    assert codes.status_code == 200


async def test_a_currency_typed_in_lower_case_is_read_as_its_code(live: Running) -> None:
    """Every panel form reads a typed currency as the codes, costs and commission forms did
    ("eur" is EUR); the campaign and shop forms answered "String should match pattern
    '^[A-Z]{3}$'". A code that is not ISO 4217 is still refused, in words."""
    token = await logged_in(live)
    c = await _campaign(live)
    r = await live.client.post(
        f"/admin/campaigns/{c['id']}", data={**FORM, "currency": " eur ", "csrf": token}
    )
    assert r.status_code == 303, r.text
    assert (await live.store.get_campaign(str(c["id"])))["currency"] == "EUR"
    r = await live.client.post(
        "/admin/campaigns", data={"name": "Autumn", "currency": "jpy", "csrf": token}
    )
    assert r.status_code == 303, r.text
    assert (await live.store.get_campaign("autumn"))["currency"] == "JPY"
    r = await live.client.post(
        "/admin/shops",
        data={"slug": "eu", "name": "EU", "platform": "shopify", "currency": "eur", "csrf": token},
    )
    assert r.status_code == 201 and (await live.store.get_shop("eu"))["currency"] == "EUR"
    r = await live.client.post(
        "/admin/campaigns", data={"name": "Z", "currency": "zzz", "csrf": token}
    )
    assert r.status_code == 422 and "not an ISO 4217 currency" in r.text
    page = await live.client.get(f"/admin/campaigns/{c['id']}")
    assert 'pattern="[A-Z]{3}"' not in page.text  # the browser lets it through to be read


async def test_a_refusal_reads_as_words(live: Running) -> None:
    """The reason shown is the rule's sentence, without pydantic's "Value error, " before it
    ("ends_on: Value error, the campaign ends before it starts"), each reason once."""
    token = await logged_in(live)
    c = await _campaign(live)
    r = await live.client.post(
        f"/admin/campaigns/{c['id']}",
        data={**FORM, "ends_on": "2027-01-01", "currency": "ZZZ", "csrf": token},
    )
    assert r.status_code == 422
    assert "ends_on: the campaign ends before it starts" in r.text
    assert "currency: &#39;ZZZ&#39; is not an ISO 4217 currency" in r.text
    assert "Value error" not in r.text
    assert r.text.count("ends before it starts") == 1  # not the headline and the list again
