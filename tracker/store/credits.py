"""Stored attribution credit (issue 19): each order's shares per model, kept in step with
the order by the ingest, so reports sum shares instead of applying the model to every touch
of every order of their range (migration 0090 describes the table).

The rule is ``tracker.attribution.order_credit`` (the reports' read-time path calls the same
functions): this module only feeds it one order's touches and stores what it returns.
``store_order_credits(tx, order_id)`` runs inside ``after_order_change`` (new orders,
refunds, cancellations, re-matches, triage: the one hook every change of an order or its
touches goes through). Rows hold revenue in the order's own currency; a report in another
currency computes those orders at read time (conversion comes before the split).

``credit_basis`` names the settings the rows were computed under; ``sync_credits`` (each
start, after the migrations) recomputes every row when the settings changed, and
``stored_basis`` lets a report use the rows only when its own lookbacks, half-life and
policy are the stored ones. Every node of one database must run with the same settings.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from tracker.attribution.credit import ORDER_MODELS
from tracker.attribution.order_credit import (
    VALUE_DAYS,
    Basis,
    Credit,
    credit_order,
    kept_touches,
)
from tracker.core import clock
from tracker.store.base import StoreBase, money_sum
from tracker.store.engine import Conn, Row

_TOUCHES = "FROM touches t JOIN orders o ON o.id = t.order_id "
_MATCHED = "WHERE t.matched = 1 AND t.creator_id IS NOT NULL "
#: Matched touches with a creator, with their order's facts and their click's country and
#: variant: what every credit computation reads (the reports' and the ingest's).
TOUCHES_SQL = (
    "SELECT t.order_id, t.method, t.creator_id, t.link_id, t.campaign_id, t.code, t.at, "
    "t.winner, t.confidence, o.placed_at, o.net_minor, o.currency, o.new_customer, "
    f"o.customer_hash, o.counted, k.country, k.variant {_TOUCHES}"
    f"LEFT JOIN clicks k ON k.id = t.click_id {_MATCHED}"
)
#: The same touches with only what a creator path needs (``tracker.reports.paths``): no
#: click is looked up for its country and variant.
PATH_TOUCHES_SQL = (
    f"SELECT t.order_id, t.method, t.creator_id, t.at, o.placed_at, o.counted {_TOUCHES}{_MATCHED}"
)
_COLUMNS = (
    "order_id", "model", "seq", "placed_at", "currency", "creator_id", "campaign_id",
    "link_id", "code", "method", "country", "variant", "share", "revenue_minor", "counted",
    "new_customer", "customer_hash", "value_until",
)  # fmt: skip
_INTS = tuple(_COLUMNS.index(c) for c in ("seq", "revenue_minor", "counted", "new_customer"))
_SHARE = _COLUMNS.index("share")
_INSERT = f"INSERT INTO order_credits ({', '.join(_COLUMNS)}) VALUES "
_ROW = f"({', '.join('?' for _ in _COLUMNS)})"
_CHUNK = 500
#: Marks orders' credit stored (the caller adds which: ``id = ?`` or ``id IN (...)``).
_MARK = "UPDATE orders SET credit_stored = 1 WHERE credit_stored = 0 AND id"
#: The settings' defaults: a store opened without ``open_store`` (tools, some tests).
DEFAULT_BASIS = Basis(7, 7, 7.0, "code")


def credit_rows(touches: list[Row], basis: Basis) -> list[tuple[Any, ...]]:
    """The stored rows of one order (its touches, in ``TOUCHES_SQL`` order): one row per
    kept touch per model, or one 'all' row when a single touch is kept."""
    kept = kept_touches(touches, basis)
    if not kept:
        return []
    net = int(kept[0]["net_minor"])
    models = ("all",) if len(kept) == 1 else ORDER_MODELS
    until = clock.shift(kept[0]["placed_at"], timedelta(days=VALUE_DAYS))
    out = []
    for model in models:
        shares = credit_order(kept, "last" if model == "all" else model, net, basis.half_life_days)
        out += [_row(c, model, seq, kept[0], until) for seq, c in enumerate(shares)]
    return out


def _row(c: Credit, model: str, seq: int, order: Row, until: str) -> tuple[Any, ...]:
    return (
        c.order_id, model, seq, c.placed_at, order["currency"], c.creator_id, c.campaign_id,
        c.link_id, c.code, c.method, c.country, c.variant, c.share, c.revenue,
        int(c.counted), int(bool(order["new_customer"])), c.customer_hash, until,
    )  # fmt: skip


def _comparable(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """A row as the check compares it: numbers as the engine may read them back."""
    out = list(row)
    for i in _INTS:
        out[i] = int(out[i])
    out[_SHARE] = round(float(out[_SHARE]), 9)
    return tuple(out)


@dataclass
class CreditCheck:
    """What ``check_credits`` found: orders whose stored rows differ from a recomputation,
    orders whose credit was never stored, and orders gone that still have rows."""

    orders: int = 0
    differ: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    orphans: int = 0
    basis: bool = True  # the rows were computed under the running settings

    @property
    def ok(self) -> bool:
        return not (self.differ or self.missing or self.orphans) and self.basis


async def _insert(conn: Conn, rows: Sequence[tuple[Any, ...]]) -> None:
    for i in range(0, len(rows), _CHUNK):
        chunk = rows[i : i + _CHUNK]
        await conn.execute(_INSERT + ", ".join(_ROW for _ in chunk), [v for r in chunk for v in r])


class CreditQueries(StoreBase):
    credit_basis: Basis = DEFAULT_BASIS

    async def store_order_credits(self, tx: Conn, order_id: str, *, new: bool = False) -> None:
        """Recompute one order's rows, in the caller's transaction, and mark the order's
        credit stored (``orders.credit_stored``, migration 0091). ``new``: an order this
        transaction inserted, marked by its INSERT, with no rows to delete."""
        touches = await tx.fetch_all(
            TOUCHES_SQL + "AND t.order_id = ? ORDER BY t.at, t.id", (order_id,)
        )
        if new:
            pass  # nothing to delete nor mark
        elif self.db.dialect == "postgres":  # one round trip: the ingest's pace is round trips
            await tx.execute(
                f"WITH stored AS ({_MARK} = ?) DELETE FROM order_credits WHERE order_id = ?",
                (order_id, order_id),
            )
        else:
            await tx.execute("DELETE FROM order_credits WHERE order_id = ?", (order_id,))
            await tx.execute(f"{_MARK} = ?", (order_id,))
        await _insert(tx, credit_rows(touches, self.credit_basis))

    async def stored_basis(self) -> str | None:
        row = await self.db.fetch_one("SELECT basis FROM credit_basis WHERE id = 1")
        return str(row["basis"]) if row else None

    async def sync_credits(self) -> int | None:
        """Recompute every order's rows when they were computed under other settings (or
        never); the number of orders recomputed, None when nothing was to do."""
        if await self.stored_basis() == self.credit_basis.text:
            return None
        return await self.rebuild_credits()

    async def rebuild_credits(self, batch: int = 5000) -> int:
        """Every order's rows again, ``batch`` orders per transaction. Reports read touches
        meanwhile (the basis row is gone until the last batch is in)."""
        async with self.db.transaction() as tx:
            await tx.execute("DELETE FROM credit_basis")
        done, after = 0, ""
        while True:
            ids = await self.db.fetch_all(
                "SELECT id FROM orders WHERE id > ? ORDER BY id LIMIT ?", (after, batch)
            )
            if not ids:
                break
            after = ids[-1]["id"]
            done += await self._rebuild_batch([r["id"] for r in ids])
        async with self.db.transaction() as tx:
            await tx.execute(
                "DELETE FROM order_credits WHERE NOT EXISTS "
                "(SELECT 1 FROM orders o WHERE o.id = order_credits.order_id)"
            )
            await tx.execute(
                "INSERT INTO credit_basis (id, basis, computed_at) VALUES (1, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET basis = excluded.basis, "
                "computed_at = excluded.computed_at",  # two nodes starting at once
                (self.credit_basis.text, clock.now_iso()),
            )
        return done

    async def _rebuild_batch(self, order_ids: list[str]) -> int:
        marks = ", ".join("?" for _ in order_ids)
        async with self.db.transaction() as tx:
            touches = await tx.fetch_all(
                TOUCHES_SQL + f"AND t.order_id IN ({marks}) ORDER BY t.order_id, t.at, t.id",
                order_ids,
            )
            by_order: dict[str, list[Row]] = defaultdict(list)
            for t in touches:
                by_order[t["order_id"]].append(t)
            rows = [r for ts in by_order.values() for r in credit_rows(ts, self.credit_basis)]
            await tx.execute(f"DELETE FROM order_credits WHERE order_id IN ({marks})", order_ids)
            await tx.execute(f"{_MARK} IN ({marks})", order_ids)
            await _insert(tx, rows)
        return len(order_ids)

    async def check_credits(self, batch: int = 5000) -> CreditCheck:
        """Every order's stored credit against a recomputation under the settings (the
        rule ``store_order_credits`` applies), ``batch`` orders per read; writes nothing."""
        out = CreditCheck()
        after = ""
        while True:
            orders = await self.db.fetch_all(
                "SELECT id, credit_stored FROM orders WHERE id > ? ORDER BY id LIMIT ?",
                (after, batch),
            )
            if not orders:
                break
            after = orders[-1]["id"]
            ids = [r["id"] for r in orders]
            marks = ", ".join("?" for _ in ids)
            touches: dict[str, list[Row]] = defaultdict(list)
            for t in await self.db.fetch_all(
                TOUCHES_SQL + f"AND t.order_id IN ({marks}) ORDER BY t.order_id, t.at, t.id", ids
            ):
                touches[t["order_id"]].append(t)
            stored: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
            for r in await self.db.fetch_all(
                f"SELECT {', '.join(_COLUMNS)} FROM order_credits WHERE order_id IN ({marks})", ids
            ):
                stored[r["order_id"]].append(_comparable(tuple(r[c] for c in _COLUMNS)))
            for o in orders:
                want = [_comparable(r) for r in credit_rows(touches[o["id"]], self.credit_basis)]
                if not o["credit_stored"]:
                    out.missing.append(o["id"])
                elif sorted(stored[o["id"]]) != sorted(want):
                    out.differ.append(o["id"])
            out.orders += len(orders)
        row = await self.db.fetch_one(
            "SELECT COUNT(DISTINCT order_id) AS n FROM order_credits c WHERE NOT EXISTS "
            "(SELECT 1 FROM orders o WHERE o.id = c.order_id)"
        )
        out.orphans = int(row["n"]) if row else 0
        out.basis = await self.stored_basis() == self.credit_basis.text
        return out

    async def stored_credits(
        self, start: str, end: str, model: str, currency: str, *, scope: str | None = None
    ) -> list[Row]:
        """Stored rows of ``model`` for orders in ``currency`` placed in [start, end), with
        the order's current counted, new-customer and customer facts; with ``scope`` (a
        creator), only that creator's rows."""
        where, params = _where(start, end, model, currency, (), scope)
        return await self.db.fetch_all(
            "SELECT c.order_id, c.creator_id, c.campaign_id, c.link_id, c.code, c.method, "
            "c.country, c.variant, c.share, c.revenue_minor, c.placed_at, "
            "c.counted, c.new_customer, c.customer_hash "
            f"FROM order_credits c WHERE {where} "
            "ORDER BY c.order_id, c.seq",
            params,
        )

    async def single_touch_paths(self, start: str, end: str, currency: str) -> list[Row]:
        """Per creator: the counted orders in ``currency`` placed in [start, end) whose
        stored credit has one kept touch, theirs (model 'all'): the data-driven fit's
        one-creator converting paths, which the report reads no touch of."""
        return await self.db.fetch_all(
            "SELECT c.creator_id, COUNT(*) AS n FROM order_credits c WHERE c.placed_at >= ? "
            "AND c.placed_at < ? AND c.model = 'all' AND c.currency = ? AND c.counted = 1 "
            "GROUP BY c.creator_id",
            (start, end, currency),
        )

    async def credit_sums(self, q: SumQuery, *, daily: bool = False) -> list[Row]:
        """Per key (and UTC day of the order): the credited orders and new customers of
        counted orders (sums of shares) and the revenue (the report's definitions)."""
        key, joins, kparams = _key_sql(q.dimension, q.tiers)
        where, params = _where(q.start, q.end, q.model, q.currency, q.where, q.scope)
        day = ", substr(c.placed_at, 1, 10) AS day" if daily else ""
        return await self.db.fetch_all(
            f"SELECT {key} AS key{day}, "
            "SUM(CASE WHEN c.counted = 1 THEN c.share ELSE 0 END) AS orders, "
            "SUM(CASE WHEN c.counted = 1 AND c.new_customer = 1 THEN c.share ELSE 0 END) "
            f"AS new_customers, {money_sum(self.db.dialect, 'c.revenue_minor')} AS revenue_minor "
            f"FROM order_credits c {joins}WHERE {where} "
            f"GROUP BY {'1, 2' if daily else '1'}",
            (*kparams, *params),
        )

    async def credit_reach(self, q: SumQuery, *, per_key: bool = True) -> list[Row]:
        """Counted orders reached per key (or in all, ``per_key=False``: each order once)
        and how many of them through a click id or fingerprint touch of that key (rows may
        repeat a key: add them up). An order with one kept touch (model 'all') is one row,
        counted as it is; only orders with several are grouped by (key, order)."""
        key, joins, kparams = _key_sql(q.dimension, q.tiers) if per_key else ("''", "", [])
        where, params = _where(q.start, q.end, q.model, q.currency, q.where, q.scope)
        via = "CASE WHEN c.method IN ('click', 'fingerprint') THEN 1 ELSE 0 END"
        return await self.db.fetch_all(
            f"SELECT {key} AS key, COUNT(*) AS reached, SUM({via}) AS click_orders "
            f"FROM order_credits c {joins}WHERE {where} AND c.counted = 1 AND c.model = 'all' "
            "GROUP BY 1 UNION ALL "
            "SELECT key, COUNT(*) AS reached, SUM(via_click) AS click_orders FROM ("
            f"SELECT {key} AS key, c.order_id, MAX({via}) AS via_click "
            f"FROM order_credits c {joins}WHERE {where} AND c.counted = 1 AND c.model <> 'all' "
            "GROUP BY 1, 2) r GROUP BY key",
            (*kparams, *params, *kparams, *params),
        )

    async def credit_values(self, q: SumQuery) -> list[Row]:
        """Per key and currency: the net revenue of the later orders of the customers each
        credited order acquired (placed after it, up to its ``value_until``), times its
        share."""
        key, joins, kparams = _key_sql(q.dimension, q.tiers)
        where, params = _where(q.start, q.end, q.model, q.currency, q.where, q.scope)
        return await self.db.fetch_all(
            f"SELECT {key} AS key, lo.currency, SUM(c.share * lo.net_minor) AS value "
            "FROM order_credits c JOIN orders lo ON lo.customer_hash = c.customer_hash "
            f"AND lo.placed_at > c.placed_at AND lo.placed_at <= c.value_until {joins}"
            f"WHERE {where} AND c.new_customer = 1 AND c.customer_hash IS NOT NULL "
            "GROUP BY 1, 2",
            (*kparams, *params),
        )

    async def later_values(self, start: str, end: str, days: int) -> list[Row]:
        """Per order placed in [start, end) by a new customer, and currency: the net revenue
        of that customer's later orders placed within ``days`` after it."""
        return await self.db.fetch_all(self._later_sql(days), (start, end))

    def _later_sql(self, days: int) -> str:
        return (
            f"SELECT a.id AS order_id, lo.currency, {money_sum(self.db.dialect, 'lo.net_minor')} "
            "AS net_minor "
            f"FROM orders a JOIN orders lo ON {self._later_join(days)} "
            "WHERE a.placed_at >= ? AND a.placed_at < ? AND a.new_customer = 1 "
            "AND a.customer_hash IS NOT NULL GROUP BY a.id, lo.currency"
        )

    def _later_join(self, days: int = 90) -> str:
        """Order ``lo`` is a later order of order ``a``'s customer, within ``days`` after it
        (``clock.shift``'s instant: whole days added to the seconds, the fraction kept)."""
        shifted = horizon_sql(self.db.dialect, "a.placed_at", days)
        return (
            "lo.customer_hash = a.customer_hash AND lo.placed_at > a.placed_at "
            f"AND lo.placed_at <= {shifted}"
        )


