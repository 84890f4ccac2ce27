"""``tracker credits check|rebuild``: each order's stored credit (issue 19, migration 0090)
compared with, or recomputed from, its touches under the running settings.

Joined to ``tracker/cli.py`` by one call (``add_commands``), like ``tracker.clicks.commands``.
The store opens as at any start (migrations, then the stored credit brought to the settings),
so both compare against the lookbacks, half-life and policy the server runs with; the SQL is
``tracker/store/credits.py``'s. ``check`` writes nothing and exits 1 when an order's stored
rows differ from a recomputation, when its credit was never stored (written around the
ingest) or when rows outlive their order; ``rebuild`` recomputes every order, a batch per
transaction, as a settings change does.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from tracker.settings import Settings

Runner = Callable[[Callable[[Any, Settings], Awaitable[Any]]], int]
#: Order ids printed per kind of finding; the counts are always whole.
SHOWN = 20


def _credits(args: argparse.Namespace, run: Runner) -> int:
    bad = False

    async def go(store: Any, settings: Settings) -> None:
        nonlocal bad
        if args.action == "rebuild":
            n = await store.rebuild_credits()
            print(f"recomputed the stored credit of {n} orders")
            return
        found = await store.check_credits()
        bad = not found.ok
        for what, ids in (("differs", found.differ), ("not stored", found.missing)):
            for order_id in ids[:SHOWN]:
                print(f"{order_id}: {what}")
            if len(ids) > SHOWN:
                print(f"... and {len(ids) - SHOWN} more {what}")
        if not found.basis:
            print("the stored credit was computed under other settings")
        print(
            f"{found.orders} orders checked: {len(found.differ)} differ, "
            f"{len(found.missing)} not stored, {found.orphans} removed orders with rows"
            + ("; run `tracker credits rebuild`" if bad else "; the stored credit agrees"),
            file=sys.stderr if bad else sys.stdout,
        )

    code = run(go)
    return code or (1 if bad else 0)


def add_commands(sub: Any, run: Runner) -> None:
    p = sub.add_parser(
        "credits",
        help="stored attribution credit of each order: check (compare with a recomputation, "
        "exit 1 on a difference) | rebuild (recompute every order)",
    )
    p.add_argument("action", choices=["check", "rebuild"])
    p.set_defaults(fn=lambda args: _credits(args, run))
