"""Events out: endpoints, the outbox, delivery leases and the delivery log (SQL only).

``after_order_change(tx, order_id)`` is the one call the order ingest makes, inside its own
transaction: it compares the order with what was last published about it, appends the
event (``order.attributed`` / ``order.updated``) to the outbox with one delivery row per
subscribed endpoint, and keeps the commissions ledger in step (``store/commissions.py``).
So an event exists if and only if the change it describes committed.

Delivery rows are claimed with a lease (``lease_owner``, ``lease_until``): the claim is one
conditional UPDATE, on PostgreSQL over rows picked ``FOR UPDATE SKIP LOCKED``, so several
nodes never work on the same delivery at once; a lease that ran out (a node killed
mid-delivery) is claimed again. Only the lowest pending ``seq`` of a subject (an order) is
claimable per endpoint, so a receiver sees an order's events in the order they happened.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from tracker.core import clock, ids
from tracker.core.errors import NotFound
from tracker.events import payloads
from tracker.store.base import StoreBase
from tracker.store.engine import Conn, Row

#: The order as events, the ledger and the fraud rules see it, with what was last published
#: about it (``prev_*``), whether its creator is one of the customer's own identities and
#: whether fraud was confirmed: one statement, the ingest pays for every order.
_ORDER_SNAPSHOT = (
    "SELECT o.id, s.slug AS shop, o.external_id, o.order_number, o.placed_at, o.currency, "
    "o.total_minor, o.refunded_minor, o.net_minor, o.status, o.creator_id, "
    "c.handle AS creator_handle, c.followers AS creator_followers, o.method, o.customer_hash, "
    "o.fingerprint, o.referring_site, o.codes, "
    "(SELECT COUNT(*) FROM touches t WHERE t.order_id = o.id AND t.creator_id = o.creator_id "
    "AND t.method <> 'code') AS click_touches, "
    "(SELECT t.campaign_id FROM touches t WHERE t.order_id = o.id AND t.winner = 1 "
    "LIMIT 1) AS campaign_id, "
    "(SELECT MIN(i.created_at) FROM creator_identities i WHERE i.customer_hash = "
    "o.customer_hash AND i.creator_id = o.creator_id) AS own_identity_at, "
    "(SELECT COUNT(*) FROM fraud_flags f WHERE f.order_id = o.id AND f.creator_id = "
    "o.creator_id AND f.status = 'confirmed') AS fraud_confirmed, "
    "p.order_id AS prev_order_id, p.creator_id AS prev_creator_id, p.status AS prev_status, "
    "p.net_minor AS prev_net_minor, p.refunded_minor AS prev_refunded_minor "
    "FROM orders o JOIN shops s ON s.id = o.shop_id "
    "LEFT JOIN creators c ON c.id = o.creator_id "
    "LEFT JOIN order_published p ON p.order_id = o.id WHERE o.id = ?"
)
_PREV = ("creator_id", "status", "net_minor", "refunded_minor")


@dataclass(frozen=True)
class Outcome:
    """One delivery attempt's result: an empty ``error`` means delivered."""

    status_code: int | None
    error: str
    duration_ms: int
    next_attempt_at: str | None  # after a failure: when to try again (None: give up)


