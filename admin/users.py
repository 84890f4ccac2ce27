"""``tracker admin create|list|set-password|disable``: panel users from the shell.

Users are only made here (never through the web), so a fresh install has no default
password to forget to change. Passwords are read from a prompt without echo, or from
standard input with ``--password-stdin`` (scripts); never from an argument, which would
end up in the shell history and the process list.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable
from typing import Any

from admin.passwords import MIN_PASSWORD, check_new_password, hash_password
from tracker.core.errors import Unprocessable
from tracker.settings import Settings
from tracker.store import Store
from tracker.store.users import ROLES

Runner = Callable[..., int]


def add_admin_parser(sub: Any) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = sub.add_parser(
        "admin", help="admin panel users: create | list | set-password | disable | enable"
    )
    asub = p.add_subparsers(dest="action", required=True)
    c = asub.add_parser(
        "create",
        help=f"create a user (password prompted, or --password-stdin; at least {MIN_PASSWORD} characters)",
    )
    c.add_argument("--email", required=True)
    c.add_argument("--role", choices=ROLES, default="viewer")
    c.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from standard input (first line)",
    )
    asub.add_parser("list")
    s = asub.add_parser("set-password", help="set a new password (ends the user's sessions)")
    s.add_argument("--email", required=True)
    s.add_argument("--password-stdin", action="store_true")
    for action in ("disable", "enable"):
        asub.add_parser(action).add_argument("--email", required=True)
    r = asub.add_parser("set-role")
    r.add_argument("--email", required=True)
    r.add_argument("--role", choices=ROLES, required=True)
    return p


NO_PROMPT = (
    "cannot prompt for a password (no terminal): pipe it in with --password-stdin, "
    'e.g. echo "$PASSWORD" | tracker admin create --email YOU --password-stdin '
    f"(at least {MIN_PASSWORD} characters)"
)


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin or not sys.stdin.isatty():
        raise Unprocessable(NO_PROMPT)
    try:
        first = getpass.getpass(f"Password (at least {MIN_PASSWORD} characters): ")
        again = getpass.getpass("Repeat password: ")
    except (EOFError, KeyboardInterrupt):
        raise Unprocessable("no password given") from None
    if again != first:
        raise Unprocessable("the two passwords differ")
    return first


def run_admin_command(args: argparse.Namespace, run: Runner) -> int:
    password_hash = ""
    if args.action in ("create", "set-password"):
        try:
            password = _read_password(args.password_stdin)
        except Unprocessable as exc:
            print(f"error: {exc.reason}", file=sys.stderr)
            return 1
        problem = check_new_password(password)
        if problem:
            print(f"error: {problem}", file=sys.stderr)
            return 1
        password_hash = hash_password(password)

    async def go(store: Store, settings: Settings) -> None:
        if args.action == "create":
            user = await store.create_admin_user(args.email, args.role, password_hash)
            print(f"created {user['role']} {user['email']} ({user['id']})")
        elif args.action == "list":
            for u in await store.list_admin_users():
                print(
                    f"{u['email']}\t{u['role']}\t{u['status']}\t"
                    f"last login {u['last_login_at'] or 'never'}"
                )
        elif args.action == "set-password":
            await store.update_admin_user(args.email, {"password_hash": password_hash})
            print(f"password changed for {args.email}; their sessions are ended")
        elif args.action == "set-role":
            await store.update_admin_user(args.email, {"role": args.role})
            print(f"{args.email} is now {args.role}")
        else:
            status = "disabled" if args.action == "disable" else "active"
            await store.update_admin_user(args.email, {"status": status})
            print(f"{args.email} {status}")

    return run(go)
