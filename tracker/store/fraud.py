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


def _window(at: str, delta: timedelta) -> tuple[str, str]:
    t = clock.parse(at)
    return clock.to_iso(t - delta), clock.to_iso(t + delta)


class FraudQueries(StoreBase):
    fraud_policy: rules.Policy = rules.Policy()

    async def detect_fraud(self, tx: Conn, o: Row) -> None:
        """Flag a newly credited order (``o``: ``order_snapshot``'s row)."""
        creator = o["creator_id"]
        if not creator:
            return
        p = self.fraud_policy
        handle = o["creator_handle"] or creator
        if o["own_identity_at"]:
            ev = rules.self_referral(handle, o["own_identity_at"])
            await self._flag(tx, o["id"], creator, "self_referral", ev)
        flagged = False
        if p.velocity_orders and o["fingerprint"]:
            lo, hi = _window(o["placed_at"], timedelta(hours=p.velocity_hours))
            rows = await tx.fetch_all(
                "SELECT id, external_id FROM orders WHERE fingerprint = ? AND creator_id = ? "
                "AND placed_at >= ? AND placed_at <= ? ORDER BY placed_at LIMIT ?",
                (o["fingerprint"], creator, lo, hi, p.velocity_orders + 1),
            )
            flagged = await self._velocity(tx, o, rows, "device/network fingerprint")
        if o["customer_hash"] and (p.duplicate_days or p.velocity_orders):
            await self._customer_rules(tx, o, skip_velocity=flagged)
        if p.far_days and o["method"] == "code":
            await self._far_from_clicks(tx, o)

    async def _far_from_clicks(self, tx: Conn, o: Row) -> None:
        """``far_from_clicks`` (``tracker/fraud/rules.py``) for an order credited by a code:
        at most one index seek (the human clicks of its fingerprint), none when a click id
        or fingerprint touch already ties the shopper to the creator."""
        p, creator = self.fraud_policy, o["creator_id"]
        site = rules.coupon_site(o["referring_site"])
        if int(o["click_touches"] or 0) or not (o["fingerprint"] or site):
            return
        others: list[dict[str, Any]] = []
        if o["fingerprint"]:
            lo = clock.to_iso(clock.parse(o["placed_at"]) - timedelta(days=p.far_days))
            rows = await tx.fetch_all(
                "SELECT k.creator_id, c.handle, COUNT(*) AS clicks, MAX(k.at) AS last_at "
                "FROM clicks k LEFT JOIN creators c ON c.id = k.creator_id "
                "WHERE k.fingerprint = ? AND k.at >= ? AND k.at <= ? AND k.is_bot = 0 "
                "AND k.creator_id IS NOT NULL GROUP BY k.creator_id, c.handle "
                "ORDER BY MAX(k.at) DESC LIMIT 500",
                (o["fingerprint"], lo, o["placed_at"]),
            )
            if any(r["creator_id"] == creator for r in rows):
                return
            others = [
                {"handle": r["handle"], "clicks": int(r["clicks"]), "last_click_at": r["last_at"]}
                for r in rows[:20]
            ]
        codes = sorted({str(c) for c in json.loads(o["codes"] or "[]")})
        handle = o["creator_handle"] or creator
        ev = rules.far_from_clicks(
            handle, codes, p, fingerprint=bool(o["fingerprint"]), others=others, site=site
        )
        if ev is not None:
            await self._flag(tx, o["id"], creator, "far_from_clicks", ev)

    async def _velocity(self, tx: Conn, o: Row, rows: list[Row], what: str) -> bool:
        """The order that reaches the threshold flags the whole burst; each later one flags
        itself (not the burst again: one statement, not fifty)."""
        p = self.fraud_policy
        if len(rows) < p.velocity_orders:
            return False
        handle = o["creator_handle"] or o["creator_id"]
        ev = rules.velocity(handle, what, [r["external_id"] for r in rows], p.velocity_hours)
        burst = rows if len(rows) == p.velocity_orders else [o]
        for r in burst:
            await self._flag(tx, r["id"], o["creator_id"], "velocity", ev)
        return True

    async def _customer_rules(self, tx: Conn, o: Row, *, skip_velocity: bool) -> None:
        """Velocity by customer, and duplicate customer, in one statement; each part is
        bounded (a customer with thousands of orders costs the same as one with two)."""
        p = self.fraud_policy
        velocity = bool(p.velocity_orders) and not skip_velocity
        parts, params = [], []
        if velocity:
            lo, hi = _window(o["placed_at"], timedelta(hours=p.velocity_hours))
            parts.append(
                "SELECT * FROM (SELECT 'velocity' AS part, id, external_id, placed_at, "
                "NULL AS handle FROM orders WHERE customer_hash = ? AND creator_id = ? "
                "AND placed_at >= ? AND placed_at <= ? ORDER BY placed_at LIMIT ?) v"
            )
            params += [o["customer_hash"], o["creator_id"], lo, hi, p.velocity_orders + 1]
        if p.duplicate_days:
            lo, hi = _window(o["placed_at"], timedelta(days=p.duplicate_days))
            parts.append(
                "SELECT * FROM (SELECT 'duplicate' AS part, NULL AS id, NULL AS external_id, "
                "NULL AS placed_at, c.handle FROM orders x "
                "JOIN creators c ON c.id = x.creator_id WHERE x.customer_hash = ? AND x.creator_id <> ? AND x.placed_at >= ? "
                "AND x.placed_at <= ? LIMIT 20) d"
            )
            params += [o["customer_hash"], o["creator_id"], lo, hi]
        if not parts:
            return
        rows = await tx.fetch_all(" UNION ALL ".join(parts), tuple(params))
        if velocity:
            mine = sorted(
                (r for r in rows if r["part"] == "velocity"), key=lambda r: r["placed_at"]
            )
            await self._velocity(tx, o, mine, "customer")
        others = sorted({r["handle"] for r in rows if r["part"] == "duplicate"})
        if others:
            ev = rules.duplicate_customer(others, p.duplicate_days)
            await self._flag(tx, o["id"], o["creator_id"], "duplicate_customer", ev)

    async def _flag(
        self, tx: Conn, order_id: str, creator_id: str, kind: str, evidence: dict[str, Any]
    ) -> None:
        await tx.execute(
            "INSERT INTO fraud_flags (id, order_id, creator_id, kind, evidence, status, "
            "created_at) VALUES (?, ?, ?, ?, ?, 'open', ?) ON CONFLICT (order_id, kind) DO NOTHING",
            (
                ids.new_id("ff"),
                order_id,
                creator_id,
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

    async def list_flags(
        self, status: str | None, limit: int, offset: int, *, kind: str | None = None
    ) -> list[Row]:
        cond, params = self._flag_filter(status, kind)
        return await self.db.fetch_all(
            "SELECT f.*, c.handle AS creator_handle, o.external_id AS order_external_id, "
            "o.net_minor, o.currency FROM fraud_flags f "
            "LEFT JOIN creators c ON c.id = f.creator_id LEFT JOIN orders o ON o.id = f.order_id "
            f"{cond}ORDER BY f.created_at DESC, f.id LIMIT ? OFFSET ?",
            (*params, limit, offset),
        )

    async def count_flags(self, status: str | None, *, kind: str | None = None) -> int:
        cond, params = self._flag_filter(status, kind)
        row = await self.db.fetch_one(f"SELECT COUNT(*) AS n FROM fraud_flags f {cond}", params)
        return int(row["n"]) if row else 0

    @staticmethod
    def _flag_filter(status: str | None, kind: str | None) -> tuple[str, tuple[str, ...]]:
        parts = [(sql, v) for sql, v in (("f.status = ?", status), ("f.kind = ?", kind)) if v]
        if not parts:
            return "", ()
        return "WHERE " + " AND ".join(sql for sql, _ in parts) + " ", tuple(v for _, v in parts)

    async def add_identity(self, creator_id: str, customer_hash: str) -> None:
        await self.db.execute(
            "INSERT INTO creator_identities (creator_id, customer_hash, created_at) "
            "VALUES (?, ?, ?) ON CONFLICT (customer_hash, creator_id) DO NOTHING",
            (creator_id, customer_hash, clock.now_iso()),
        )
