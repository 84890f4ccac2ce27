"""The pure rules, exactly: money parsing and printing, the ROI maths, credit per model and
the winner's explanation. These are the fast tests ``make mutants`` runs (with
tests/attribution/test_rules.py and tests/reports/test_reports.py); each assertion pins a number or a text a
brand or a creator reads, so a one-character change to a rule fails here.
"""

from __future__ import annotations

import pytest

from tracker.attribution.credit import ORDER_MODELS, Credited, by_model, credits
from tracker.attribution.rules import Touch, choose_winner
from tracker.core.errors import Unprocessable
from tracker.core.money import MAX_MINOR, convert, currency_code, exponent, major, to_minor
from tracker.reports.roi import (
    band,
    concentration,
    derive,
    engagement_rate,
    median,
    ratio,
)

AT = "2026-11-10T00:00:00.000000Z"


# -- money --------------------------------------------------------------------------------------
@pytest.mark.parametrize(("value", "code"), [("EUR", "EUR"), (" usd ", "USD"), ("jpy", "JPY")])
def test_currency_codes(value: str, code: str) -> None:
    assert currency_code(value) == code


@pytest.mark.parametrize("value", ["EURO", "E1R", 840, ["EUR"], "€"])
def test_bad_currency_codes(value: object) -> None:
    with pytest.raises(Unprocessable) as exc:
        currency_code(value)
    assert exc.value.reason == f"currency: {value!r} is not an ISO 4217 code"


@pytest.mark.parametrize("value", [None, "", "  "])
def test_a_missing_currency_is_named_required(value: object) -> None:
    """It read "currency: None is not an ISO 4217 code"."""
    with pytest.raises(Unprocessable) as exc:
        currency_code(value)
    assert exc.value.reason == "currency: required, an ISO 4217 code such as USD"


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [
        ("598.94", "USD", 59894),
        (598.94, "USD", 59894),
        (12, "EUR", 1200),
        ("1500", "JPY", 1500),
        ("1.234", "KWD", 1234),
        ("0.005", "USD", 0),  # half to even
        ("0.015", "USD", 2),
        ("-3.50", "USD", -350),
        (" 7.1 ", "USD", 710),
        (None, "USD", 0),
        ("", "USD", 0),
        ("10000000000000.00", "USD", MAX_MINOR),  # the largest amount, exactly
        ("1000000000000000", "JPY", MAX_MINOR),
    ],
)
def test_to_minor(amount: object, currency: str, minor: int) -> None:
    assert to_minor(amount, currency) == minor


@pytest.mark.parametrize(
    ("amount", "why"),
    [
        ("abc", "is not a number"),
        (True, "is not a number"),
        ("NaN", "is not a number"),
        ("Infinity", "is not a number"),
        ("10000000000000.01", "is out of range"),
        ("1e16", "is out of range"),
        ("1e999999", "is out of range"),
        ("-1e999999", "is out of range"),
    ],
)
def test_to_minor_refuses(amount: object, why: str) -> None:
    with pytest.raises(Unprocessable) as exc:
        to_minor(amount, "USD")
    assert exc.value.reason == f"amount: {amount!r} {why}"


def test_exponents_and_major() -> None:
    assert [exponent(c) for c in ("USD", "JPY", "KWD", "XYZ")] == [2, 0, 3, 2]
    assert major(59894, "USD") == "598.94" and major(5, "USD") == "0.05"
    assert major(0, "USD") == "0.00" and major(-5, "USD") == "-0.05"
    assert major(-59894, "EUR") == "-598.94" and major(1, "EUR") == "0.01"
    assert major(1500, "JPY") == "1500" and major(-7, "JPY") == "-7"
    assert major(1234, "KWD") == "1.234" and major(5, "KWD") == "0.005"


def test_convert() -> None:
    rates = {"EUR": 1.25, "JPY": 0.008, "KWD": 3.25}
    assert convert(10000, "EUR", "USD", rates) == 12500.0
    assert convert(1000, "JPY", "USD", rates) == pytest.approx(800.0)
    assert convert(1000, "KWD", "USD", rates) == pytest.approx(325.0)
    assert convert(7, "GBP", "GBP", {}) == 7.0 and isinstance(convert(7, "GBP", "GBP", {}), float)
    assert convert(7, "GBP", "USD", rates) is None
    assert convert(100, "USD", "JPY", {"USD": 150.0}) == pytest.approx(150.0)


