"""Orders as the panel browses and triages them: a filtered, paginated search, the unknown
codes waiting for a creator, and re-matching one stored order against today's catalogue.

Re-matching reuses the ingest's own touch finder and winner rule on the signals the order
kept (codes, click ids, fingerprint), in one transaction, so a re-attributed order is
exactly what a fresh delivery would have produced now.
"""

from __future__ import annotations

import json
from typing import Any

from tracker.attribution.rules import choose_winner
from tracker.orders.model import Order
from tracker.store.base import StoreBase
from tracker.store.engine import Conn, Row
from tracker.store.panel_lists import like

#: Sort keys the orders list accepts -> SQL expression.
ORDER_SORTS = {
    "placed": "o.placed_at",
    "total": "o.total_minor",
    "net": "o.net_minor",
    "shop": "s.slug",
    "status": "o.status",
    "method": "o.method",
}
METHODS = ("code", "click", "fingerprint")


def _order_filters(
    *,
    creator_id: str = "",
    shop_id: str = "",
    method: str = "",
    unattributed: bool = False,
    start: str = "",
    end: str = "",
    q: str = "",
    code: str = "",
) -> tuple[str, list[Any]]:
    where, params = ["1 = 1"], []
    if creator_id:
        where.append("o.creator_id = ?")
        params.append(creator_id)
    if shop_id:
        where.append("o.shop_id = ?")
        params.append(shop_id)
    if method in METHODS:
        where.append("o.method = ?")
        params.append(method)
    if unattributed:
        where.append("o.creator_id IS NULL")
    if start:
        where.append("o.placed_at >= ?")
        params.append(start)
    if end:  # an end date includes its whole day
        where.append("o.placed_at < ?")
        params.append(end)
    if q:
        where.append(
            "(LOWER(o.order_number) LIKE ? ESCAPE '\\' OR LOWER(o.external_id) LIKE ? ESCAPE '\\')"
        )
        params += [like(q.lstrip("#"))] * 2
    if code:
        where.append(
            "EXISTS (SELECT 1 FROM touches t WHERE t.order_id = o.id AND t.method = 'code' "
            "AND LOWER(t.code) = ?)"
        )
        params.append(code.lower())
    return " AND ".join(where), params


class TriageQueries(StoreBase):
    async def search_orders(
        self,
        *,
        sort: str = "placed",
        descending: bool = True,
        limit: int = 50,
        offset: int = 0,
        **filters: Any,
    ) -> tuple[list[Row], int]:
        """One page of orders matching the filters (newest first), and how many match."""
        clause, params = _order_filters(**filters)
        order_by = ORDER_SORTS.get(sort, "o.placed_at")
        direction = "DESC" if descending else "ASC"
        rows = await self.db.fetch_all(
            "SELECT o.id, s.slug AS shop, o.external_id, o.order_number, o.placed_at, "
            "o.currency, o.total_minor, o.refunded_minor, o.net_minor, o.status, o.creator_id, "
            "c.handle AS creator_handle, o.method, o.new_customer, o.explanation "
            "FROM orders o JOIN shops s ON s.id = o.shop_id "
            "LEFT JOIN creators c ON c.id = o.creator_id "
            f"WHERE {clause} ORDER BY {order_by} {direction}, o.id LIMIT ? OFFSET ?",
            (*params, limit, offset),
        )
        count = await self.db.fetch_one(
            f"SELECT COUNT(*) AS n FROM orders o WHERE {clause}", tuple(params)
        )
        return rows, int(count["n"] if count else 0)

    async def unknown_codes(self, limit: int = 20) -> list[Row]:
        """Codes seen on orders that match no code of ours, most orders first: each is a
        creator (or a shop-wide promotion) the tracker was never told about."""
        rows = await self.db.fetch_all(
            "SELECT UPPER(t.code) AS code, COUNT(DISTINCT t.order_id) AS orders, "
            "SUM(CASE WHEN o.creator_id IS NULL THEN 1 ELSE 0 END) AS unattributed, "
            "MIN(o.placed_at) AS first_seen, MAX(o.placed_at) AS last_seen "
            "FROM touches t JOIN orders o ON o.id = t.order_id "
            "WHERE t.method = 'code' AND t.matched = 0 AND t.code IS NOT NULL "
            "GROUP BY UPPER(t.code) ORDER BY COUNT(DISTINCT t.order_id) DESC, UPPER(t.code) "
            "LIMIT ?",
            (limit,),
        )
        return [
            {**r, "orders": int(r["orders"]), "unattributed": int(r["unattributed"] or 0)}
            for r in rows
        ]

    async def orders_with_code(self, code: str) -> list[str]:
        """Ids of the orders that carried ``code`` (case-insensitive), oldest first."""
        rows = await self.db.fetch_all(
            "SELECT DISTINCT o.id, o.placed_at FROM orders o JOIN touches t ON t.order_id = o.id "
            "WHERE t.method = 'code' AND LOWER(t.code) = ? ORDER BY o.placed_at, o.id",
            (code.lower(),),
        )
        return [r["id"] for r in rows]

    async def rematch_order(self, order_id: str, matching: Any) -> Row:
        """Find the order's touches again with today's codes and clicks; store the new
        winner and explanation. Returns {order_id, creator_id, method, explanation}."""

        async def job(tx: Conn) -> Row:
            row = await tx.fetch_one(
                "SELECT id, external_id, placed_at, source_updated_at, currency, total_minor, "
                "status, codes, click_ids, fingerprint FROM orders WHERE id = ?",
                (order_id,),
            )
            if row is None:
                return {"order_id": order_id, "creator_id": None, "explanation": "gone"}
            order = Order(
                external_id=row["external_id"],
                placed_at=row["placed_at"],
                updated_at=row["source_updated_at"],
                currency=row["currency"],
                total_minor=int(row["total_minor"]),
                status=row["status"],
                codes=list(json.loads(row["codes"] or "[]")),
                click_ids=list(json.loads(row["click_ids"] or "[]")),
            )
            found = await self._find_touches(tx, order, row["fingerprint"], matching)  # type: ignore[attr-defined]
            touches, why = choose_winner(found, matching.policy)
            await self._store_touches(tx, order_id, touches, why)  # type: ignore[attr-defined]
            winner = next((t for t in touches if t.winner), None)
            return {
                "order_id": order_id,
                "creator_id": winner.creator_id if winner else None,
                "method": winner.method if winner else None,
                "explanation": why,
            }

        result: Row = await self.writes.run(job)
        return result