def horizon_sql(dialect: str, column: str, days: int) -> str:
    """SQL for the instant ``days`` whole days after a stored instant, in its text form:
    ``clock.shift`` in SQL (the date and time shifted, the fraction and the Z kept)."""
    seconds = f"substr({column}, 1, 19)"  # whole seconds: SQLite would round .999999 up
    if dialect == "postgres":
        shifted = (
            f"to_char(CAST({seconds} AS timestamp) + interval '{int(days)} days', "
            "'YYYY-MM-DD\"T\"HH24:MI:SS')"
        )
    else:
        shifted = f"strftime('%Y-%m-%dT%H:%M:%S', {seconds}, '+{int(days)} days')"
    return f"{shifted} || substr({column}, 20)"


@dataclass(frozen=True)
class SumQuery:
    """What a report sums of the stored credit: its range, model and currency, the key of
    its dimension, its click filters and scope (a creator's orders)."""

    dimension: str
    start: str
    end: str
    model: str
    currency: str
    tiers: tuple[tuple[str, int], ...]
    where: tuple[tuple[str, str], ...] = ()
    scope: str | None = None


#: SQL for a credit's dimension key (``tier`` is built from thresholds at call time).
_KEYS = {
    "creator": "c.creator_id",
    "campaign": "c.campaign_id",
    "link": "c.link_id",
    "country": "c.country",
    "variant": "c.variant",
    "content_type": "l.content_type",
    "platform": "cr.platform",
    "category": "cr.category",
}
_FILTERS = ("country", "variant", "link_id")


