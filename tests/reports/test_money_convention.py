"""One money convention for people (issue 16): major units with a currency in the CLI, the
panel and CSV files; minor units only in storage and `*_minor` JSON; errors name the column
as the file names it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.admin.test_admin import logged_in
from tests.conftest import Running, run_cli, server_env
from tracker.reports import costs

pytestmark = pytest.mark.anyio


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_cli_takes_and_prints_major_units(tmp_path: Path, database_url: str) -> None:
    env = server_env(tmp_path, database_url)
    assert run_cli(env, "demo", "--creators", "12", "--orders", "40").returncode == 0
    handle = run_cli(env, "creator", "list", "--limit", "1").stdout.splitlines()[1].split()[1]

    out = run_cli(env, "cost", "add", "--creator", handle, "--kind", "fee", "--amount", "12.50",
               "--currency", "EUR", "--date", "2026-03-01")  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert '"amount_minor": 1250' in out.stdout and '"amount": "12.50"' in out.stdout
    out = run_cli(env, "cost", "add", "--creator", handle, "--kind", "fee", "--amount", "1500",
               "--currency", "JPY", "--date", "2026-03-01")  # fmt: skip
    assert '"amount_minor": 1500' in out.stdout  # JPY has no minor unit
    out = run_cli(env, "cost", "add", "--creator", handle, "--kind", "fee", "--amount", "5",
               "--date", "03/01/2026")  # fmt: skip
    assert out.returncode == 1
    assert out.stderr.strip() == "error: --date: expected a date as YYYY-MM-DD"

    out = run_cli(env, "code", "create", "--code", "TENOFF", "--creator", handle,
               "--value-type", "fixed", "--value", "10")  # fmt: skip
    assert out.returncode == 1 and "currency: required for a fixed value" in out.stderr
    out = run_cli(env, "code", "create", "--code", "TENOFF", "--creator", handle,
               "--value-type", "fixed", "--value", "10.00", "--currency", "EUR")  # fmt: skip
    assert out.returncode == 0 and '"value": 1000' in out.stdout

    report = run_cli(env, "report", "creator")
    assert report.returncode == 0
    lines = report.stdout.splitlines()
    assert lines[0].endswith("money in USD")
    assert lines[1].split() == ["label", "clicks", "orders", "revenue", "cost", "cpa", "roas",
                                "roi_pct", "band"]  # fmt: skip
    csv_out = run_cli(env, "report", "creator", "--csv").stdout.splitlines()
    header = csv_out[0].split(",")
    first = dict(zip(header, csv_out[1].split(","), strict=False))
    row = next(line for line in lines[2:] if line.split()[0] == first["label"])
    revenue_minor = int(first["revenue_minor"])
    assert f"{revenue_minor // 100}.{revenue_minor % 100:02d}" in row.split()

    helps = run_cli(env, "cost", "import", "--help").stdout
    assert "creator, campaign, kind, amount, currency" in helps
    helps = run_cli(env, "report", "--help").stdout
    assert "content_type" in helps and "time_decay" in helps


async def test_csv_errors_name_the_column_as_the_file_does(live: Running) -> None:
    await live.store.create_creator({"handle": "maya"})
    body = (
        b"creator,kind,amount,currency,date,note\n"
        b"maya,fee,12.50,EURO,2026-03-01,bad currency\n"
        b"maya,fee,12.5x,USD,2026-03-01,bad amount\n"
        b"maya,fee,12.50,USD,01/03/2026,bad date\n"
        b"nobody,fee,1,USD,2026-03-01,unknown creator\n"
        b"maya,tip,1,USD,2026-03-01,bad kind\n"
        b"maya,fee,,USD,2026-03-01,no amount\n"
    )
    result = await costs.import_costs(live.store, body, dry_run=True)
    got = {e["row"]: (e["column"], e["error"]) for e in result["errors"]}
    assert got[1] == ("currency", "expected a 3-letter ISO 4217 code such as USD or EUR")
    assert got[2][0] == "amount" and "12.5x" in got[2][1]
    assert got[3] == ("date", "expected a date as YYYY-MM-DD")
    assert got[4][0] == "creator" and "nobody" in got[4][1]
    assert got[5][0] == "kind" and "fee" in got[5][1] and "Input should" not in got[5][1]
    assert got[6][0] == "amount"
    for column, message in got.values():
        assert column in costs.COST_COLUMNS, column
        assert "^" not in message and "pattern" not in message


async def test_a_rate_or_hours_past_the_hundredth_is_refused_not_rounded(
    live: Running, auth: dict[str, str]
) -> None:
    """12.345% was stored as 12.34% and 0.001 h as no hours at all, without a word: the
    stored cost was not what was typed. Refused now, naming the column; to the hundredth
    the value is kept exactly."""
    await live.store.create_creator({"handle": "maya"})
    body = (
        b"creator,kind,rate_percent,hours,hourly_rate,currency,date\n"
        b"maya,commission,12.345,,,USD,2026-03-01\n"
        b"maya,labor,,0.001,60.00,USD,2026-03-01\n"
    )
    result = await costs.import_costs(live.store, body, dry_run=True)
    got = {e["row"]: e["column"] for e in result["errors"]}
    assert got == {1: "rate_percent", 2: "hours"}, result
    for bad in (
        {"kind": "commission", "rate_percent": 12.345},
        {"kind": "labor", "hours": "0.001", "rate_minor": 6000},
    ):
        r = await live.client.post(
            "/api/v1/costs",
            headers=auth,
            json={"creator_id": "maya", "incurred_on": "2026-03-01", **bad},
        )
        assert r.status_code == 422, (bad, r.text)
    r = await live.client.post(
        "/api/v1/costs",
        headers=auth,
        json={
            "creator_id": "maya",
            "incurred_on": "2026-03-01",
            "kind": "labor",
            "hours": 7.25,
            "rate_minor": 1999,
        },
    )
    assert r.status_code == 201, r.text
    assert r.json()["amount_minor"] == 14493  # 7.25 x 19.99 = 144.9275 -> 144.93
    assert (await live.client.get("/api/v1/costs", headers=auth)).json()["items"][0][
        "hours_centi"
    ] == 725


async def test_panel_cost_form_names_the_column(live: Running) -> None:
    await live.store.create_creator({"handle": "maya"})
    csrf = await logged_in(live)
    r = await live.client.post(
        "/admin/costs",
        data={"csrf": csrf, "creator": "maya", "kind": "fee", "amount": "5", "date": "3/1/26"},
    )
    assert r.status_code == 422
    assert "date: expected a date as YYYY-MM-DD" in r.text and "incurred_on" not in r.text
    r = await live.client.post(
        "/admin/codes",
        data={
            "csrf": csrf,
            "code": "FIVEOFF",
            "creator_id": "maya",
            "value_type": "fixed",
            "value": "5.00",
            "currency": "EUR",
        },
    )
    assert r.status_code == 303
    code = await live.store.get_code("FIVEOFF")
    assert (code["value"], code["currency"]) == (500, "EUR")
    page = await live.client.get("/admin/codes")
    assert "5.00 EUR" in page.text


def test_cli_campaign_budget_is_typed_in_major_units(tmp_path: Path, database_url: str) -> None:
    """``--budget 1500.00`` in the campaign's currency (was ``--budget-minor 150000``, the
    CLI's only money option in minor units); the JSON API keeps ``budget_minor``."""
    env = server_env(tmp_path, database_url)

    def cli(*args: str) -> dict[str, Any]:
        out = run_cli(env, "campaign", *args)
        assert out.returncode == 0, out.stderr
        made: dict[str, Any] = json.loads(out.stdout)
        return made

    spring = cli("create", "--name", "Spring", "--budget", "1500.00")
    assert (spring["budget_minor"], spring["currency"], spring["budget"]) == (
        150000,
        "USD",
        "1500.00",
    )
    tokyo = cli("create", "--name", "Tokyo", "--currency", "JPY", "--budget", "150,000")
    assert (tokyo["budget_minor"], tokyo["budget"]) == (150000, "150000")  # JPY: no minor unit
    # an update reads the campaign's own currency when none is given
    assert cli("update", "Tokyo", "--budget", "200000")["budget_minor"] == 200000
    assert cli("update", "Spring", "--budget", "99.99")["budget_minor"] == 9999
    eur = cli("update", "Spring", "--currency", "EUR", "--budget", "12.50")
    assert (eur["budget_minor"], eur["currency"]) == (1250, "EUR")
    bad = run_cli(env, "campaign", "create", "--name", "Bad", "--budget", "lots")
    assert bad.returncode == 1 and bad.stderr.strip() == "error: budget: 'lots' is not a number"
    gone = run_cli(env, "campaign", "create", "--name", "Old", "--budget-minor", "150000")
    assert gone.returncode == 2 and "--budget-minor" in gone.stderr
    listed = run_cli(env, "campaign", "list").stdout.splitlines()
    assert listed[0].split() == ["id", "name", "budget", "currency", "status"]
    assert any(line.split()[1:4] == ["Tokyo", "200000", "JPY"] for line in listed[1:])