# -- ROI ----------------------------------------------------------------------------------------
def test_ratio_and_band() -> None:
    assert ratio(1, 4) == 0.25 and ratio(1, 0) is None and ratio(0, 3) == 0.0
    assert [band(x) for x in (None, 0.0, 2.999, 3.0, 4.999, 5.0, 50.0)] == [
        None,
        "poor",
        "poor",
        "moderate",
        "moderate",
        "strong",
        "strong",
    ]


def test_derive_every_metric() -> None:
    row = derive(
        {
            "revenue_minor": 10000,
            "cost_minor": 3000,
            "orders": 1 / 3,
            "click_orders": 1 / 3,  # conversion: orders reached through a click / human clicks
            "human_clicks": 3,
            "unique_clicks": 3,
            "new_customers": 2 / 3,
            "engagements": 1,
            "followers_reached": 3,
            "label": "maya",
        }
    )
    assert row["label"] == "maya"  # the input row's own fields are kept
    assert row["roas"] == 3.33 and row["roi_pct"] == 233.3 and row["band"] == "moderate"
    assert row["conversion_rate"] == 11.11 and row["engagement_rate"] == 33.33
    assert row["orders"] == 0.3333 and row["new_customers"] == 0.6667
    assert row["aov_minor"] == 30000 and row["epc_minor"] == 3333 and row["cpa_minor"] == 9000


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (
            {"orders": 1.0, "human_clicks": 1, "unique_clicks": 1, "cost_minor": 100},
            {"aov_minor": 0, "epc_minor": 0, "roas": 0.0, "roi_pct": -100.0, "band": "poor"},
        ),
        (
            {"revenue_minor": 100, "orders": 1.0, "human_clicks": 1},  # a code-only order
            {
                "cpa_minor": None,
                "roas": None,
                "roi_pct": None,
                "band": None,
                "conversion_rate": 0.0,
            },
        ),
        (
            {"revenue_minor": 100, "cost_minor": 50, "unique_clicks": 4, "human_clicks": 4},
            {"conversion_rate": 0.0, "aov_minor": None, "cpa_minor": None, "orders": 0},
        ),
        (
            {"revenue_minor": 100, "orders": 1.0, "unique_clicks": 1},
            {"epc_minor": None, "new_customers": 0, "engagement_rate": None},
        ),
        ({"engagements": 5}, {"engagement_rate": None}),
        ({"followers_reached": 5}, {"engagement_rate": 0.0}),
        (
            {},
            {
                "conversion_rate": None,
                "aov_minor": None,
                "epc_minor": None,
                "cpa_minor": None,
                "roas": None,
                "roi_pct": None,
                "band": None,
                "orders": 0,
                "new_customers": 0,
                "engagement_rate": None,
            },
        ),
    ],
)
def test_derive_missing_sums_count_as_zero(
    given: dict[str, float], expected: dict[str, object]
) -> None:
    row = derive(given)
    assert {k: row[k] for k in expected} == expected


def test_engagement_concentration_median() -> None:
    assert engagement_rate(900, 80, 20, 25000) == 4.0
    assert engagement_rate(1, 0, 0, 3) == 33.33
    assert engagement_rate(1, 1, 1, None) is None and engagement_rate(1, 1, 1, 0) is None
    assert concentration([50.0, 30.0, 20.0], 1) == 50.0
    assert concentration([2.0, 1.0], 1) == 66.67
    assert concentration([1.0, 2.0, 3.0], 2) == 83.33
    assert concentration([], 3) is None and concentration([0.0], 1) is None
    assert median([3.0, 1.0, 2.0]) == 2.0
    assert median([4.0, 1.0, 3.0, 2.0]) == 2.5
    assert median([1.0, 5.0, 2.0, 3.0, 9.0, 8.0]) == 4.0
    assert median([None, 7.0, None]) == 7.0  # type: ignore[list-item]
    assert median([]) is None and median([None]) is None  # type: ignore[list-item]


# -- credit per model ---------------------------------------------------------------------------
def test_time_decay_default_half_life_is_seven_days() -> None:
    old = Credited("a", "2026-11-03T00:00:00.000000Z")
    new = Credited("b", AT)
    assert credits([old, new], "time_decay", AT) == pytest.approx([1 / 3, 2 / 3])


def test_unknown_model_names_the_models() -> None:
    with pytest.raises(ValueError) as exc:
        credits([Credited("a", AT)], "nope", AT)
    assert str(exc.value) == (
        "unknown attribution model 'nope'; one of last, first, linear, position, time_decay, "
        "data_driven"
    )