def _key_sql(dimension: str, tiers: tuple[tuple[str, int], ...]) -> tuple[str, str, list[Any]]:
    if dimension == "tier":
        whens, params = [], []
        for name, minimum in tiers:
            whens.append("WHEN cr.followers >= ? THEN ?")
            params += [minimum, name]
        key = f"CASE {' '.join(whens)} ELSE ? END"
        return key, "JOIN creators cr ON cr.id = c.creator_id ", [*params, tiers[-1][0]]
    key = _KEYS[dimension]
    if key.startswith("l."):  # an empty attribute and none are one "(none)" key
        return f"NULLIF({key}, '')", "LEFT JOIN links l ON l.id = c.link_id ", []
    if key.startswith("cr."):
        return f"NULLIF({key}, '')", "JOIN creators cr ON cr.id = c.creator_id ", []
    return key, "", []


def _where(
    start: str,
    end: str,
    model: str,
    currency: str,
    where: tuple[tuple[str, str], ...],
    scope: str | None,
) -> tuple[str, list[Any]]:
    sql = "c.placed_at >= ? AND c.placed_at < ? AND c.model IN (?, 'all') AND c.currency = ?"
    params: list[Any] = [start, end, model, currency]
    for column, value in where:
        if column not in _FILTERS:
            raise ValueError(f"not a credit filter: {column}")
        sql += f" AND COALESCE(c.{column}, '') = ?"
        params.append(value)
    if scope:
        sql += " AND c.creator_id = ?"
        params.append(scope)
    return sql, params