async def test_panel_campaign_budget_in_major_units_by_the_same_rule(live: Running) -> None:
    token = await logged_in(live)
    form = {"csrf": token, "name": "Tokyo", "currency": "JPY", "budget": "150,000"}
    r = await live.client.post("/admin/campaigns", data=form)
    assert r.status_code == 303, r.text
    assert (await live.store.get_campaign("Tokyo"))["budget_minor"] == 150000
    r = await live.client.post("/admin/campaigns", data={**form, "name": "Bad", "budget": "lots"})
    assert r.status_code == 422 and "budget: &#39;lots&#39; is not a number" in r.text


@pytest.mark.parametrize("given", ["1500.00", 1500.0, "1500", True])
async def test_minor_units_in_json_are_json_integers(
    live: Running, auth: dict[str, str], given: Any
) -> None:
    """Every ``*_minor`` field of the API takes a JSON integer and nothing else: "1500.00"
    was read as 1500 minor units (15.00, a hundredth of what was meant), 1500.0 and "1500"
    as 1500, true as 1; the generic postback's rule, now the one rule (hostile pass, third)."""
    c = live.client
    assert (await c.post("/api/v1/creators", headers=auth, json={"handle": "maya"})).is_success
    sent = {
        "/api/v1/campaigns": {"name": "spring", "budget_minor": given},
        "/api/v1/costs": {
            "creator_id": "maya", "kind": "fee", "amount_minor": given, "incurred_on": "2026-03-01"
        },
        "/api/v1/commissions/rules": {"creator_id": "maya", "fixed_minor": given, "currency": "USD"},
        "/api/v1/commissions/payouts": {
            "creator_id": "maya", "currency": "USD", "reference": "p1", "amount_minor": given
        },
    }  # fmt: skip
    labor = {"creator_id": "maya", "kind": "labor", "hours": 2, "rate_minor": given}
    sent["/api/v1/costs?labor"] = {**labor, "incurred_on": "2026-03-01"}
    for path, body in sent.items():
        r = await c.post(path.partition("?")[0], headers=auth, json=body)
        assert r.status_code == 422, (path, r.text)
        field = next(k for k in body if k.endswith("_minor"))
        assert r.json()["errors"][0]["field"] == field, (path, r.text)
    campaign = await c.post("/api/v1/campaigns", headers=auth, json={"name": "a"})
    r = await c.patch("/api/v1/campaigns/a", headers=auth, json={"budget_minor": given})
    assert campaign.status_code == 201 and r.status_code == 422, r.text
    assert (await live.store.list_costs()) == []
    r = await c.post("/api/v1/campaigns", headers=auth, json={"name": "b", "budget_minor": 150000})
    assert r.status_code == 201 and r.json()["budget_minor"] == 150000