def touch_row(who: str | None, at: str, **kw: object) -> dict[str, object]:
    return {
        "creator_id": who,
        "creator_handle": None if who is None else f"@{who}",
        "at": at,
        "winner": 0,
        "matched": 1,
        "campaign_id": None,
        "link_id": None,
        "method": "click",
        **kw,
    }


def test_by_model_shares_per_creator() -> None:
    rows = [
        touch_row("a", "2026-11-01T00:00:00.000000Z"),
        touch_row("b", "2026-11-05T00:00:00.000000Z", winner=1, method="code"),
        touch_row("a", "2026-11-09T00:00:00.000000Z"),
        touch_row("z", "2026-11-09T00:00:00.000000Z", matched=0),  # unmatched: no credit
        touch_row(None, "2026-11-09T00:00:00.000000Z"),  # no creator: no credit
        touch_row("d", "2026-11-08T00:00:00.000000Z", creator_handle=None),  # deleted creator
    ]
    out = by_model(rows, AT, 7.0)  # type: ignore[arg-type]
    assert set(out) == set(ORDER_MODELS)  # data_driven needs a range of paths, not one order
    assert out["last"] == {"@a": 0.0, "@b": 1.0, "d": 0.0}  # the stored winner
    assert out["first"] == {"@a": 1.0, "@b": 0.0, "d": 0.0}
    assert out["linear"] == {"@a": 0.5, "@b": 0.25, "d": 0.25}
    assert out["position"] == {"@a": 0.8, "@b": 0.1, "d": 0.1}
    decay = out["time_decay"]
    assert sum(decay.values()) == pytest.approx(1.0, abs=1e-5)
    assert decay["@a"] > decay["d"] > decay["@b"]
    third = by_model([touch_row(w, AT) for w in "abc"], AT, 7.0)  # type: ignore[arg-type]
    assert third["linear"] == {"@a": 0.333333, "@b": 0.333333, "@c": 0.333333}
    assert by_model([], AT, 7.0) == {m: {} for m in ORDER_MODELS}


def test_by_model_half_life_is_used() -> None:
    rows = [touch_row("a", "2026-11-09T00:00:00.000000Z"), touch_row("b", AT)]
    one_day = by_model(rows, AT, 1.0)["time_decay"]  # type: ignore[arg-type]
    assert one_day == {"@a": 0.333333, "@b": 0.666667}


# -- the winner and its explanation -------------------------------------------------------------
def test_labels() -> None:
    assert Touch("code", AT, "cr_a", code="TENOFF").label() == "code TENOFF -> cr_a"
    assert Touch("click", AT, "cr_b", click_id="c1").label() == "click c1 -> cr_b"
    assert Touch("fingerprint", AT, None, click_id="c2").label() == (
        "fingerprint click c2 -> nobody"
    )


def test_explanations() -> None:
    code = Touch("code", AT, "maya", code="TENOFF")
    click = Touch("click", "2026-11-09T00:00:00.000000Z", "bob", click_id="c1")
    same = Touch("click", "2026-11-09T00:00:00.000000Z", "maya", click_id="c2")
    lost = Touch("click", AT, click_id="c3", matched=False, note="unknown click id")
    _, why = choose_winner([click, code])
    assert why == (
        "code TENOFF -> maya wins (code is the strongest signal found, policy=code); "
        "outranked: click c1 -> bob"
    )
    _, why = choose_winner([click, code, same, lost], "click")
    assert why == (
        "click c1 -> bob wins (click is the strongest signal found, policy=click); "
        "outranked: code TENOFF -> maya; click c2 -> maya; "
        "unmatched: click c3 -> nobody (unknown click id)"
    )
    other = Touch("code", AT, code="NOSUCH", matched=False, note="unknown code")
    _, why = choose_winner([lost, code, other])
    assert why == (
        "code TENOFF -> maya wins (code is the strongest signal found); "
        "unmatched: click c3 -> nobody (unknown click id); code NOSUCH -> nobody (unknown code)"
    )
    _, why = choose_winner([code, same])  # the same creator twice: nobody outranked
    assert why == "code TENOFF -> maya wins (code is the strongest signal found)"
    _, why = choose_winner([lost, Touch("code", AT, code="X", matched=False)])
    assert why == (
        "unattributed: click c3 -> nobody (unknown click id); code X -> nobody (no creator behind it)"
    )
