"""A campaign's budget as people type it: major units of the campaign's currency, parsed by
the one money rule (``tracker.core.money``) for the panel and the CLI alike."""

from __future__ import annotations

import pytest

from tracker.catalogue.campaigns import budget_from_major, present_major
from tracker.core.errors import Unprocessable


def test_budget_from_major_units_of_the_campaigns_currency() -> None:
    assert budget_from_major({"name": "S", "budget": "1500.00"}, "USD") == {
        "name": "S",
        "budget_minor": 150000,
    }
    assert budget_from_major({"budget": "1,500"}, "jpy")["budget_minor"] == 1500  # no minor unit
    assert budget_from_major({"budget": "12.345"}, "KWD")["budget_minor"] == 12345  # 3 digits
    assert budget_from_major({"name": "S"}, "USD") == {"name": "S"}  # none typed: unchanged
    assert budget_from_major({"budget": ""}, "USD") == {}
    with pytest.raises(Unprocessable, match=r"^budget: '12.345' has more than 2 decimals"):
        budget_from_major({"budget": "12.345"}, "USD")  # a typo, never rounded to 12.34
    with pytest.raises(Unprocessable, match=r"^budget: 'lots' is not a number$"):
        budget_from_major({"budget": "lots"}, "USD")
    with pytest.raises(Unprocessable, match="currency"):
        budget_from_major({"budget": "1"}, "EURO")


def test_a_campaign_reads_back_with_its_budget_in_major_units() -> None:
    row = {"id": "cp_1", "name": "S", "name_key": "s", "budget_minor": 150000, "currency": "JPY"}
    shown = present_major(row)
    assert shown["budget"] == "150000" and shown["budget_minor"] == 150000
    assert "name_key" not in shown
    assert "budget" not in present_major({**row, "budget_minor": None})
