"""Re-match: orders without a creator, matched again once later-committed clicks explain them.

Clicks are committed in batches (every ``TRACKER_FLUSH_INTERVAL_MS``, possibly by another
node), so an order can arrive before the click that explains it. ``rematch_candidates``
finds unattributed orders for which a click now exists (by click id, or a human click with
the order's fingerprint); ``rematch_unattributed`` applies the attribution rules again. The rules
themselves live in ``tracker.attribution`` (the same call as at ingest).

Idempotent and safe across nodes: the write re-checks ``creator_id IS NULL`` with an UPDATE
that takes the order's row lock, inside the group commit, so two nodes (or a postback and
the job) never both rewrite an order, and an attributed order is never touched again.
"""

from __future__ import annotations

import json
from typing import Any

from tracker.attribution import touches
from tracker.attribution.rules import choose_winner
from tracker.attribution.touches import Found, Matching, OrderSignals
from tracker.core import clock
from tracker.store.base import StoreBase
from tracker.store.engine import Conn, Row
from tracker.store.orders import TxReader, store_touches

SIGNALS = (
    "o.id, o.placed_at, o.codes, o.click_ids, o.fingerprint, o.ip_tag, o.lang_tag, "
    "o.legacy_fingerprint, o.explanation"
)


def signals_of(row: Row) -> OrderSignals:
    """An order's stored signals (``SIGNALS`` columns), as the rules read them."""
    return OrderSignals(
        row["placed_at"],
        tuple(json.loads(row["codes"])),
        tuple(json.loads(row["click_ids"])),
        row["fingerprint"],
        row["ip_tag"],
        row["lang_tag"],
        row["legacy_fingerprint"],
    )


class RematchQueries(StoreBase):
    async def rematch_candidates(
        self, placed_since: str, clicks_since: str, limit: int
    ) -> list[Row]:
        """Unattributed, not cancelled orders placed since ``placed_since`` for which a click
        that could explain them is stored now: the click of a click id the order carries,
        or a human click on a creator's link with the order's fingerprint."""
        return await self.db.fetch_all(
            f"SELECT {SIGNALS} FROM orders o WHERE o.creator_id IS NULL "
            "AND o.placed_at >= ? AND o.status <> 'cancelled' AND ("
            "(o.fingerprint IS NOT NULL AND EXISTS (SELECT 1 FROM clicks c "
            "WHERE c.fingerprint IN (o.fingerprint, COALESCE(o.legacy_fingerprint, '-')) "
            "AND c.is_bot = 0 AND c.creator_id IS NOT NULL AND c.at >= ?)) "
            "OR EXISTS (SELECT 1 FROM touches t JOIN clicks c ON c.id = t.click_id "
            "WHERE t.order_id = o.id AND t.method = 'click' AND t.matched = 0 "
            "AND c.creator_id IS NOT NULL)) "
            "ORDER BY o.placed_at DESC, o.id LIMIT ?",
            (placed_since, clicks_since, limit),
        )

    async def rematch_unattributed(self, row: Row, m: Matching) -> dict[str, Any] | None:
        """Apply the rules again to one candidate; the new winner (or None: no change)."""
        signals = signals_of(row)
        found = await touches.find(signals, m, TxReader(self.db))  # cheap read-only check
        if not any(t.matched and t.creator_id for t in found.touches):
            return None

        async def job(tx: Conn) -> dict[str, Any] | None:
            locked = await tx.execute(
                "UPDATE orders SET updated_at = ? WHERE id = ? AND creator_id IS NULL",
                (clock.now_iso(), row["id"]),
            )
            if not locked:  # attributed meanwhile (another node, or a new delivery)
                return None
            current = await tx.fetch_one(
                f"SELECT {SIGNALS}, o.status FROM orders o WHERE o.id = ?", (row["id"],)
            )
            if current is None or current["status"] == "cancelled":
                return None
            again: Found = await touches.find(signals_of(current), m, TxReader(tx))
            marked, why = choose_winner(again.touches, m.policy)
            winner = next((t for t in marked if t.winner), None)
            if winner is None:
                return None
            why = f"re-matched at {clock.now_iso()}: {why} (at ingest: {current['explanation']})"
            await store_touches(tx, row["id"], marked, why, again)
            await self.after_order_change(tx, row["id"])  # type: ignore[attr-defined]  # events, ledger
            return {"order_id": row["id"], "creator_id": winner.creator_id, "method": winner.method}

        result: dict[str, Any] | None = await self.writes.run(job)
        return result
