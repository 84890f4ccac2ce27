"""The admin panel and the creator pages: a guest of the core (see ``tracker.guests``).

The core never imports this package; it is named in ``TRACKER_GUESTS`` (the default).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from admin.users import add_admin_parser, run_admin_command

if TYPE_CHECKING:
    from starlette.routing import BaseRoute

    from tracker.state import AppState


def mounts(state: AppState) -> list[BaseRoute]:
    # Imported when the app is built, not with the package: the CLI imports this package for
    # its commands on every run, and the panel's pages would add 0.2 s to each.
    from starlette.routing import Mount

    from admin.app import create_admin
    from admin.creator_page import create_creator_pages

    return [
        Mount("/admin", app=create_admin(state)),
        Mount("/c", app=create_creator_pages(state)),
    ]


def add_commands(sub: Any, run: Any) -> None:
    def cmd_admin(args: argparse.Namespace) -> int:
        return run_admin_command(args, run)

    add_admin_parser(sub).set_defaults(fn=cmd_admin)
