"""``tracker insights ...`` (issue 20; ``breakdown``: clicks by device, OS, browser or
referrer) and ``tracker collabs ...``: the same services as the API.

Joined to ``tracker/cli.py`` by one call (``add_commands``) that hands over the CLI's runner,
as ``tracker/events/commands.py`` does. Reports print JSON (money in minor units, as the
API); collaboration shares are typed in percent (``maya=60``) and stored in basis points.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Awaitable, Callable
from dataclasses import replace
from decimal import Decimal, InvalidOperation
from typing import Any

from tracker.attribution.credit import MODELS
from tracker.core.csvfile import to_csv
from tracker.core.errors import Unprocessable
from tracker.core.terminal import print_json
from tracker.reports import breakdown, collabs, exposure, paths, survey
from tracker.reports import build as reports
from tracker.settings import Settings

Runner = Callable[[Callable[[Any, Settings], Awaitable[Any]]], int]


def say_fallback(report: dict[str, Any]) -> None:
    """``tracker report``: the data-driven fallback and its reason, as the API says them (on
    stderr: a CSV on stdout stays clean)."""
    note = paths.fallback_note(report.get("data_driven"))
    if note:
        print(note, file=sys.stderr)


def share_bp(text: str) -> tuple[str, int]:
    """'maya=60' or '@maya=33.34' -> ('maya', 6000): percent with up to 2 decimals."""
    who, _, pct = text.partition("=")
    try:
        value = Decimal(pct.strip().rstrip("%"))
    except InvalidOperation:
        raise Unprocessable(f"--share {text!r}: expected HANDLE=PERCENT, e.g. maya=60") from None
    if not who.strip() or value != value.quantize(Decimal("0.01")):
        raise Unprocessable(f"--share {text!r}: expected HANDLE=PERCENT with up to 2 decimals")
    return who.strip(), int(value * 100)


def _insights(args: argparse.Namespace, run: Runner) -> int:
    async def go(store: Any, settings: Settings) -> None:
        query = {k: v for k in ("start", "end", "model") if (v := getattr(args, k, None))}
        p = reports.params_from(query, settings)
        if args.what == "breakdown":
            refs = {"creator_id": args.creator, "campaign_id": args.campaign}
            refs |= {"link_id": args.link, "by": args.by}
            b = await breakdown.breakdown_from(
                store, settings, {**query, **{k: v for k, v in refs.items() if v}}
            )
            report = await breakdown.build(store, b)
            if args.csv:
                sys.stdout.write(to_csv(breakdown.CSV_COLUMNS, breakdown.csv_rows(report)))
            else:
                print_json(report)
        elif args.what == "data-driven":
            p = replace(p, model="data_driven")
            fit, creators = await reports.data_driven_fit(store, p)
            labels = {k: str(v.get("handle", k)) for k, v in creators.items()}
            print_json(paths.describe(fit, labels, top=500))
        elif args.what == "exposure":
            print_json(await exposure.report(store, p))
        elif args.what == "survey":
            print_json(await survey.report(store, p, settings.survey_min_score))
        else:
            print_json(await collabs.report(store, settings, p))

    return run(go)


def _collabs(args: argparse.Namespace, run: Runner) -> int:
    async def go(store: Any, settings: Settings) -> None:
        if args.action == "add":
            shares = [share_bp(s) for s in args.share or []]
            print_json(await collabs.create(store, args.name, args.link, args.code, shares))
        elif args.action == "list":
            print_json(await store.list_collabs())
        elif args.action == "edit":
            shares = [share_bp(s) for s in args.share or []]
            print_json(await collabs.edit(store, args.ref, shares))
        else:
            await collabs.delete(store, args.ref)
            print(f"deleted {args.ref}")

    return run(go)


def add_commands(sub: Any, run: Runner) -> None:
    p = sub.add_parser(
        "insights",
        help="portfolio insights as JSON: data-driven | exposure | survey | collabs | breakdown",
    )
    p.add_argument("what", choices=["data-driven", "exposure", "survey", "collabs", "breakdown"])
    p.add_argument("--start", help="first day, YYYY-MM-DD (default: 29 days before --end)")
    p.add_argument("--end", help="last day, YYYY-MM-DD (default: today)")
    p.add_argument("--model", choices=MODELS, help="attribution model (collabs)")
    p.add_argument("--by", choices=breakdown.BY, default="device", help="breakdown: by what")
    p.add_argument("--creator", help="breakdown: one creator's clicks (handle or id)")
    p.add_argument("--campaign", help="breakdown: one campaign's links' clicks (name or id)")
    p.add_argument("--link", help="breakdown: one link's clicks (ln_...)")
    p.add_argument("--csv", action="store_true", help="breakdown: the API's CSV")
    p.set_defaults(fn=lambda args: _insights(args, run))

    p = sub.add_parser("collabs", help="collaborations: add NAME | list | edit REF | delete REF")
    c = p.add_subparsers(dest="action", required=True)
    add = c.add_parser("add", help="one link or code shared by creators: --share maya=60 ...")
    add.add_argument("name")
    add.add_argument("--link", help="link slug or id")
    add.add_argument("--code", help="discount code")
    add.add_argument("--share", action="append", help="HANDLE=PERCENT (repeat; sum 100)")
    c.add_parser("list")
    edit = c.add_parser("edit", help="new shares: REF --share maya=50 --share leo=50")
    edit.add_argument("ref")
    edit.add_argument("--share", action="append", help="HANDLE=PERCENT (repeat; sum 100)")
    c.add_parser("delete").add_argument("ref")
    p.set_defaults(fn=lambda args: _collabs(args, run))
