"""``tracker webhooks ...`` and ``tracker commissions ...``: the same services as the API.

Joined to ``tracker/cli.py`` by one call (``add_commands``), which hands over its runner
(``run(fn)`` opens the store, runs ``fn(store, settings)``, prints a refused input as one
line and returns the exit code), so this module never imports the CLI.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

from tracker import schemas
from tracker.commissions import ledger
from tracker.core import clock
from tracker.core.csvfile import to_csv
from tracker.core.errors import Unprocessable
from tracker.core.money import to_minor
from tracker.core.terminal import print_json
from tracker.events import endpoints
from tracker.settings import Settings

Runner = Callable[[Callable[[Any, Settings], Awaitable[Any]]], int]


def _webhooks(args: argparse.Namespace, run: Runner) -> int:
    async def go(store: Any, settings: Settings) -> None:
        a = args.action
        if a == "add":
            types = [t.strip() for t in (args.types or "").split(",") if t.strip()]
            created = schemas.validate(
                endpoints.EndpointIn,
                {"url": args.url, "description": args.description or "", "event_types": types},
            )
            out = await endpoints.create(store, settings, created)
            print_json(out)
            print("(the secret is shown once: keep it to verify signatures)", file=sys.stderr)
        elif a == "list":
            print_json([endpoints.present(r) for r in await store.list_endpoints(1000, 0)])
        elif a == "deliveries":
            print_json(
                await store.endpoint_deliveries(args.ref, status=args.status, limit=100, offset=0)
            )
        elif a == "attempts":
            print_json(await store.endpoint_attempts(args.ref, 100, 0))
        elif a == "replay":
            print(f"queued {await store.replay(args.ref, args.event)}")
        elif a in ("enable", "disable", "rotate"):
            patch = {"rotate_secret": True} if a == "rotate" else {"status": f"{a}d"}
            patched = schemas.validate(endpoints.EndpointPatch, patch)
            print_json(await endpoints.update(store, settings, args.ref, patched))
        elif a == "delete":
            await store.delete_endpoint(args.ref)
            print(f"deleted {args.ref}")

    return run(go)


def _day(raw: str | None) -> date | None:
    """A day typed on the command line, under the one time-range rule (a clear error)."""
    if not raw:
        return None
    try:
        return clock.check_date(date.fromisoformat(raw))
    except ValueError:
        raise Unprocessable(f"{raw!r}: expected YYYY-MM-DD {clock.RANGE_TEXT}") from None


def _commissions(args: argparse.Namespace, run: Runner) -> int:
    async def go(store: Any, settings: Settings) -> None:
        a = args.action
        if a == "rule":
            if args.fixed is not None and not args.currency:
                raise Unprocessable("--currency: required with --fixed")
            data = {
                "creator_id": args.creator,
                "campaign_id": args.campaign,
                "tier": args.tier,
                "rate_percent": args.rate_percent,
                "fixed_minor": None
                if args.fixed is None
                else to_minor(args.fixed, args.currency, exact=True),
                "currency": args.currency,
                "effective_from": args.effective_from,
                "effective_until": args.effective_until,
                "note": args.note,
            }
            rule = schemas.validate(ledger.RuleIn, {k: v for k, v in data.items() if v is not None})
            print_json(await ledger.add_rule(store, rule, settings.tiers))
        elif a == "rules":
            creator = (await store.get_creator(args.creator))["id"] if args.creator else None
            print_json(await store.list_commission_rules(creator))
        elif a == "approve":
            done = await ledger.approve_due(store, settings)
            print(f"approved {len(done)}")
        elif a == "end":
            last = schemas.validate(ledger.RuleEnd, {"effective_until": args.until})
            print_json(await ledger.end_rule(store, args.rule, last))
        elif a == "backfill":
            print(f"{await ledger.backfill(store)} orders entered in the ledger")
        elif a == "statement":
            start, end = ledger.period(_day(args.start), _day(args.end))
            rows = await ledger.statement(store, start, end)
            if args.csv:
                cols = ledger.STATEMENT_COLUMNS
                sys.stdout.write(to_csv(cols, ([r[c] for c in cols] for r in rows)))
            else:
                print_json(rows)
        elif a == "pay":
            data = {
                "creator_id": args.creator,
                "currency": args.currency,
                "reference": args.reference,
                "amount_minor": None
                if args.amount is None
                else to_minor(args.amount, args.currency, exact=True),
            }
            paid = schemas.validate(
                ledger.PayoutIn, {k: v for k, v in data.items() if v is not None}
            )
            print_json(await ledger.payout(store, paid))

    return run(go)


def add_commands(sub: Any, run: Runner) -> None:
    p = sub.add_parser(
        "webhooks",
        help="events out: add URL | list | deliveries ID | attempts ID | replay ID "
        "[--event EVT] | enable | disable | rotate | delete ID",
    )
    w = p.add_subparsers(dest="action", required=True)
    add = w.add_parser("add")
    add.add_argument("url")
    add.add_argument("--types", help="comma-separated event types (default: all)")
    add.add_argument("--description")
    w.add_parser("list")
    d = w.add_parser("deliveries")
    d.add_argument("ref")
    d.add_argument("--status", choices=["pending", "delivered", "failed"])
    w.add_parser("attempts").add_argument("ref")
    r = w.add_parser("replay", help="re-send one event, or every failed delivery")
    r.add_argument("ref")
    r.add_argument("--event")
    for action in ("enable", "disable", "rotate", "delete"):
        w.add_parser(action).add_argument("ref")
    p.set_defaults(fn=lambda args: _webhooks(args, run))
    _commission_parser(sub, run)


def _commission_parser(sub: Any, run: Runner) -> None:
    p = sub.add_parser(
        "commissions",
        help="commissions ledger: rule | rules | end | approve | backfill | statement | pay",
    )
    c = p.add_subparsers(dest="action", required=True)
    rule = c.add_parser(
        "rule",
        help="add a rule for --creator (optionally on --campaign), for every creator on "
        "--campaign, or for every creator of --tier; --rate-percent of net revenue, or "
        "--fixed per order with --currency. Precedence: creator and campaign > creator > "
        "campaign > tier, then the latest --effective-from",
    )
    rule.add_argument("--creator", help="creator handle or id")
    rule.add_argument("--campaign", help="campaign name or id")
    rule.add_argument("--tier", help="a tier of TRACKER_TIERS, e.g. micro")
    rule.add_argument("--rate-percent", help="percent of the order's net revenue, e.g. 12.5")
    rule.add_argument("--fixed", help="amount per order in major units, e.g. 25.00")
    rule.add_argument("--currency", help="ISO 4217 code of --fixed")
    rule.add_argument("--effective-from", help="first day, YYYY-MM-DD")
    rule.add_argument("--effective-until", help="last day, YYYY-MM-DD (default: open)")
    rule.add_argument("--note")
    c.add_parser("rules").add_argument("--creator", help="the rules that can apply to a creator")
    end = c.add_parser("end", help="end a rule on a day (its last day, inclusive)")
    end.add_argument("rule", help="the rule's id (tracker commissions rules)")
    end.add_argument("--until", required=True, help="last day, YYYY-MM-DD")
    c.add_parser("approve", help="approve commissions whose refund window has passed")
    c.add_parser(
        "backfill",
        help="give credited orders without a ledger entry (stored before 0.4, or before "
        "their rule) their commission under the rules in force on their dates",
    )
    st = c.add_parser("statement")
    st.add_argument("--start")
    st.add_argument("--end")
    st.add_argument("--csv", action="store_true")
    pay = c.add_parser("pay", help="mark paid (default amount: the balance owed)")
    pay.add_argument("--creator", required=True)
    pay.add_argument("--currency", required=True)
    pay.add_argument("--reference", required=True)
    pay.add_argument("--amount", help="in major units, e.g. 120.50 (default: the balance owed)")
    p.set_defaults(fn=lambda args: _commissions(args, run))
