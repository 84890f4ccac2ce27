"""Collaborations: the service (create with its checks) and the report (each collaboration as
its own row, with what each member earned from it). The split rule: ``attribution.collab``.

Revenue in the creator report already includes each member's part of a collaboration
(``collab_revenue_minor`` says how much of it came that way); this report shows the same
credits grouped by collaboration, so its rows add up to the collaboration revenue exactly.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from tracker.attribution.collab import check_shares
from tracker.commissions import ledger
from tracker.core.errors import Unprocessable
from tracker.reports import build as reports
from tracker.reports.build import Params
from tracker.settings import Settings
from tracker.store import Store
from tracker.store.engine import Row


async def create(
    store: Store,
    name: str,
    link: str | None,
    code: str | None,
    shares: list[tuple[str, int]],
) -> Row:
    """A collaboration on one link (id or slug) or one code, shares by creator id or handle."""
    if (link is None) == (code is None):
        raise Unprocessable("give exactly one of link or code")
    resolved = [((await store.get_creator(c))["id"], bp) for c, bp in shares]
    why = check_shares(resolved)
    if why:
        raise Unprocessable(f"shares: {why}")
    link_id = (await store.get_link(link))["id"] if link else None
    code_key = (await store.get_code(code))["code_key"] if code else None
    row = await store.create_collab(name.strip(), link_id, code_key, resolved)
    await ledger.resync(store, await store.collab_orders(link_id, code_key))
    return row


async def edit(store: Store, ref: str, shares: list[tuple[str, int]]) -> Row:
    """New shares for a collaboration; the past orders through it are re-ledgered."""
    resolved = [((await store.get_creator(c))["id"], bp) for c, bp in shares]
    why = check_shares(resolved)
    if why:
        raise Unprocessable(f"shares: {why}")
    row = await store.set_collab_shares(ref, resolved)
    await ledger.resync(store, await store.collab_orders(row["link_id"], row["code_key"]))
    return row


async def delete(store: Store, ref: str) -> None:
    """Delete a collaboration; its past orders are re-ledgered (the winner earns on all)."""
    row = await store.delete_collab(ref)
    await ledger.resync(store, await store.collab_orders(row["link_id"], row["code_key"]))


async def report(store: Store, settings: Settings, p: Params) -> dict[str, Any]:
    """One row per collaboration: orders (credit-weighted), revenue, and per member."""
    # long: one pass filling the rows, then their order; the rule reads top to bottom
    facts = await reports.load(store, p)
    credits_, missing = await reports.all_credits(store, facts, p)
    by_collab: dict[str, dict[str, Any]] = {}
    for r in await store.list_collabs():
        by_collab[r["id"]] = {
            "collab_id": r["id"],
            "label": r["name"],
            "link": r.get("slug"),
            "code": r.get("code_key"),
            "orders": 0.0,
            "revenue_minor": 0,
            "members": {
                s["creator_id"]: {
                    "creator_id": s["creator_id"],
                    "label": s["handle"],
                    "share_bp": int(s["share_bp"]),
                    "orders": 0.0,
                    "revenue_minor": 0,
                }
                for s in r["shares"]
            },
        }
    orders: dict[str, set[str]] = defaultdict(set)
    for cr in credits_:
        row = by_collab.get(cr.collab_id or "")
        if row is None:
            continue
        member = row["members"].setdefault(
            cr.creator_id,
            {
                "creator_id": cr.creator_id,
                "label": cr.creator_id,
                "share_bp": 0,
                "orders": 0.0,
                "revenue_minor": 0,
            },
        )
        member["revenue_minor"] += cr.revenue
        row["revenue_minor"] += cr.revenue
        if cr.counted:
            member["orders"] += cr.share
            row["orders"] += cr.share
            orders[row["collab_id"]].add(cr.order_id)
    rows = []
    for row in by_collab.values():
        members = sorted(row.pop("members").values(), key=lambda m: (-m["share_bp"], m["label"]))
        for m in members:
            m["orders"] = round(m["orders"], 4)
        rows.append(
            {
                **row,
                "orders": round(row["orders"], 4),
                "distinct_orders": len(orders[row["collab_id"]]),
                "members": members,
            }
        )
    rows.sort(key=lambda r: (-r["revenue_minor"], r["label"]))
    return {
        "model": p.model,
        "currency": p.currency,
        "start": p.start.isoformat(),
        "end": p.end.isoformat(),
        "rows": rows,
        "unconverted_currencies": sorted(missing),
    }
