"""The facts of one creator's figures only (issue 19): a creator's own page reads the orders
that creator has a touch on, not every order of the period.

The figures are the full report's for that creator: an order's other touches are loaded
too, so each model splits it exactly as the portfolio report does, and only the creator's
own credit is kept (the stored rows of that creator, the computed credits of that creator:
another creator's share of a shared order is no figure of this page); costs and posts are
the creator's; unattributed orders (no creator's figure) are left out.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tracker.reports import build
from tracker.reports.build import Facts, Params, several, stored_usable
from tracker.settings import Settings
from tracker.store import Store


async def load_for_creator(store: Store, p: Params, creator_id: str) -> Facts:
    costs = await store.costs_between(p.start.isoformat(), (p.end + timedelta(days=1)).isoformat())
    posts = await store.posts_between(p.start_at, p.end_at)
    stored = await stored_usable(store, p)
    other = p.currency if stored else None
    return Facts(
        creators={r["id"]: r for r in await store.creators_meta()},
        links={r["id"]: r for r in await store.links_meta()},
        campaigns={r["id"]: r for r in await store.campaigns_meta()},
        touches=await store.credited_touches(
            p.start_at, p.end_at, creator_id=creator_id, unstored=other, several=several(p)
        ),
        costs=[c for c in costs if c["creator_id"] == creator_id],
        commission=[
            c
            for c in await store.ledger_commission(p.start_at, p.end_at)
            if c["creator_id"] == creator_id
        ],
        posts=[x for x in posts if x["creator_id"] == creator_id],
        unattributed=[],
        stored=stored,
        scope=creator_id,
    )


async def own_figures(
    store: Store, settings: Settings, p: Params, creator_id: str
) -> tuple[dict[str, Any], str, list[dict[str, Any]]]:
    """What the creator's own page shows: their row of the creator report (no unique
    figures, no reach or 90-day value: ``reach=False``), its currency, and their clicks
    per day (no orders per day: ``orders=False``)."""
    facts = await load_for_creator(store, p, creator_id)
    report = await build.build(
        store, settings, p, "creator", distinct=False, facts=facts, reach=False
    )
    row = next((r for r in report["rows"] if r.get("key") == creator_id), None) or {}
    days = await build.daily(store, settings, p, "creator", creator_id, orders=False, facts=facts)
    return row, report["currency"], days
