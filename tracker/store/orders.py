"""Orders: idempotent ingest of postbacks, refunds, touches, privacy redaction, reads.

Each delivery is applied in ONE transaction: its idempotency keys are inserted into
``deliveries`` first (a key already there means a replay: the transaction is rolled back and
nothing changes), then the order is upserted on (shop, external id) unless the stored copy
is newer (an out-of-order delivery only adds refunds), refunds are merged by the shop's
refund id, net revenue is recomputed and the touches are rebuilt. The caller answers 2xx
only after this commits.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from tracker.attribution import touches
from tracker.attribution.rules import Touch, choose_winner
from tracker.attribution.touches import Fingerprint, Found, Matching, OrderSignals
from tracker.core import clock, ids
from tracker.orders.model import Delivery, Order, Refund
from tracker.orders.net import counts, net_minor
from tracker.store.base import StoreBase, is_unique_violation, money_sum
from tracker.store.engine import Conn, Row

#: Rows or keys per statement where an order's codes and touches are written or read in
#: one: 500 x 13 parameters stays under both engines' limit (32,766 / 32,767).
_CHUNK = 500


class _Replay(Exception):
    """Raised inside the transaction to roll it back when a delivery key was seen before."""


def _order_fields(
    o: Order, fingerprint: Fingerprint | None, customer_hash: str | None, now: str
) -> dict[str, Any]:
    """The columns an order delivery sets (insert or update)."""

    return {
        "order_number": o.order_number,
        "source_updated_at": o.updated_at,
        "currency": o.currency,
        "subtotal_minor": o.subtotal_minor,
        "discount_minor": o.discount_minor,
        "total_minor": o.total_minor,
        "current_total_minor": o.current_total_minor,
        "status": o.status,
        "financial_status": o.financial_status,
        "cancelled_at": o.cancelled_at,
        "customer_hash": customer_hash,
        "new_customer": None if o.new_customer is None else int(o.new_customer),
        "codes": json.dumps(o.codes),
        "click_ids": json.dumps(o.click_ids),
        "fingerprint": fingerprint.key if fingerprint else None,
        "ip_tag": fingerprint.ip_tag if fingerprint else None,
        "lang_tag": fingerprint.lang_tag if fingerprint else None,
        "legacy_fingerprint": fingerprint.legacy if fingerprint else None,
        "landing_site": o.landing_site,
        "referring_site": o.referring_site,
        "survey_answer": o.survey_answer,
        "updated_at": now,
    }


#: What a redaction erases on an order (the money and the attribution stay).
_FORGET = (
    "customer_hash = NULL, fingerprint = NULL, ip_tag = NULL, lang_tag = NULL, "
    "legacy_fingerprint = NULL, landing_site = NULL, survey_answer = NULL"
)


class TxReader:
    """The candidate rows ``tracker.attribution.touches`` asks for, read inside ``tx``."""

    def __init__(self, tx: Conn) -> None:
        self.tx = tx

    async def codes(self, code_keys: list[str]) -> dict[str, Row]:
        out: dict[str, Row] = {}
        for i in range(0, len(code_keys), _CHUNK):  # a hostile body may carry thousands
            part = code_keys[i : i + _CHUNK]
            for r in await self.tx.fetch_all(
                "SELECT code_key, creator_id, campaign_id, status FROM codes "
                f"WHERE code_key IN ({', '.join('?' for _ in part)})",
                tuple(part),
            ):
                out[r["code_key"]] = r
        return out

    async def click(self, click_id: str) -> Row | None:
        return await self.tx.fetch_one(
            "SELECT c.id, c.at, c.link_id, c.creator_id, l.campaign_id FROM clicks c "
            "LEFT JOIN links l ON l.id = c.link_id WHERE c.id = ?",
            (click_id,),
        )

    async def fingerprint_clicks(
        self, fingerprints: tuple[str, ...], earliest: str, latest: str, limit: int
    ) -> list[Row]:
        marks = ", ".join("?" for _ in fingerprints)
        return await self.tx.fetch_all(
            "SELECT c.id, c.at, c.link_id, c.creator_id, l.campaign_id, c.fingerprint, "
            "c.ip_tag, c.lang_tag FROM clicks c JOIN links l ON l.id = c.link_id "
            f"WHERE c.fingerprint IN ({marks}) AND c.is_bot = 0 "
            "AND c.creator_id IS NOT NULL AND c.at >= ? AND c.at <= ? "
            "ORDER BY c.at DESC, c.id DESC LIMIT ?",
            (*fingerprints, earliest, latest, limit),
        )


class OrderQueries(StoreBase):
    # -- ingest -------------------------------------------------------------------------------
    async def _claim(
        self,
        tx: Conn,
        shop_id: str,
        d: Delivery,
        order_ext: str | None,
        outcome: str,
        keep_body: bool = True,
    ) -> None:
        for i, key in enumerate(d.keys):
            try:
                n = await tx.execute(
                    "INSERT INTO deliveries (id, shop_id, delivery_key, source, topic, "
                    "order_external_id, outcome, received_at, body, scrubbed) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (shop_id, delivery_key) DO NOTHING",
                    (
                        ids.new_id("dl"),
                        shop_id,
                        key[:300],
                        d.source,
                        d.topic[:64],
                        order_ext,
                        outcome,
                        clock.now_iso(),
                        d.body if keep_body and i == 0 else None,
                        1 if d.scrubbed or not (keep_body and i == 0 and d.body) else 0,
                    ),
                )
            except Exception as exc:
                if is_unique_violation(exc):
                    raise _Replay from None
                raise
            if n == 0:
                raise _Replay

    async def ingest_order(
        self,
        shop: Row,
        order: Order,
        delivery: Delivery,
        *,
        fingerprint: Fingerprint | None,
        customer_hash: str | None,
        matching: Matching,
    ) -> dict[str, Any]:
        async def job(tx: Conn) -> dict[str, Any]:
            await self._claim(tx, shop["id"], delivery, order.external_id, "accepted")
            if delivery.source == "woocommerce":  # its order.deleted carries only the id
                await self._deleted_before(tx, shop["id"], order)
            await self._merge_refunds(
                tx, shop["id"], order.external_id, order.refunds, order.currency
            )
            # Everything the row holds is known before it is written (its refunds, net and
            # winner), so a new order is one INSERT and an update one UPDATE: no statement
            # per derived column, and the creator indexes are written once.
            refunded = await self._refunded(tx, shop["id"], order.external_id)
            signals = OrderSignals.of(order.placed_at, order.codes, order.click_ids, fingerprint)
            found = await touches.find(signals, matching, TxReader(tx))
            marked, why = choose_winner(found.touches, matching.policy)
            derived = {**_net_fields(order, refunded), **_winner_fields(marked, why, found)}
            order_id, created = await self._upsert(
                tx, shop["id"], order, fingerprint, customer_hash, derived
            )
            if order_id is None:  # the stored copy is newer: an out-of-order delivery
                existing = await self.order_by_external_tx(tx, shop["id"], order.external_id)
                await tx.execute(
                    "UPDATE deliveries SET outcome = 'stale' "
                    "WHERE shop_id = ? AND delivery_key = ?",
                    (shop["id"], delivery.keys[0][:300]),
                )
                await self._recompute_net(tx, existing["id"])
                await self.after_order_change(tx, existing["id"])  # type: ignore[attr-defined]
                return {"status": "stale", "order_id": existing["id"]}
            await insert_touches(tx, order_id, marked, replace=not created)
            await self.after_order_change(tx, order_id, new=created)  # type: ignore[attr-defined]
            return {
                "status": "created" if created else "updated",
                "order_id": order_id,
                "explanation": why,
            }

        return await self._grouped(job, f"{shop['id']}|{order.external_id}")

    async def _deleted_before(self, tx: Conn, shop_id: str, order: Order) -> None:
        """A deletion received before this copy of the order was last modified (WooCommerce
        may deliver order.deleted before order.created): the order is cancelled, as the
        deletion left it. A copy modified after it (restored from the bin) stands."""
        row = await tx.fetch_one(
            "SELECT MAX(received_at) AS at FROM deliveries "
            "WHERE shop_id = ? AND order_external_id = ? AND outcome = 'cancelled'",
            (shop_id, order.external_id),
        )
        if row and row["at"] and order.updated_at <= row["at"] and order.status != "cancelled":
            order.status, order.cancelled_at = "cancelled", row["at"]

    async def _grouped(
        self, job: Callable[[Conn], Awaitable[dict[str, Any]]], key: str | None = None
    ) -> dict[str, Any]:
        """Run a delivery's writes in the shared group commit (``key``: the order, so its
        deliveries share a lane); a replay changes nothing."""
        try:
            result: dict[str, Any] = await self.writes.run(job, key)
        except _Replay:
            return {"status": "duplicate"}
        return result

    async def _upsert(
        self,
        tx: Conn,
        shop_id: str,
        o: Order,
        fingerprint: Fingerprint | None,
        customer_hash: str | None,
        derived: dict[str, Any],
    ) -> tuple[str | None, bool]:
        """Insert, or update unless the stored copy is newer; safe against a concurrent node.

        Returns (order id, created); (None, False) when the stored copy is newer.
        """
        now = clock.now_iso()
        fields = {**_order_fields(o, fingerprint, customer_hash, now), **derived}
        row = {
            "id": ids.new_id("or"),
            "shop_id": shop_id,
            "external_id": o.external_id,
            "placed_at": o.placed_at,
            "created_at": now,
            # ingest_order stores its credit below, in this transaction: marked at insert,
            # the row is not written again for it (migration 0091)
            "credit_stored": 1,
            **fields,
        }
        inserted = await tx.execute(
            f"INSERT INTO orders ({', '.join(row)}) VALUES ({', '.join('?' for _ in row)}) "
            "ON CONFLICT (shop_id, external_id) DO NOTHING",
            tuple(row.values()),
        )
        if inserted:
            return str(row["id"]), True
        sets = ", ".join(f"{k} = ?" for k in fields)
        # The guard is re-checked under the row lock, so an older delivery never wins a race.
        updated = await tx.execute(
            f"UPDATE orders SET {sets} WHERE shop_id = ? AND external_id = ? "
            "AND source_updated_at <= ?",
            (*fields.values(), shop_id, o.external_id, o.updated_at),
        )
        if not updated:
            return None, False
        existing = await self.order_by_external_tx(tx, shop_id, o.external_id)
        return str(existing["id"]), False

    async def order_by_external_tx(self, tx: Conn, shop_id: str, external_id: str) -> Row:
        row = await tx.fetch_one(
            "SELECT id, source_updated_at FROM orders WHERE shop_id = ? AND external_id = ?",
            (shop_id, external_id),
        )
        assert row is not None
        return row

    async def _merge_refunds(
        self, tx: Conn, shop_id: str, order_ext: str, refunds: list[Refund], currency: str | None
    ) -> None:
        for r in refunds:
            await tx.execute(
                "INSERT INTO refunds (shop_id, order_external_id, external_id, amount_minor, "
                "currency, refunded_at) VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (shop_id, order_external_id, external_id) DO NOTHING",
                (shop_id, order_ext, r.external_id[:64], r.amount_minor, currency or "", r.at),
            )

    async def _refunded(self, tx: Conn, shop_id: str, order_ext: str) -> int:
        row = await tx.fetch_one(
            f"SELECT {money_sum(self.db.dialect, 'amount_minor')} AS refunded FROM refunds "
            "WHERE shop_id = ? AND order_external_id = ?",
            (shop_id, order_ext),
        )
        return int(row["refunded"]) if row else 0

    async def _recompute_net(self, tx: Conn, order_id: str) -> None:
        """Store refunded and net revenue (the rule: ``tracker.orders.net``)."""
        o = await tx.fetch_one(
            "SELECT o.total_minor, o.current_total_minor, o.status, "
            f"{money_sum(self.db.dialect, 'r.amount_minor')} AS refunded FROM orders o "
            "LEFT JOIN refunds r ON r.shop_id = o.shop_id AND r.order_external_id = o.external_id "
            "WHERE o.id = ? GROUP BY o.id, o.total_minor, o.current_total_minor, o.status",
            (order_id,),
        )
        if o is None:
            return
        current = None if o["current_total_minor"] is None else int(o["current_total_minor"])
        fields = _net_fields_of(int(o["total_minor"]), current, int(o["refunded"]), o["status"])
        await tx.execute(
            "UPDATE orders SET refunded_minor = ?, net_minor = ?, counted = ? WHERE id = ?",
            (*fields.values(), order_id),
        )

    async def ingest_refunds(
        self, shop: Row, order_ext: str, refunds: list[Refund], delivery: Delivery
    ) -> dict[str, Any]:
        async def job(tx: Conn) -> dict[str, Any]:
            await self._claim(tx, shop["id"], delivery, order_ext, "refund")
            order = await tx.fetch_one(
                "SELECT id, currency FROM orders WHERE shop_id = ? AND external_id = ?",
                (shop["id"], order_ext),
            )
            await self._merge_refunds(
                tx, shop["id"], order_ext, refunds, order["currency"] if order else None
            )
            if order:
                await self._recompute_net(tx, order["id"])
                await self.after_order_change(tx, order["id"])  # type: ignore[attr-defined]
            return {"status": "refund recorded", "order_id": order["id"] if order else None}

        return await self._grouped(job, f"{shop['id']}|{order_ext}")

    async def cancel_order(self, shop: Row, order_ext: str, delivery: Delivery) -> dict[str, Any]:
        async def job(tx: Conn) -> dict[str, Any]:
            await self._claim(tx, shop["id"], delivery, order_ext, "cancelled")
            order = await tx.fetch_one(
                "SELECT id FROM orders WHERE shop_id = ? AND external_id = ?",
                (shop["id"], order_ext),
            )
            if order:
                await tx.execute(
                    "UPDATE orders SET status = 'cancelled', cancelled_at = ?, updated_at = ? "
                    "WHERE id = ?",
                    (clock.now_iso(), clock.now_iso(), order["id"]),
                )
                await self._recompute_net(tx, order["id"])
                await self.after_order_change(tx, order["id"])  # type: ignore[attr-defined]
            return {"status": "cancelled", "order_id": order["id"] if order else None}

        return await self._grouped(job, f"{shop['id']}|{order_ext}")

    # -- privacy ------------------------------------------------------------------------------
    async def redact(
        self,
        shop: Row,
        delivery: Delivery,
        *,
        customer_hash: str | None,
        order_external_ids: list[str],
        whole_shop: bool,
    ) -> dict[str, Any]:
        """Forget a customer's (or a whole shop's) hashes and raw bodies; keep the money."""

        async def job(tx: Conn) -> dict[str, Any]:
            await self._claim(tx, shop["id"], delivery, None, "redact", keep_body=False)
            if whole_shop:
                n = await tx.execute(
                    f"UPDATE orders SET {_FORGET} WHERE shop_id = ?",
                    (shop["id"],),
                )
                await tx.execute(  # the stored credit's copy of the customer (credits.py)
                    "UPDATE order_credits SET customer_hash = NULL WHERE order_id IN "
                    "(SELECT id FROM orders WHERE shop_id = ?)",
                    (shop["id"],),
                )
                await tx.execute(
                    "UPDATE deliveries SET body = NULL WHERE shop_id = ?", (shop["id"],)
                )
                return {"status": "redacted", "orders": n}
            exts = set(order_external_ids)
            if customer_hash:
                rows = await tx.fetch_all(
                    "SELECT external_id FROM orders WHERE shop_id = ? AND customer_hash = ?",
                    (shop["id"], customer_hash),
                )
                exts |= {r["external_id"] for r in rows}
            for ext in exts:
                await tx.execute(
                    f"UPDATE orders SET {_FORGET} WHERE shop_id = ? AND external_id = ?",
                    (shop["id"], ext),
                )
                await tx.execute(
                    "UPDATE order_credits SET customer_hash = NULL WHERE order_id IN "
                    "(SELECT id FROM orders WHERE shop_id = ? AND external_id = ?)",
                    (shop["id"], ext),
                )
                await tx.execute(
                    "UPDATE deliveries SET body = NULL WHERE shop_id = ? AND order_external_id = ?",
                    (shop["id"], ext),
                )
            return {"status": "redacted", "orders": len(exts)}

        return await self._grouped(job)

    async def customer_orders(
        self, shop_id: str, customer_hash: str | None, order_external_ids: list[str]
    ) -> list[Row]:
        rows = await self.db.fetch_all(
            "SELECT external_id, placed_at, currency, total_minor, net_minor, status FROM orders "
            "WHERE shop_id = ? AND customer_hash = ?",
            (shop_id, customer_hash or "-"),
        )
        for ext in order_external_ids:
            rows += await self.db.fetch_all(
                "SELECT external_id, placed_at, currency, total_minor, net_minor, status FROM orders "
                "WHERE shop_id = ? AND external_id = ?",
                (shop_id, ext),
            )
        return rows

    # -- reads --------------------------------------------------------------------------------
    async def get_order(self, ref: str) -> Row | None:
        return await self.db.fetch_one(
            "SELECT o.*, s.slug AS shop FROM orders o JOIN shops s ON s.id = o.shop_id "
            "WHERE o.id = ?",
            (ref,),
        )

    async def order_by_external(self, shop_id: str, external_id: str) -> Row | None:
        return await self.db.fetch_one(
            "SELECT * FROM orders WHERE shop_id = ? AND external_id = ?", (shop_id, external_id)
        )

    async def order_touches(self, order_id: str) -> list[Row]:
        return await self.db.fetch_all(
            "SELECT t.*, c.handle AS creator_handle FROM touches t "
            "LEFT JOIN creators c ON c.id = t.creator_id WHERE t.order_id = ? ORDER BY t.at, t.id",
            (order_id,),
        )

    async def order_refunds(self, shop_id: str, external_id: str) -> list[Row]:
        return await self.db.fetch_all(
            "SELECT external_id, amount_minor, currency, refunded_at FROM refunds "
            "WHERE shop_id = ? AND order_external_id = ? ORDER BY refunded_at",
            (shop_id, external_id),
        )

    async def list_orders(
        self,
        *,
        shop_id: str | None = None,
        creator_id: str | None = None,
        unattributed: bool = False,
        placed_from: str | None = None,
        placed_before: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[Row]:
        """Orders newest first. ``placed_from`` / ``placed_before``: placed in [from, before)
        (UTC ISO); with ``creator_id`` the read walks ``orders_creator (creator_id,
        placed_at)`` backwards and stops at ``limit``, whatever the creator's history."""
        where, params = ["1 = 1"], []
        if shop_id:
            where.append("o.shop_id = ?")
            params.append(shop_id)
        if creator_id:
            where.append("o.creator_id = ?")
            params.append(creator_id)
        if unattributed:
            where.append("o.creator_id IS NULL")
        if placed_from:
            where.append("o.placed_at >= ?")
            params.append(placed_from)
        if placed_before:
            where.append("o.placed_at < ?")
            params.append(placed_before)
        return await self.db.fetch_all(
            "SELECT o.id, s.slug AS shop, o.external_id, o.order_number, o.placed_at, o.currency, "
            "o.total_minor, o.refunded_minor, o.net_minor, o.status, o.counted, o.creator_id, "
            "o.method, o.new_customer FROM orders o JOIN shops s ON s.id = o.shop_id "
            f"WHERE {' AND '.join(where)} ORDER BY o.placed_at DESC, o.id LIMIT ? OFFSET ?",
            (*params, limit, offset),
        )

    async def recent_deliveries(self, shop_id: str, limit: int = 50) -> list[Row]:
        return await self.db.fetch_all(
            "SELECT delivery_key, source, topic, order_external_id, outcome, received_at "
            "FROM deliveries WHERE shop_id = ? ORDER BY received_at DESC LIMIT ?",
            (shop_id, limit),
        )


