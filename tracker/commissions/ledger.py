"""Commission services shared by the API, the CLI and the background job: rules, approval
once the refund window has passed, statements per period (JSON and CSV), payouts.

Money in minor units of each row's currency; totals are never summed across currencies.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from decimal import Decimal
from typing import Annotated, Any

from pydantic import Field, StringConstraints

from tracker.catalogue.creators import DEFAULT_TIERS, Tiers, tier_names
from tracker.core import clock
from tracker.core.errors import Unprocessable
from tracker.core.periodic import PeriodicJob
from tracker.events.leaks import publish_leaks
from tracker.schemas import Currency, CurrencyCode, Day, Minor, Model
from tracker.settings import Settings
from tracker.store.engine import Row

log = logging.getLogger("tracker.commissions")

STATEMENT_COLUMNS = (
    "creator_id",
    "creator",
    "currency",
    "approved_minor",
    "reversed_minor",
    "net_approved_minor",
    "paid_minor",
    "pending_minor",
    "balance_minor",
)


async def approve_due(
    store: Any, settings: Settings, *, now: float | None = None, limit: int = 500
) -> list[Row]:
    """Approve every pending commission whose order is older than the refund window."""
    now = clock.now() if now is None else now
    cutoff = clock.iso(now - settings.commission_hold_days * 86400)
    approved: list[Row] = []
    while True:
        batch = await store.approvable(cutoff, limit)
        done = 0
        for c in batch:
            entry = await store.approve_order(c["order_id"], c["creator_id"], c["currency"], cutoff)
            if entry is not None:
                approved.append(entry)
                done += 1
        if len(batch) < limit or done == 0:
            return approved


async def backfill(store: Any, *, batch: int = 500) -> int:
    """Give every credited order without a ledger entry its commission under the rules in
    force on its date (orders stored before 0.4, or before their rule existed); the number
    of orders that now have entries. Approval then follows the refund window as usual."""
    after, done = "", 0
    while True:
        ids_ = await store.unledgered_orders(after, batch)
        for order_id in ids_:
            done += bool(await store.ledger_order(order_id))
        if len(ids_) < batch:
            return done
        after = ids_[-1]


async def resync(store: Any, order_ids: list[str]) -> int:
    """Bring these orders' ledgers in step with the collaborations (and rules) now in force:
    after a collaboration is created, edited or deleted, the commission each member earned
    on its past orders moves (``sync_commission``: pending entries change, approved or paid
    ones are reversed or adjusted by new entries); the number of orders re-synced."""
    for order_id in order_ids:
        await store.ledger_order(order_id)
    return len(order_ids)


def period(start: date | None, end: date | None) -> tuple[str, str]:
    """[start, end] as whole UTC days -> [start, end + 1 day) ISO bounds."""
    lo = clock.to_iso(f"{start.isoformat()}T00:00:00Z") if start else "0000"
    hi = clock.shift(f"{end.isoformat()}T00:00:00Z", timedelta(days=1)) if end else "9999"
    return lo, hi


async def statement(store: Any, start: str, end: str) -> list[dict[str, Any]]:
    """Per creator and currency: approved and reversed (clawbacks) in the period, paid in
    the period, still pending at its end, and the balance owed at its end (approved to
    date minus paid to date; negative when clawbacks exceed what is left to pay)."""
    paid = {(p["creator_id"], p["currency"]): p for p in await store.payout_totals(start, end)}
    out = []
    for t in await store.commission_totals(start, end):
        p = paid.get((t["creator_id"], t["currency"]), {"paid": 0, "paid_to_date": 0})
        approved, reversed_ = int(t["approved"]), int(t["reversed"])
        out.append(
            {
                "creator_id": t["creator_id"],
                "creator": t["handle"],
                "currency": t["currency"],
                "approved_minor": approved,
                "reversed_minor": reversed_,
                "net_approved_minor": approved + reversed_,
                "paid_minor": int(p["paid"]),
                "pending_minor": int(t["pending"]),
                "balance_minor": int(t["approved_to_date"]) - int(p["paid_to_date"]),
            }
        )
    out.sort(key=lambda r: (str(r["creator"]), r["currency"]))
    return out


async def mark_paid(
    store: Any, creator_id: str, currency: str, reference: str, amount_minor: int | None
) -> Row:
    """Record a payout; without an amount, the whole balance owed now."""
    if amount_minor is None:
        rows = [
            r
            for r in await statement(store, "0000", "9999")
            if r["creator_id"] == creator_id and r["currency"] == currency
        ]
        amount_minor = rows[0]["balance_minor"] if rows else 0
    if amount_minor <= 0:
        raise Unprocessable("nothing to pay: the balance owed is not positive")
    row: Row = await store.add_payout(
        {
            "creator_id": creator_id,
            "currency": currency,
            "amount_minor": amount_minor,
            "reference": reference,
        }
    )
    return row


def commission_job(store: Any, settings: Settings, *, first_delay: float = 5.0) -> PeriodicJob:
    """Shortly after start and then every interval: enters orders the ledger never saw
    when the rules changed (``backfill``: a rule added after its orders, or orders from
    0.3; the first run of a node backfills once), approves due commissions, and publishes
    newly flagged code leaks (``tracker/events/leaks.py``)."""
    seen: list[object] = [None]

    async def run() -> None:
        version = await store.commission_rules_version()
        if version != seen[0]:
            if version[0]:  # some rule exists: orders without entries may now earn
                entered = await backfill(store)
                if entered:
                    log.info("commissions: %d orders entered in the ledger", entered)
            seen[0] = version
        done = await approve_due(store, settings)
        if done:
            log.info("commissions: %d approved", len(done))
        leaks = await publish_leaks(store, settings)
        if leaks:
            log.info("code leaks: %d creators flagged", leaks)

    interval = settings.commission_approve_interval_minutes * 60
    return PeriodicJob("commissions", run, interval, first_delay=first_delay)


# -- input models and services -------------------------------------------------------------------
class RuleIn(Model):
    """Either ``rate_percent`` (of net revenue, up to 2 decimals) or ``fixed_minor`` per order
    with its ``currency``; for one creator (optionally only on ``campaign_id``), for every
    creator on ``campaign_id``, or for every creator of ``tier``."""

    creator_id: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    campaign_id: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    tier: Annotated[str, StringConstraints(min_length=1, max_length=50)] | None = None
    rate_percent: Decimal | None = Field(None, ge=0, le=100, decimal_places=2)
    fixed_minor: Minor | None = Field(None, ge=0, le=10**12)
    currency: Currency | None = None
    effective_from: Day | None = None
    effective_until: Day | None = None
    note: Annotated[str, StringConstraints(max_length=500)] = ""


class RuleEnd(Model):
    """A rule's last day (inclusive, the order's UTC day)."""

    effective_until: Day


class PayoutIn(Model):
    creator_id: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    currency: CurrencyCode  # any the ledger holds (an order's, as its shop sent it)
    reference: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    amount_minor: Minor | None = Field(None, ge=1, le=10**15)


def _scope(m: RuleIn, tiers: Tiers) -> str:
    if m.tier is not None:
        if m.creator_id or m.campaign_id:
            raise Unprocessable(
                "tier: a tier rule covers every creator and campaign; give it alone"
            )
        if m.tier not in tier_names(tiers):
            raise Unprocessable(f"tier: one of {', '.join(tier_names(tiers))}")
        return "tier"
    if m.creator_id:
        return "creator"
    if m.campaign_id:
        return "campaign"
    raise Unprocessable("creator_id: give a creator, a campaign or a tier")


async def add_rule(store: Any, m: RuleIn, tiers: Tiers = DEFAULT_TIERS) -> Row:
    """Store a rule; its scope follows from what it names (see ``terms.pick``)."""
    scope = _scope(m, tiers)
    if (m.rate_percent is None) == (m.fixed_minor is None):
        raise Unprocessable("rate_percent: give either rate_percent or fixed_minor")
    if m.fixed_minor is not None and m.currency is None:
        raise Unprocessable("currency: required with fixed_minor")
    start = m.effective_from or date(1970, 1, 1)
    for name, day in (("effective_from", start), ("effective_until", m.effective_until)):
        if day is not None and not clock.MIN_DATE <= day <= clock.MAX_DATE:
            raise Unprocessable(f"{name}: must be {clock.RANGE_TEXT}")
    if m.effective_until is not None and m.effective_until < start:
        raise Unprocessable("effective_until: on or after effective_from")
    creator = await store.get_creator(m.creator_id) if m.creator_id else None
    campaign = await store.get_campaign(m.campaign_id) if m.campaign_id else None
    row: Row = await store.add_commission_rule(
        {
            "scope": scope,
            "creator_id": creator["id"] if creator else None,
            "campaign_id": campaign["id"] if campaign else None,
            "tier": m.tier,
            "rate_bp": None if m.rate_percent is None else int(m.rate_percent * 100),
            "fixed_minor": m.fixed_minor,
            "currency": m.currency if m.fixed_minor is not None else None,
            "effective_from": start.isoformat(),
            "effective_until": m.effective_until.isoformat() if m.effective_until else None,
            "note": m.note,
        }
    )
    return row


async def end_rule(store: Any, rule_id: str, m: RuleEnd) -> Row:
    """End a rule on a day (an order of a later day falls to the next rule in precedence)."""
    if not clock.MIN_DATE <= m.effective_until <= clock.MAX_DATE:
        raise Unprocessable(f"effective_until: must be {clock.RANGE_TEXT}")
    row: Row = await store.end_commission_rule(rule_id, m.effective_until.isoformat())
    return row


async def payout(store: Any, m: PayoutIn) -> Row:
    creator = await store.get_creator(m.creator_id)
    return await mark_paid(store, creator["id"], m.currency, m.reference, m.amount_minor)
