"""Fraud flags (SQL only): detection inside the ingest transaction, holds, reviews."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from tracker.core import clock, ids
from tracker.core.errors import Conflict, NotFound
from tracker.fraud import rules
from tracker.store.base import StoreBase
from tracker.store.engine import Conn, Row


def _shift(at: str, **delta: float) -> str:
    return clock.to_iso(clock.parse(at) + timedelta(**delta))


class FraudQueries(StoreBase):
    fraud_policy: rules.Policy = rules.Policy()

    async def detect_fraud(self, tx: Conn, o: Row) -> None:
        """Flag a newly credited order (called by ``after_order_change``)."""
        creator = o["creator_id"]
        if not creator:
            return
        p = self.fraud_policy
        extra = await tx.fetch_one(
            "SELECT customer_hash, fingerprint FROM orders WHERE id = ?", (o["id"],)
        )
        chash = extra["customer_hash"] if extra else None
        fp = extra["fingerprint"] if extra else None
        handle = o["creator_handle"] or creator
        if chash:
            own = await tx.fetch_one(
                "SELECT created_at FROM creator_identities WHERE customer_hash = ? "
                "AND creator_id = ?",
                (chash, creator),
            )
            if own:
                await self._flag(
                    tx, o, "self_referral", rules.self_referral(handle, own["created_at"])
                )
        if p.velocity_orders:
            lo, hi = (
                _shift(o["placed_at"], hours=-p.velocity_hours),
                _shift(o["placed_at"], hours=p.velocity_hours),
            )
            for column, value, what in (
                ("fingerprint", fp, "device/network fingerprint"),
                ("customer_hash", chash, "customer"),
            ):
                if not value:
                    continue
                rows = await tx.fetch_all(
                    f"SELECT id, external_id FROM orders WHERE {column} = ? AND creator_id = ? "
                    "AND placed_at >= ? AND placed_at <= ? ORDER BY placed_at LIMIT 50",
                    (value, creator, lo, hi),
                )
                if len(rows) >= p.velocity_orders:
                    ev = rules.velocity(
                        handle, what, [r["external_id"] for r in rows], p.velocity_hours
                    )
                    for r in rows:  # every order of the burst, not only the one that crossed
                        await self._flag(tx, {"id": r["id"], "creator_id": creator}, "velocity", ev)
                    break
        if chash and p.duplicate_days:
            lo = _shift(o["placed_at"], days=-p.duplicate_days)
            hi = _shift(o["placed_at"], days=p.duplicate_days)
            others = await tx.fetch_all(
                "SELECT DISTINCT c.handle FROM orders x JOIN creators c ON c.id = x.creator_id "
                "WHERE x.customer_hash = ? AND x.creator_id <> ? AND x.placed_at >= ? "
                "AND x.placed_at <= ? ORDER BY c.handle LIMIT 20",
                (chash, creator, lo, hi),
            )
            if others:
                ev = rules.duplicate_customer([r["handle"] for r in others], p.duplicate_days)
                await self._flag(tx, o, "duplicate_customer", ev)

    async def _flag(self, tx: Conn, o: Row, kind: str, evidence: dict[str, Any]) -> None:
        await tx.execute(
            "INSERT INTO fraud_flags (id, order_id, creator_id, kind, evidence, status, "
            "created_at) VALUES (?, ?, ?, ?, ?, 'open', ?) ON CONFLICT (order_id, kind) DO NOTHING",
            (
                ids.new_id("ff"),
                o["id"],
                o["creator_id"],
                kind,
                json.dumps(evidence),
                clock.now_iso(),
            ),
        )

    async def order_held(self, tx: Conn, order_id: str) -> bool:
        """An open or confirmed flag keeps the order's commission out of approval."""
        row = await tx.fetch_one(
            "SELECT 1 AS held FROM fraud_flags WHERE order_id = ? AND status IN ('open', 'confirmed') "
            "LIMIT 1",
            (order_id,),
        )
        return row is not None

    async def fraud_confirmed(self, tx: Conn, order_id: str, creator_id: str) -> bool:
        row = await tx.fetch_one(
            "SELECT 1 AS yes FROM fraud_flags WHERE order_id = ? AND creator_id = ? "
            "AND status = 'confirmed' LIMIT 1",
            (order_id, creator_id),
        )
        return row is not None

    async def review_flag(self, flag_id: str, decision: str, note: str) -> Row:
        """Clear or confirm an open flag; a confirmation voids the order's commission for that
        creator (reversing entries, ``commission.reversed`` after approval)."""

        async def job(tx: Conn) -> Row:
            flag = await tx.fetch_one("SELECT * FROM fraud_flags WHERE id = ?", (flag_id,))
            if flag is None:
                raise NotFound("no such flag")
            # lock the order first, as the ingest and the approval do
            await tx.execute(
                "UPDATE orders SET net_minor = net_minor WHERE id = ?", (flag["order_id"],)
            )
            n = await tx.execute(
                "UPDATE fraud_flags SET status = ?, note = ?, reviewed_at = ? "
                "WHERE id = ? AND status = 'open'",
                (rules.DECISIONS[decision], note, clock.now_iso(), flag_id),
            )
            if not n:
                raise Conflict(f"flag already {flag['status']}")
            if decision == "confirm":
                o = await self.order_snapshot(tx, flag["order_id"])  # type: ignore[attr-defined]
                if o is not None:
                    await self.sync_commission(tx, o, ["fraud confirmed"])  # type: ignore[attr-defined]
            row = await tx.fetch_one("SELECT * FROM fraud_flags WHERE id = ?", (flag_id,))
            assert row is not None
            return row

        result: Row = await self.writes.run(job)
        return result

    async def list_flags(self, status: str | None, limit: int, offset: int) -> list[Row]:
        cond, params = ("WHERE f.status = ? ", [status]) if status else ("", [])
        return await self.db.fetch_all(
            "SELECT f.*, c.handle AS creator_handle, o.external_id AS order_external_id, "
            "o.net_minor, o.currency FROM fraud_flags f "
            "LEFT JOIN creators c ON c.id = f.creator_id LEFT JOIN orders o ON o.id = f.order_id "
            f"{cond}ORDER BY f.created_at DESC, f.id LIMIT ? OFFSET ?",
            (*params, limit, offset),
        )

    async def add_identity(self, creator_id: str, customer_hash: str) -> None:
        await self.db.execute(
            "INSERT INTO creator_identities (creator_id, customer_hash, created_at) "
            "VALUES (?, ?, ?) ON CONFLICT (customer_hash, creator_id) DO NOTHING",
            (creator_id, customer_hash, clock.now_iso()),
        )
