"""Campaigns: how one reads back (the case-folded lookup key stays inside the store), and
the budget people type in major units of the campaign's currency."""

from __future__ import annotations

from typing import Any

from tracker.core import money
from tracker.core.errors import Unprocessable
from tracker.store.engine import Row


def budget_from_major(fields: dict[str, Any], currency: str) -> dict[str, Any]:
    """People type a budget in major units of the campaign's ``currency`` (1500.00 USD,
    150000 JPY) in the panel and the CLI (``budget``); the store and the JSON API keep
    ``budget_minor``. Parsed by the one money rule, exactly (what people type: more decimals
    than the currency has are refused); no budget typed: ``fields`` unchanged."""
    out = dict(fields)
    budget = out.pop("budget", None)
    if budget in (None, ""):
        return out
    code = money.currency_code(currency)
    try:
        out["budget_minor"] = money.to_minor(str(budget).replace(",", ""), code, exact=True)
    except Unprocessable as exc:  # the money rule says "amount": name what was typed
        raise Unprocessable("budget" + exc.reason.removeprefix("amount")) from None
    return out


def present(row: Row, settings: Any = None) -> Row:
    return {k: v for k, v in row.items() if k != "name_key"}


def present_major(row: Row, settings: Any = None) -> Row:
    """As people read it (the CLI): the budget also in major units, as it is typed."""
    out = present(row)
    if out.get("budget_minor") is not None:
        out["budget"] = money.major(int(out["budget_minor"]), str(out["currency"]))
    return out


def state(c: dict[str, Any], today: str) -> str:
    """disabled, scheduled (starts later), ended (ended before today) or active."""
    if c["status"] != "active":
        return "disabled"
    if c.get("starts_on") and c["starts_on"] > today:
        return "scheduled"
    if c.get("ends_on") and c["ends_on"] < today:
        return "ended"
    return "active"


async def typed_budget(store: Any, fields: dict[str, Any], ref: str = "") -> dict[str, Any]:
    """``budget_from_major`` in the campaign's currency: the one given, else the stored
    campaign's (``ref``: an update), else the model's default (USD)."""
    if "budget" not in fields:
        return fields
    currency = fields.get("currency") or (
        (await store.get_campaign(ref))["currency"] if ref else "USD"
    )
    return budget_from_major(fields, currency)
