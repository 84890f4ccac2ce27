"""A report's figures from the stored credit (issue 19): the orders in the reporting
currency summed in SQL per key (``tracker/store/credits.py``) and added to the rows the
read-time path fills for the other orders (``tracker.reports.build``).

The stored rows are what ``tracker.attribution.order_credit`` returns for each order (the
same rule as the read-time path), so the sums are the read-time figures: orders and new
customers are sums of shares of counted orders, revenue the sum of the exact splits, an
order counts once per key in ``click_orders`` / ``code_only_orders`` and once in the
totals, the 90-day value is each acquired customer's later net revenue times the share.
"""

from __future__ import annotations

from typing import Any

from tracker.attribution.order_credit import Credit
from tracker.core.money import convert
from tracker.reports.params import Params
from tracker.store import Store
from tracker.store.credits import SumQuery


def query(p: Params, dimension: str, scope: str | None = None) -> SumQuery:
    return SumQuery(dimension, p.start_at, p.end_at, p.model, p.currency, p.tiers, p.where, scope)


async def read(store: Store, p: Params, scope: str | None) -> list[Credit]:
    """The stored rows as credits (collaborations not split yet)."""
    rows = await store.stored_credits(p.start_at, p.end_at, p.model, p.currency, scope=scope)
    return [
        Credit(
            r["order_id"], r["creator_id"], r["campaign_id"], r["link_id"], float(r["share"]),
            int(r["revenue_minor"]), bool(r["new_customer"]), r["customer_hash"],
            r["placed_at"], bool(r["counted"]), r["method"] in ("click", "fingerprint"),
            r["country"], r["variant"], r["method"], r["code"],
        )
        for r in rows
        if p.keeps(r)
    ]  # fmt: skip


async def add_sums(
    store: Store, rows: dict[str | None, dict[str, Any]], dimension: str, p: Params,
    scope: str | None, *, reach: bool = True,
) -> tuple[int, int]:  # fmt: skip
    """Add the stored credit's orders, revenue, new customers, click and code-only orders
    and 90-day value to ``rows``; return the counted orders reached and how many of them
    through a click (each order once: the totals' ``click_orders``). ``reach=False``: the
    orders, revenue and new customers alone (returns (0, 0))."""
    q = query(p, dimension, scope)
    for r in await store.credit_sums(q):
        row = rows[r["key"]]
        row["orders"] += float(r["orders"] or 0)
        row["new_customers"] += float(r["new_customers"] or 0)
        row["revenue_minor"] += int(r["revenue_minor"] or 0)
    if not reach:
        return 0, 0
    for r in await store.credit_reach(q):
        row = rows[r["key"]]
        clicked = int(r["click_orders"] or 0)
        row["click_orders"] += clicked
        row["code_only_orders"] += int(r["reached"]) - clicked
    for r in await store.credit_values(q):
        value = convert(float(r["value"] or 0), r["currency"], p.currency, p.rates) or 0
        rows[r["key"]]["value_90d_minor"] += value
    total = await store.credit_reach(q, per_key=False)
    return (
        sum(int(r["reached"]) for r in total),
        sum(int(r["click_orders"] or 0) for r in total),
    )


async def add_daily(
    store: Store,
    days: dict[str, dict[str, float]],
    dimension: str,
    key: str | None,
    p: Params,
    scope: str | None = None,
) -> None:
    """Add the stored credit's orders and revenue per day of the order, for one key (or
    all: ``key`` None)."""
    for r in await store.credit_sums(query(p, dimension, scope), daily=True):
        if (key is None or r["key"] == key) and r["day"] in days:
            days[r["day"]]["orders"] += float(r["orders"] or 0)
            days[r["day"]]["revenue_minor"] += int(r["revenue_minor"] or 0)