def _net_fields_of(total: int, current: int | None, refunded: int, status: str) -> dict[str, Any]:
    """The order's refunded, net and counted columns (the rule: ``tracker.orders.net``)."""
    net = net_minor(total, current, refunded, status)
    return {
        "refunded_minor": refunded,
        "net_minor": net,
        "counted": int(counts(total, net, status)),
    }


def _net_fields(o: Order, refunded: int) -> dict[str, Any]:
    return _net_fields_of(o.total_minor, o.current_total_minor, refunded, o.status)


def _winner_fields(touches: list[Touch], why: str, found: Found) -> dict[str, Any]:
    """The order's winner, explanation and fingerprint check (``choose_winner``'s result)."""
    winner = next((t for t in touches if t.winner), None)
    return {
        "creator_id": winner.creator_id if winner else None,
        "method": winner.method if winner else None,
        "explanation": why[:2000],
        "fp_check": found.fp_check,
        "fp_check_confidence": found.fp_check_confidence,
    }


async def insert_touches(tx: Conn, order_id: str, touches: list[Touch], replace: bool) -> None:
    """Write an order's touches (``replace``: its earlier ones go first)."""
    if replace:
        await tx.execute("DELETE FROM touches WHERE order_id = ?", (order_id,))
    rows = [
        (
            ids.new_id("tc"),
            order_id,
            t.method,
            t.creator_id,
            t.link_id,
            t.campaign_id,
            t.code,
            t.click_id,
            t.at,
            int(t.matched),
            int(t.winner),
            t.note,
            t.confidence,
        )
        for t in touches
    ]
    for i in range(0, len(rows), _CHUNK):  # one statement for the usual one or two
        part = rows[i : i + _CHUNK]
        await tx.execute(
            "INSERT INTO touches (id, order_id, method, creator_id, link_id, campaign_id, code, "
            "click_id, at, matched, winner, note, confidence) VALUES "
            + ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"] * len(part)),
            tuple(v for row in part for v in row),
        )


async def store_touches(
    tx: Conn, order_id: str, touches: list[Touch], why: str, found: Found
) -> None:
    """Replace an order's touches and record its winner, explanation and fingerprint check
    (a re-match or triage of a stored order; the ingest writes them with the order)."""
    await insert_touches(tx, order_id, touches, replace=True)
    fields = _winner_fields(touches, why, found)
    await tx.execute(
        f"UPDATE orders SET {', '.join(f'{k} = ?' for k in fields)} WHERE id = ?",
        (*fields.values(), order_id),
    )
