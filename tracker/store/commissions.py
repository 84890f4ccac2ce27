"""Commissions ledger (SQL only): rules, append-only entries, approval, payouts.

``sync_commission`` runs inside the order ingest's transaction (called by
``after_order_change``): it appends the entries that bring each (order, creator, currency)
to the commission on the order's current net revenue. ``approve_order`` moves an order's
pending commission to approved once its refund window has passed, holding the order's row
lock (PostgreSQL) so an ingest of the same order cannot interleave. Entries are never
updated or deleted.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

from tracker.attribution.collab import FULL_BP, split_bp
from tracker.catalogue.creators import DEFAULT_TIERS, Tiers, tier_for
from tracker.commissions.terms import Balance, Terms, pick, summarise
from tracker.core import clock, ids
from tracker.core.errors import Unprocessable
from tracker.events import payloads
from tracker.store.base import LIKE_ESCAPE, StoreBase, like_contains, money_sum
from tracker.store.engine import Conn, Row

_ENTRY_COLUMNS = (
    "id, creator_id, order_id, campaign_id, kind, bucket, amount_minor, currency, "
    "basis_minor, rate_bp, fixed_minor, reason, placed_at, created_at"
)


#: The rules the ledger applies as one table ``r``: the commission rules, then the commission
#: rates entered as costs as the creator rules they are (``_rules_for`` reads the same).
_RULES = (
    "(SELECT id, 'rule' AS source, scope, creator_id, campaign_id, tier, rate_bp, "
    "fixed_minor, currency, effective_from, effective_until, note, created_at "
    "FROM commission_rules UNION ALL "
    "SELECT id, 'cost', 'creator', creator_id, campaign_id, NULL, rate_bp, NULL, NULL, "
    "incurred_on, NULL, note, created_at FROM costs "
    "WHERE kind = 'commission' AND rate_bp IS NOT NULL) r"
)


@dataclass(frozen=True)
class _Line:
    """Whose entry, in which currency, on what terms, for which order."""

    creator_id: str
    currency: str
    terms: Terms | None
    order: Row


class CommissionQueries(StoreBase):
    #: ``TRACKER_TIERS``, for tier rules (``open_store`` sets it from the settings)
    tiers: Tiers = DEFAULT_TIERS

    # -- rules --------------------------------------------------------------------------------
    async def add_commission_rule(self, row: dict[str, Any]) -> Row:
        full = {"id": ids.new_id("crl"), **row, "created_at": clock.now_iso()}
        await self._insert("commission_rules", full, "commission rule")
        return await self._get("commission_rules", str(full["id"]), "commission rule")

    async def end_commission_rule(self, rule_id: str, until: str) -> Row:
        """Set a rule's last day; orders already in the ledger keep their frozen terms."""
        rule = await self._get("commission_rules", rule_id, "commission rule")
        if until < str(rule["effective_from"])[:10]:
            raise Unprocessable(
                f"effective_until: on or after the rule's effective_from ({rule['effective_from']})"
            )
        await self.db.execute(
            "UPDATE commission_rules SET effective_until = ? WHERE id = ?", (until, rule_id)
        )
        return await self._get("commission_rules", rule_id, "commission rule")

    async def list_commission_rules(
        self,
        creator_id: str | None = None,
        *,
        scope: str | None = None,
        q: str = "",
        source: str | None = None,
        limit: int = 1000,
        offset: int = 0,
    ) -> list[Row]:
        """Every rule the ledger applies, with the creator's handle and the campaign's name:
        the commission rules (``source`` 'rule') and the commission rates entered as costs
        (``source`` 'cost': a creator rule from its date, open-ended; its id is the cost's).
        The panel, the API and the CLI list from here. ``creator_id``: the rules that can
        apply to that creator (their own, every campaign and tier rule); ``source``: one
        kind only."""
        where, params = self._rule_filters(creator_id, scope, q, source)
        return await self.db.fetch_all(
            f"SELECT r.*, c.handle AS creator_handle, p.name AS campaign_name FROM {_RULES} "
            "LEFT JOIN creators c ON c.id = r.creator_id "
            f"LEFT JOIN campaigns p ON p.id = r.campaign_id WHERE {where} "
            "ORDER BY r.scope, r.tier, c.handle, p.name, r.effective_from, r.created_at, r.id "
            "LIMIT ? OFFSET ?",
            (*params, limit, offset),
        )

    async def count_commission_rules(
        self,
        creator_id: str | None = None,
        *,
        scope: str | None = None,
        q: str = "",
        source: str | None = None,
    ) -> int:
        where, params = self._rule_filters(creator_id, scope, q, source)
        row = await self.db.fetch_one(
            f"SELECT COUNT(*) AS n FROM {_RULES} LEFT JOIN creators c ON "
            "c.id = r.creator_id LEFT JOIN campaigns p ON p.id = r.campaign_id "
            f"WHERE {where}",
            params,
        )
        return int(row["n"]) if row else 0

    @staticmethod
    def _rule_filters(
        creator_id: str | None, scope: str | None, q: str, source: str | None = None
    ) -> tuple[str, tuple[Any, ...]]:
        where, params = ["1 = 1"], []
        if source:
            where.append("r.source = ?")
            params.append(source)
        if creator_id:
            where.append("(r.creator_id = ? OR r.creator_id IS NULL)")
            params.append(creator_id)
        if scope:
            where.append("r.scope = ?")
            params.append(scope)
        if q:
            like = like_contains(q)
            where.append(
                f"(c.handle LIKE ?{LIKE_ESCAPE} OR p.name LIKE ?{LIKE_ESCAPE} "
                f"OR r.tier LIKE ?{LIKE_ESCAPE} OR r.note LIKE ?{LIKE_ESCAPE})"
            )
            params += [like] * 4
        return " AND ".join(where), tuple(params)

    async def _rules_for(self, tx: Conn, creator_id: str) -> list[Row]:
        """Every rule that can apply to the creator (their own, each campaign and tier rule),
        plus the commission rates kept as costs (``kind=commission``: a creator rule from
        its date on, on its campaign when it names one): one statement."""
        rules = await tx.fetch_all(
            "SELECT scope, creator_id, campaign_id, tier, rate_bp, fixed_minor, currency, "
            "effective_from, effective_until, created_at FROM commission_rules "
            "WHERE creator_id = ? UNION ALL "
            "SELECT scope, creator_id, campaign_id, tier, rate_bp, fixed_minor, currency, "
            "effective_from, effective_until, created_at FROM commission_rules "
            "WHERE creator_id IS NULL UNION ALL "
            "SELECT 'creator', creator_id, campaign_id, NULL, rate_bp, NULL, NULL, incurred_on, "
            "NULL, created_at FROM costs "
            "WHERE creator_id = ? AND kind = 'commission' AND rate_bp IS NOT NULL",
            (creator_id, creator_id),
        )
        return rules

    # -- the ledger, inside the ingest transaction ----------------------------------------------
    async def sync_commission(
        self, tx: Conn, o: Row, reasons: list[str], *, fresh: bool = False
    ) -> None:
        """``o`` is ``order_snapshot``'s row; ``fresh``: the ingest never saw this order
        before, so it has no entries yet (one statement saved per new order)."""
        if fresh and not o["creator_id"]:
            return
        existing = (
            []
            if fresh
            else await tx.fetch_all(
                "SELECT creator_id, currency, kind, bucket, amount_minor, rate_bp, fixed_minor "
                "FROM commission_entries WHERE order_id = ?",
                (o["id"],),
            )
        )
        if not existing and not o["creator_id"]:
            return
        groups, frozen = summarise(existing)
        targets: dict[tuple[str, str], int] = {}
        terms: dict[str, Terms | None] = {}
        creator = o["creator_id"]
        if creator and int(o["fraud_confirmed"] or 0):
            creator = None  # confirmed fraud earns nothing
        for who, net, followers in await self._earners(tx, o, creator):
            t = frozen.get(who)
            if t is None:
                t = pick(
                    await self._rules_for(tx, who),
                    o["campaign_id"],
                    o["placed_at"],
                    creator_id=who,
                    tier=tier_for(followers, self.tiers),
                )
            terms[who] = t
            if t is not None:
                amount, currency = t.earn(net, o["currency"])
                targets[(who, currency)] = targets.get((who, currency), 0) + amount
        reason = ",".join(reasons) or "order change"
        for key in sorted(set(groups) | set(targets)):
            g = groups.get(key, Balance())
            delta = targets.get(key, 0) - g.total
            if delta:
                t = frozen.get(key[0]) or terms.get(key[0])
                await self._apply(tx, _Line(key[0], key[1], t, o), delta, g, key in groups, reason)

    async def _earners(self, tx: Conn, o: Row, creator: str | None) -> list[tuple[str, int, int]]:
        """Who earns on the order, on what part of its net revenue, and their followers (for
        tier rules): the winner on all of it, or, when the winning touch is a collaboration's
        link or code, each member on their basis-point share (split exactly,
        ``attribution.collab.split_bp``)."""
        if not creator:
            return []
        net = int(o["net_minor"])
        members = await tx.fetch_all(
            "SELECT s.creator_id, s.share_bp, cr.followers FROM touches t JOIN collabs co ON "
            "(t.method = 'code' AND co.code_key = LOWER(t.code)) OR "
            "(t.method <> 'code' AND co.link_id = t.link_id) "
            "JOIN collab_shares s ON s.collab_id = co.id "
            "JOIN creators cr ON cr.id = s.creator_id "
            "WHERE t.order_id = ? AND t.winner = 1 AND t.creator_id = ? "
            "ORDER BY s.share_bp DESC, s.creator_id",
            (o["id"], creator),
        )
        if sum(int(m["share_bp"]) for m in members) != FULL_BP:
            return [(creator, net, int(o["creator_followers"] or 0))]
        parts = split_bp(net, [int(m["share_bp"]) for m in members])
        return [
            (m["creator_id"], part, int(m["followers"] or 0))
            for m, part in zip(members, parts, strict=True)
        ]

    async def _apply(
        self, tx: Conn, line: _Line, delta: int, g: Balance, seen: bool, reason: str
    ) -> None:
        """Append what moves a (creator, currency) of an order by ``delta``: a rise is
        pending; a fall takes from pending first, then claws back what was approved."""
        if delta > 0:
            kind = "adjustment" if seen else "accrual"
            await self._entry(tx, line, kind=kind, bucket="pending", amount=delta, reason=reason)
            return
        from_pending = min(-delta, max(0, g.pending))
        if from_pending:
            await self._entry(
                tx, line, kind="adjustment", bucket="pending", amount=-from_pending, reason=reason
            )
        rest = -delta - from_pending
        if rest:
            entry = await self._entry(
                tx, line, kind="reversal", bucket="approved", amount=-rest, reason=reason
            )
            order_id = line.order["id"]
            await self.append_event(  # type: ignore[attr-defined]
                tx,
                payloads.COMMISSION_REVERSED,
                f"order:{order_id}",
                payloads.commission_data(entry, order_id),
            )

    async def _entry(
        self,
        tx: Conn,
        line: _Line,
        *,
        kind: str,
        bucket: str,
        amount: int,
        reason: str,
    ) -> Row:
        terms, order = line.terms, line.order
        row = {
            "id": ids.new_id("ce"),
            "creator_id": line.creator_id,
            "order_id": order["id"],
            "campaign_id": order["campaign_id"],
            "kind": kind,
            "bucket": bucket,
            "amount_minor": amount,
            "currency": line.currency,
            "basis_minor": int(order["net_minor"]),
            "rate_bp": terms.rate_bp if terms else None,
            "fixed_minor": terms.fixed_minor if terms else None,
            "reason": reason[:200],
            "placed_at": order["placed_at"],
            "created_at": clock.now_iso(),
        }
        await tx.execute(
            f"INSERT INTO commission_entries ({', '.join(row)}) VALUES ({', '.join('?' for _ in row)})",
            tuple(row.values()),
        )
        return row

    # -- backfill: orders the ledger never saw -------------------------------------------------
    async def unledgered_orders(self, after: str, limit: int) -> list[str]:
        """Credited orders without a ledger entry, by id after ``after`` (stored before the
        ledger existed, or before a rule that covers them was added)."""
        rows = await self.db.fetch_all(
            "SELECT o.id FROM orders o WHERE o.creator_id IS NOT NULL AND o.id > ? "
            "AND NOT EXISTS (SELECT 1 FROM commission_entries e WHERE e.order_id = o.id) "
            "ORDER BY o.id LIMIT ?",
            (after, limit),
        )
        return [str(r["id"]) for r in rows]

    async def commission_rules_version(self) -> tuple[int, str]:
        """(how many rules, the newest one's creation), commission costs included: changes
        whenever a rule is added, so the periodic job knows when to backfill."""
        row = await self.db.fetch_one(
            "SELECT COUNT(*) AS n, MAX(created_at) AS newest FROM (SELECT created_at FROM "
            "commission_rules UNION ALL SELECT created_at FROM costs WHERE kind = 'commission' "
            "AND rate_bp IS NOT NULL) r"
        )
        return (int(row["n"]), str(row["newest"] or "")) if row else (0, "")

    async def ledger_order(self, order_id: str) -> bool:
        """Bring one order's ledger in step under the rules in force on its date, holding its
        row lock as the ingest does; True when entries were written."""

        async def job(tx: Conn) -> bool:
            await tx.execute("UPDATE orders SET net_minor = net_minor WHERE id = ?", (order_id,))
            o = await self.order_snapshot(tx, order_id)  # type: ignore[attr-defined]
            if o is None:
                return False
            await self.sync_commission(tx, o, ["backfill"])
            row = await tx.fetch_one(
                "SELECT 1 AS n FROM commission_entries WHERE order_id = ? LIMIT 1", (order_id,)
            )
            return row is not None

        done: bool = await self.writes.run(job)
        return done

    # -- approval -------------------------------------------------------------------------------
    async def approvable(self, placed_before: str, limit: int) -> list[Row]:
        """(order, creator, currency) with pending commission, placed before the cutoff."""
        return await self.db.fetch_all(
            "SELECT order_id, creator_id, currency FROM commission_entries "
            "WHERE bucket = 'pending' AND placed_at < ? "
            f"GROUP BY order_id, creator_id, currency HAVING {money_sum(self.db.dialect, 'amount_minor')} "
            "<> 0 "
            "ORDER BY MIN(placed_at) LIMIT ?",
            (placed_before, limit),
        )

    async def approve_order(
        self, order_id: str, creator_id: str, currency: str, placed_before: str
    ) -> Row | None:
        """Approve one pending commission (a pair of entries) unless the order is held."""

        async def job(tx: Conn) -> Row | None:
            # Lock the order row first (PostgreSQL): an ingest of this order waits, or we do.
            await tx.execute("UPDATE orders SET net_minor = net_minor WHERE id = ?", (order_id,))
            if await self.order_held(tx, order_id):  # type: ignore[attr-defined]
                return None
            o = await self.order_snapshot(tx, order_id)  # type: ignore[attr-defined]
            if o is None or o["placed_at"] >= placed_before:
                return None
            rows = await tx.fetch_all(
                "SELECT bucket, amount_minor, rate_bp, fixed_minor, kind FROM commission_entries "
                "WHERE order_id = ? AND creator_id = ? AND currency = ?",
                (order_id, creator_id, currency),
            )
            pending = sum(int(r["amount_minor"]) for r in rows if r["bucket"] == "pending")
            if pending == 0:
                return None
            accrual = next((r for r in rows if r["kind"] == "accrual"), rows[0])
            t = Terms(accrual["rate_bp"], accrual["fixed_minor"], currency)
            base = _Line(creator_id, currency, t, o)
            await self._entry(
                tx,
                base,
                kind="approval",
                bucket="pending",
                amount=-pending,
                reason="refund window passed",
            )
            entry = await self._entry(
                tx,
                base,
                kind="approval",
                bucket="approved",
                amount=pending,
                reason="refund window passed",
            )
            await self.append_event(  # type: ignore[attr-defined]
                tx,
                payloads.COMMISSION_APPROVED,
                f"order:{order_id}",
                payloads.commission_data(entry, order_id),
            )
            return entry

        result: Row | None = await self.writes.run(job)
        return result

    # -- reads --------------------------------------------------------------------------------
    async def commission_entries(
        self,
        *,
        creator_id: str | None = None,
        order_id: str | None = None,
        start: str | None = None,
        end: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[Row]:
        where, params = ["1 = 1"], []
        for sql, value in (
            ("e.creator_id = ?", creator_id),
            ("e.order_id = ?", order_id),
            ("e.created_at >= ?", start),
            ("e.created_at < ?", end),
        ):
            if value:
                where.append(sql)
                params.append(value)
        return await self.db.fetch_all(
            f"SELECT e.{_ENTRY_COLUMNS.replace(', ', ', e.')}, c.handle AS creator_handle, "
            "o.external_id AS order_external_id FROM commission_entries e "
            "LEFT JOIN creators c ON c.id = e.creator_id LEFT JOIN orders o ON o.id = e.order_id "
            f"WHERE {' AND '.join(where)} ORDER BY e.created_at, e.order_id, e.bucket DESC, e.id "
            "LIMIT ? OFFSET ?",
            (*params, limit, offset),
        )

    async def commission_totals(self, start: str, end: str) -> list[Row]:
        """Per creator and currency: approved, reversed in [start, end); pending and approved
        to date at ``end``."""
        total = partial(money_sum, self.db.dialect)
        return await self.db.fetch_all(
            "SELECT e.creator_id, c.handle, e.currency, "
            + total(
                "CASE WHEN e.kind = 'approval' AND e.bucket = 'approved' AND e.created_at >= ? "
                "AND e.created_at < ? THEN e.amount_minor ELSE 0 END"
            )
            + " AS approved, "
            + total(
                "CASE WHEN e.bucket = 'approved' AND e.kind <> 'approval' "
                "AND e.created_at >= ? AND e.created_at < ? THEN e.amount_minor ELSE 0 END"
            )
            + " AS reversed, "
            + total(
                "CASE WHEN e.bucket = 'pending' AND e.created_at < ? THEN e.amount_minor ELSE 0 END"
            )
            + " AS pending, "
            + total(
                "CASE WHEN e.bucket = 'approved' AND e.created_at < ? THEN e.amount_minor ELSE 0 END"
            )
            + " AS approved_to_date "
            "FROM commission_entries e LEFT JOIN creators c ON c.id = e.creator_id "
            "WHERE e.created_at < ? GROUP BY e.creator_id, c.handle, e.currency",
            (start, end, start, end, end, end, end),
        )

    async def payout_totals(self, start: str, end: str) -> list[Row]:
        return await self.db.fetch_all(
            "SELECT creator_id, currency, "
            f"{money_sum(self.db.dialect, 'CASE WHEN paid_at >= ? THEN amount_minor ELSE 0 END')} "
            f"AS paid, {money_sum(self.db.dialect, 'amount_minor')} AS paid_to_date "
            "FROM commission_payouts WHERE paid_at < ? GROUP BY creator_id, currency",
            (start, end),
        )

    async def add_payout(self, row: dict[str, Any]) -> Row:
        now = clock.now_iso()
        full = {"id": ids.new_id("po"), **row, "paid_at": now, "created_at": now}
        await self._insert("commission_payouts", full, "payout")
        return full

    async def list_payouts(self, creator_id: str | None, limit: int, offset: int) -> list[Row]:
        cond, params = ("WHERE p.creator_id = ? ", [creator_id]) if creator_id else ("", [])
        return await self.db.fetch_all(
            "SELECT p.*, c.handle FROM commission_payouts p LEFT JOIN creators c "
            f"ON c.id = p.creator_id {cond}ORDER BY p.paid_at DESC LIMIT ? OFFSET ?",
            (*params, limit, offset),
        )
