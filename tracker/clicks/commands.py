"""``tracker rollups rebuild|check``: the day roll-ups recounted from, or compared with, the
raw clicks (issue 19).

Joined to ``tracker/cli.py`` by one call (``add_commands``), like ``tracker.events.commands``.
Both walk the days that still hold raw clicks (or ``--since``/``--until``), one day per
transaction, so the click writer waits for at most one day's recount at a time.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

from tracker.core import clock
from tracker.core.errors import Unprocessable
from tracker.settings import Settings
from tracker.store.click_days import next_day

Runner = Callable[[Callable[[Any, Settings], Awaitable[Any]]], int]


def _day(text: str | None, what: str) -> str | None:
    if text is None:
        return None
    try:
        return clock.check_date(date.fromisoformat(text)).isoformat()
    except ValueError:
        raise Unprocessable(f"{what}: expected a date as YYYY-MM-DD") from None


async def days(store: Any, since: str | None, until: str | None) -> list[str]:
    """The days to walk: [since, until] within the days holding raw clicks."""
    lo, hi = await store.click_days_bounds()
    if lo is None or hi is None:
        return []
    first, last = max(lo, since or lo), min(hi, until or hi)
    out = []
    while first <= last:
        out.append(first)
        first = next_day(first)
    return out


async def rebuild(store: Any, since: str | None = None, until: str | None = None) -> int:
    """Recount every day in range; returns the roll-up rows written."""
    return sum([await store.rebuild_click_day(d) for d in await days(store, since, until)])


async def check(store: Any, since: str | None = None, until: str | None = None) -> list[Any]:
    """Every difference between the roll-ups and a recount (empty: they agree)."""
    out: list[Any] = []
    for d in await days(store, since, until):
        out += await store.check_click_day(d)
    return out


def _rollups(args: argparse.Namespace, run: Runner) -> int:
    found: list[Any] = []

    async def go(store: Any, settings: Settings) -> None:
        since, until = _day(args.since, "--since"), _day(args.until, "--until")
        if args.action == "rebuild":
            n = await rebuild(store, since, until)
            print(f"rebuilt {n} day roll-up rows")
        else:
            found.extend(await check(store, since, until))
            for diff in found:
                print(
                    f"{diff['day']} {diff['link_id']} {diff['figure']}: roll-up "
                    f"{diff['rollup']}, recount {diff['recount']}"
                )
            print(
                f"{len(found)} differences" if found else "roll-ups agree with the clicks",
                file=sys.stderr if found else sys.stdout,
            )

    code = run(go)
    return code or (1 if found else 0)


def add_commands(sub: Any, run: Runner) -> None:
    p = sub.add_parser(
        "rollups",
        help="day roll-ups of clicks: rebuild (recount from the raw clicks) | check "
        "(compare, exit 1 on a difference)",
    )
    p.add_argument("action", choices=["rebuild", "check"])
    p.add_argument("--since", help="first day, YYYY-MM-DD (default: the first with clicks)")
    p.add_argument("--until", help="last day, YYYY-MM-DD (default: the last with clicks)")
    p.set_defaults(fn=lambda args: _rollups(args, run))
