"""Guests: packages that join the core through one hook, so the core never imports them.

A guest is a Python module named in ``TRACKER_GUESTS`` (default ``admin``, the panel and the
creator pages). It may define either hook, both optional:

    def mounts(state: AppState) -> list[BaseRoute]
        web pages under their own prefixes (``/admin``, ``/c``)
    def add_commands(sub: argparse._SubParsersAction, run: Runner) -> None
        ``tracker`` sub-commands; ``run(fn)`` opens the store, calls ``fn(store, settings)``
        and turns a ``Rejected`` into ``error: ...`` and exit status 1

Like datasette's plugin hooks, without a plugin manager: a guest is imported by its name.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Mapping
from types import ModuleType
from typing import TYPE_CHECKING, Any

from tracker.core.errors import SettingsError

if TYPE_CHECKING:
    from starlette.routing import BaseRoute

    from tracker.state import AppState

ENV = "TRACKER_GUESTS"
DEFAULT = "admin"


def parse(raw: str) -> tuple[str, ...]:
    names = tuple(n.strip() for n in raw.split(",") if n.strip())
    for name in names:
        if not all(part.isidentifier() for part in name.split(".")):
            raise ValueError(f"{name!r} is not a module name")
    return names


def load(names: tuple[str, ...]) -> list[ModuleType]:
    out = []
    for name in names:
        try:
            out.append(importlib.import_module(name))
        except ImportError as exc:
            raise SettingsError(f"{ENV}: cannot import guest {name!r}: {exc}") from None
    return out


def from_env(environ: Mapping[str, str] | None = None) -> list[ModuleType]:
    """The guests, read before the full settings (the CLI needs their commands to parse)."""
    env = os.environ if environ is None else environ
    try:
        return load(parse(env.get(ENV) or DEFAULT))
    except ValueError as exc:
        raise SettingsError(f"bad value for {ENV}: {exc}") from None


def mounts(guests: list[ModuleType], state: AppState) -> list[BaseRoute]:
    return [route for g in guests if hasattr(g, "mounts") for route in g.mounts(state)]


def add_commands(guests: list[ModuleType], sub: Any, run: Any) -> None:
    for g in guests:
        if hasattr(g, "add_commands"):
            g.add_commands(sub, run)