class EventQueries(StoreBase):
    # -- endpoints ----------------------------------------------------------------------------
    async def create_endpoint(self, fields: dict[str, Any]) -> Row:
        now = clock.now_iso()
        row = {"id": ids.new_id("we"), **fields, "created_at": now, "updated_at": now}
        await self._insert("webhook_endpoints", row, "endpoint")
        return await self.get_endpoint(str(row["id"]))

    async def get_endpoint(self, ref: str) -> Row:
        return await self._get("webhook_endpoints", ref, "endpoint")

    async def list_endpoints(self, limit: int = 100, offset: int = 0) -> list[Row]:
        return await self.db.fetch_all(
            "SELECT * FROM webhook_endpoints ORDER BY created_at, id LIMIT ? OFFSET ?",
            (limit, offset),
        )

    async def update_endpoint(self, ref: str, fields: dict[str, Any]) -> Row:
        if fields.get("status") == "active":  # enabling starts a fresh failure count
            fields = {**fields, "failures": 0, "disabled_reason": ""}
        return await self._update("webhook_endpoints", ref, fields, "endpoint")

    async def delete_endpoint(self, ref: str) -> None:
        async with self.db.transaction() as tx:
            await tx.execute("DELETE FROM event_attempts WHERE endpoint_id = ?", (ref,))
            await tx.execute("DELETE FROM event_deliveries WHERE endpoint_id = ?", (ref,))
            if not await tx.execute("DELETE FROM webhook_endpoints WHERE id = ?", (ref,)):
                raise NotFound("no such endpoint")

    # -- the outbox ---------------------------------------------------------------------------
    async def append_event(
        self, tx: Conn, event_type: str, subject: str, data: dict[str, Any]
    ) -> str:
        """Append an event and its deliveries inside the caller's transaction."""
        now = clock.now_iso()
        event_id = ids.new_id("evt")
        body = json.dumps(payloads.envelope(event_type, data, now), separators=(",", ":"))
        row = await tx.fetch_one(  # the subject's next seq, in the same statement
            "INSERT INTO events (id, type, subject, seq, payload, created_at) "
            "SELECT ?, ?, ?, COALESCE(MAX(seq), 0) + 1, ?, ? FROM events WHERE subject = ? "
            "RETURNING seq",
            (event_id, event_type, subject, body, now, subject),
        )
        assert row is not None
        seq = int(row["seq"])
        for ep in await tx.fetch_all(
            "SELECT id, event_types FROM webhook_endpoints"  # a disabled one queues too
        ):
            wanted = json.loads(ep["event_types"])
            if wanted and event_type not in wanted:
                continue
            await self._add_delivery(tx, event_id, ep["id"], subject, seq, now)
        return event_id

    async def append_event_once(
        self, event_type: str, subject: str, data: dict[str, Any], since: str
    ) -> bool:
        """Append unless the subject already had an event of this type since ``since``."""

        async def job(tx: Conn) -> bool:
            seen = await tx.fetch_one(
                "SELECT 1 AS seen FROM events WHERE subject = ? AND type = ? AND created_at >= ? "
                "LIMIT 1",
                (subject, event_type, since),
            )
            if seen:
                return False
            await self.append_event(tx, event_type, subject, data)
            return True

        done: bool = await self.writes.run(job)
        return done

    async def _add_delivery(
        self, tx: Conn, event_id: str, endpoint_id: str, subject: str, seq: int, now: str
    ) -> None:
        await tx.execute(
            "INSERT INTO event_deliveries (id, event_id, endpoint_id, subject, seq, status, "
            "next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, 'pending', ?, ?) "
            "ON CONFLICT (event_id, endpoint_id) DO NOTHING",
            (ids.new_id("ed"), event_id, endpoint_id, subject, seq, now, now),
        )

    async def after_order_change(self, tx: Conn, order_id: str, *, new: bool = False) -> None:
        """The ingest's hook (see the module docstring): events and ledger, same transaction
        (``new``: the order row was inserted by this transaction, so nothing is stored
        about it yet)."""
        o = await tx.fetch_one(_ORDER_SNAPSHOT, (order_id,))
        if o is None:
            return
        prev = {k: o[f"prev_{k}"] for k in _PREV} if o["prev_order_id"] else None
        event_type, reasons = payloads.order_change(prev, o)
        if event_type is not None:
            await self.append_event(
                tx, event_type, f"order:{order_id}", payloads.order_event(o, prev, reasons)
            )
        if o["creator_id"] and (prev is None or prev["creator_id"] != o["creator_id"]):
            await self.detect_fraud(tx, o)  # type: ignore[attr-defined]
        await self.sync_commission(tx, o, reasons, fresh=prev is None)  # type: ignore[attr-defined]
        await self.store_order_credits(tx, order_id, new=new)  # type: ignore[attr-defined]
        state = (o["creator_id"], o["status"], int(o["net_minor"]), int(o["refunded_minor"]))
        if prev is None:
            await tx.execute(
                "INSERT INTO order_published (order_id, creator_id, status, net_minor, "
                "refunded_minor) VALUES (?, ?, ?, ?, ?)",
                (order_id, *state),
            )
        elif (
            prev["creator_id"],
            prev["status"],
            int(prev["net_minor"]),
            int(prev["refunded_minor"]),
        ) != state:
            await tx.execute(
                "UPDATE order_published SET creator_id = ?, status = ?, net_minor = ?, "
                "refunded_minor = ? WHERE order_id = ?",
                (*state, order_id),
            )

    async def order_snapshot(self, tx: Conn, order_id: str) -> Row | None:
        return await tx.fetch_one(_ORDER_SNAPSHOT, (order_id,))

    # -- delivery -----------------------------------------------------------------------------
    async def claim_deliveries(
        self, node: str, now: str, lease_until: str, limit: int
    ) -> list[Row]:
        """Lease up to ``limit`` due deliveries to ``node``; return them with their event and
        endpoint. Never two nodes on one delivery; never an order's later event first."""
        lock = " FOR UPDATE OF d SKIP LOCKED" if self.db.dialect == "postgres" else ""
        async with self.db.transaction() as tx:
            claimed = await tx.fetch_all(
                "UPDATE event_deliveries SET lease_owner = ?, lease_until = ? WHERE id IN ("
                "SELECT d.id FROM event_deliveries d "
                "JOIN webhook_endpoints e ON e.id = d.endpoint_id "
                "WHERE d.status = 'pending' AND d.next_attempt_at <= ? AND e.status = 'active' "
                "AND (d.lease_until IS NULL OR d.lease_until < ?) "
                "AND NOT EXISTS (SELECT 1 FROM event_deliveries p WHERE "
                "p.endpoint_id = d.endpoint_id AND p.subject = d.subject AND p.seq < d.seq "
                "AND p.status = 'pending') "
                f"ORDER BY d.next_attempt_at, d.seq LIMIT ?{lock}) "
                "AND (lease_until IS NULL OR lease_until < ?) RETURNING id",
                (node, lease_until, now, now, limit, now),
            )
            out: list[Row] = []
            for c in claimed:
                row = await tx.fetch_one(
                    "SELECT d.id, d.event_id, d.endpoint_id, d.attempts, e.url, e.secret, "
                    "v.payload, v.type FROM event_deliveries d "
                    "JOIN webhook_endpoints e ON e.id = d.endpoint_id "
                    "JOIN events v ON v.id = d.event_id WHERE d.id = ?",
                    (c["id"],),
                )
                if row is not None:
                    out.append(row)
        return out

    async def finish_delivery(self, d: Row, node: str, out: Outcome, disable_after: int) -> None:
        """Log the attempt; mark delivered, schedule the next attempt, or give up
        (``next_attempt_at`` None after a failure); count failures and disable the endpoint
        after ``disable_after`` in a row (0: never). Only the lease holder's update lands."""
        now = clock.now_iso()
        attempt = int(d["attempts"]) + 1
        async with self.db.transaction() as tx:
            await tx.execute(
                "INSERT INTO event_attempts (id, delivery_id, endpoint_id, event_id, attempt, at, "
                "node, status_code, error, duration_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    ids.new_id("ea"),
                    d["id"],
                    d["endpoint_id"],
                    d["event_id"],
                    attempt,
                    now,
                    node,
                    out.status_code,
                    out.error[:500],
                    out.duration_ms,
                ),
            )
            if not out.error:
                await tx.execute(
                    "UPDATE event_deliveries SET status = 'delivered', attempts = ?, "
                    "delivered_at = ?, last_status_code = ?, last_error = '', lease_owner = NULL, "
                    "lease_until = NULL WHERE id = ? AND lease_owner = ?",
                    (attempt, now, out.status_code, d["id"], node),
                )
                await tx.execute(
                    "UPDATE webhook_endpoints SET failures = 0 WHERE id = ? AND failures <> 0",
                    (d["endpoint_id"],),
                )
            else:
                await self._failed(tx, d, node, attempt, out, disable_after)

    async def _failed(
        self, tx: Conn, d: Row, node: str, attempt: int, out: Outcome, disable_after: int
    ) -> None:
        now = clock.now_iso()
        await tx.execute(
            "UPDATE event_deliveries SET status = ?, attempts = ?, next_attempt_at = ?, "
            "last_status_code = ?, last_error = ?, lease_owner = NULL, lease_until = NULL "
            "WHERE id = ? AND lease_owner = ?",
            (
                "pending" if out.next_attempt_at else "failed",
                attempt,
                out.next_attempt_at or now,
                out.status_code,
                out.error[:500],
                d["id"],
                node,
            ),
        )
        await tx.execute(
            "UPDATE webhook_endpoints SET failures = failures + 1 WHERE id = ?",
            (d["endpoint_id"],),
        )
        if disable_after:
            await tx.execute(
                "UPDATE webhook_endpoints SET status = 'disabled', disabled_reason = ?, "
                "updated_at = ? WHERE id = ? AND status = 'active' AND failures >= ?",
                (
                    f"disabled after {disable_after} failed attempts in a row",
                    now,
                    d["endpoint_id"],
                    disable_after,
                ),
            )

    # -- the delivery log, replay ---------------------------------------------------------------
    async def endpoint_deliveries(
        self, endpoint_id: str, *, status: str | None, limit: int, offset: int
    ) -> list[Row]:
        cond = "AND d.status = ? " if status else ""
        params: tuple[Any, ...] = (endpoint_id, status) if status else (endpoint_id,)
        return await self.db.fetch_all(
            "SELECT d.id, d.event_id, v.type, d.subject, d.seq, d.status, d.attempts, "
            "d.next_attempt_at, d.last_status_code, d.last_error, d.delivered_at, d.created_at "
            "FROM event_deliveries d JOIN events v ON v.id = d.event_id "
            f"WHERE d.endpoint_id = ? {cond}ORDER BY d.created_at DESC, d.seq DESC "
            "LIMIT ? OFFSET ?",
            (*params, limit, offset),
        )

    async def endpoint_attempts(self, endpoint_id: str, limit: int, offset: int) -> list[Row]:
        return await self.db.fetch_all(
            "SELECT a.delivery_id, a.event_id, v.type, a.attempt, a.at, a.node, a.status_code, "
            "a.error, a.duration_ms FROM event_attempts a JOIN events v ON v.id = a.event_id "
            "WHERE a.endpoint_id = ? ORDER BY a.at DESC, a.attempt DESC LIMIT ? OFFSET ?",
            (endpoint_id, limit, offset),
        )

    async def replay(self, endpoint_id: str, event_id: str | None) -> int:
        """Send an event (or, with None, every failed delivery) to the endpoint again, at
        once and with a fresh attempt budget; an event it never had is added. Returns the
        deliveries queued."""
        now = clock.now_iso()
        async with self.db.transaction() as tx:
            if not await tx.fetch_one(
                "SELECT id FROM webhook_endpoints WHERE id = ?", (endpoint_id,)
            ):
                raise NotFound("no such endpoint")
            if event_id is None:
                return await tx.execute(
                    "UPDATE event_deliveries SET status = 'pending', attempts = 0, "
                    "next_attempt_at = ?, lease_owner = NULL, lease_until = NULL "
                    "WHERE endpoint_id = ? AND status = 'failed'",
                    (now, endpoint_id),
                )
            ev = await tx.fetch_one("SELECT id, subject, seq FROM events WHERE id = ?", (event_id,))
            if ev is None:
                raise NotFound("no such event")
            await self._add_delivery(tx, ev["id"], endpoint_id, ev["subject"], ev["seq"], now)
            return await tx.execute(
                "UPDATE event_deliveries SET status = 'pending', attempts = 0, "
                "next_attempt_at = ?, lease_owner = NULL, lease_until = NULL "
                "WHERE endpoint_id = ? AND event_id = ?",
                (now, endpoint_id, event_id),
            )

    # -- reads, retention -----------------------------------------------------------------------
    async def list_events(
        self, *, event_type: str | None, subject: str | None, limit: int, offset: int
    ) -> list[Row]:
        where, params = ["1 = 1"], []
        if event_type:
            where.append("type = ?")
            params.append(event_type)
        if subject:
            where.append("subject = ?")
            params.append(subject)
        return await self.db.fetch_all(
            "SELECT id, type, subject, seq, payload, created_at FROM events "
            f"WHERE {' AND '.join(where)} ORDER BY created_at DESC, seq DESC, id LIMIT ? OFFSET ?",
            (*params, limit, offset),
        )

    async def get_event(self, event_id: str) -> Row:
        return await self._get("events", event_id, "event")

    async def purge_events(self, cutoff: str) -> int:
        """Erase events older than ``cutoff`` that no endpoint is still waiting for."""
        async with self.db.transaction() as tx:
            old = (  # a disabled endpoint's queue is not kept past the retention period
                "SELECT id FROM events WHERE created_at < ? AND NOT EXISTS (SELECT 1 FROM "
                "event_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id "
                "WHERE d.event_id = events.id AND d.status = 'pending' AND e.status = 'active')"
            )
            await tx.execute(f"DELETE FROM event_attempts WHERE event_id IN ({old})", (cutoff,))
            await tx.execute(f"DELETE FROM event_deliveries WHERE event_id IN ({old})", (cutoff,))
            return await tx.execute(f"DELETE FROM events WHERE id IN ({old})", (cutoff,))
