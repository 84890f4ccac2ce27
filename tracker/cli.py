"""The ``tracker`` command: serve, migrate, tokens, and the catalogue from the shell.

Catalogue sub-commands take their options from the same pydantic models as the API, so
the CLI and the API accept exactly the same fields with the same validation.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel

from admin.users import add_admin_parser, run_admin_command
from tracker import catalogue, schemas
from tracker.api import present_campaign, present_creator, validate
from tracker.errors import HTTPError, SettingsError
from tracker.settings import Settings
from tracker.store import Store, open_store


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


async def _with_store(fn: Callable[[Store, Settings], Awaitable[Any]], migrate: bool) -> Any:
    settings = _settings()
    store = await open_store(settings, migrate=migrate)
    try:
        return await fn(store, settings)
    finally:
        await store.close()


def _run(fn: Callable[[Store, Settings], Awaitable[Any]], *, migrate: bool = True) -> int:
    try:
        asyncio.run(_with_store(fn, migrate))
    except HTTPError as exc:
        print(f"error: {exc.reason}", file=sys.stderr)
        return 1
    return 0


def _print(obj: Any) -> None:
    print(json.dumps(obj, indent=2, default=str, ensure_ascii=False))


def _table(rows: list[dict[str, Any]], cols: list[str]) -> None:
    widths = {c: max([len(c), *(len(str(r.get(c, "") or "")) for r in rows)]) for c in cols}
    print("  ".join(c.ljust(widths[c]) for c in cols))
    for r in rows:
        print("  ".join(str(r.get(c, "") or "").ljust(widths[c]) for c in cols))


def _add_model_options(parser: argparse.ArgumentParser, model: type[BaseModel]) -> None:
    for name, field in model.model_fields.items():
        flag = "--" + name.replace("_", "-")
        if name in ("creator_id", "campaign_id"):
            flag = "--" + name.removesuffix("_id")
        kind = field.annotation
        if kind is bool or kind == (bool | None):
            parser.add_argument(flag, dest=name, action="store_true", default=None)
        else:
            parser.add_argument(flag, dest=name, default=None, help=field.description)


def _model_args(args: argparse.Namespace, model: type[BaseModel]) -> dict[str, Any]:
    return {k: getattr(args, k) for k in model.model_fields if getattr(args, k, None) is not None}


# -- commands ------------------------------------------------------------------------------
def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from tracker.app import create_app

    settings = _settings()
    logging.basicConfig(level=settings.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    base = f"http://{args.host}:{args.port}"
    print(f"Creatorlink serving on {base}  (database: {settings.database_url.split('@')[-1]})")
    print(f"  short links:  {base}/SLUG")
    print(f"  admin panel:  {base}/admin")
    print(f"  JSON API:     {base}/api/v1  (schema: {base}/api/v1/openapi.json)")
    print("  API token:    .venv/bin/tracker token create NAME   (then: Authorization: Bearer TOKEN)")
    sys.stdout.flush()
    uvicorn.run(
        create_app(settings), host=args.host, port=args.port, log_level=settings.log_level,
        loop="uvloop", http="httptools", proxy_headers=False, server_header=False,
        date_header=False, access_log=args.access_log, timeout_graceful_shutdown=10,
        h11_max_incomplete_event_size=16 * 1024,
    )
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    async def go(store: Store, settings: Settings) -> None:
        applied = await store.migrate()
        print(f"applied: {', '.join(applied) if applied else 'nothing (up to date)'}")

    return _run(go, migrate=False)


def cmd_token(args: argparse.Namespace) -> int:
    async def go(store: Store, settings: Settings) -> None:
        if args.action == "create":
            record, token = await store.create_token(args.name)
            print(token)
            print(f"(token {record['id']} named {args.name!r}; shown once, stored hashed)",
                  file=sys.stderr)
        elif args.action == "list":
            _table(await store.list_tokens(), ["id", "name", "created_at", "revoked_at"])
        else:
            await store.revoke_token(args.name)
            print(f"revoked {args.name}")

    if args.action in ("create", "revoke") and not args.name:
        print("error: a NAME is required", file=sys.stderr)
        return 2
    return _run(go)


def cmd_admin(args: argparse.Namespace) -> int:
    return run_admin_command(args, _run)


RESOURCES: dict[str, tuple[type[BaseModel], type[BaseModel], list[str]]] = {
    "creator": (schemas.CreatorIn, schemas.CreatorPatch,
                ["id", "handle", "platform", "followers", "tier", "status"]),
    "campaign": (schemas.CampaignIn, schemas.CampaignPatch, ["id", "name", "status"]),
    "link": (schemas.LinkIn, schemas.LinkPatch,
             ["id", "slug", "creator_id", "status", "destination"]),
}


def cmd_resource(args: argparse.Namespace) -> int:
    kind: str = args.kind
    create_model, patch_model, cols = RESOURCES[kind]

    def present(row: dict[str, Any], settings: Settings) -> dict[str, Any]:
        if kind == "creator":
            return present_creator(row, None)  # type: ignore[arg-type]
        if kind == "campaign":
            return present_campaign(row, None)  # type: ignore[arg-type]
        return {**row, "short_url": f"{settings.base_url}/{row['slug']}"}

    async def go(store: Store, settings: Settings) -> None:
        if args.action == "create":
            model = validate(create_model, _model_args(args, create_model))
            row = schemas.to_row(model)
            if kind == "creator":
                out = await store.create_creator(row)
            elif kind == "campaign":
                out = await store.create_campaign(row)
            else:
                out = await catalogue.create_link(store, settings, row, model.model_fields_set)
            _print(present(out, settings))
        elif args.action == "list":
            lister = {"creator": store.list_creators, "campaign": store.list_campaigns,
                      "link": store.list_links}[kind]
            rows = await lister(limit=args.limit, offset=0)
            _table([present(r, settings) for r in rows], cols)
        elif args.action == "get":
            getter = {"creator": store.get_creator, "campaign": store.get_campaign,
                      "link": store.get_link}[kind]
            _print(present(await getter(args.ref), settings))
        else:
            fields = ({"status": "disabled"} if args.action == "disable" else
                      {"status": "active"} if args.action == "enable" else
                      schemas.to_row(validate(patch_model, _model_args(args, patch_model)),
                                     only_set=True))
            if kind == "creator":
                out = await store.update_creator(args.ref, fields)
            elif kind == "campaign":
                out = await store.update_campaign(args.ref, fields)
            else:
                out = (await catalogue.update_link(store, settings, args.ref, fields))[1]
            _print(present(out, settings))

    return _run(go)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tracker", description="Creatorlink tracking server")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("serve", help="run the server")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--access-log", action="store_true")
    p.set_defaults(fn=cmd_serve)

    p = sub.add_parser("migrate", help="apply pending database migrations")
    p.set_defaults(fn=cmd_migrate)

    p = sub.add_parser("token", help="API tokens: create NAME | list | revoke NAME")
    p.add_argument("action", choices=["create", "list", "revoke"])
    p.add_argument("name", nargs="?")
    p.set_defaults(fn=cmd_token)

    add_admin_parser(sub).set_defaults(fn=cmd_admin)

    for kind, (create_model, patch_model, _) in RESOURCES.items():
        p = sub.add_parser(kind, help=f"{kind}s: create | list | get | update | disable | enable")
        ksub = p.add_subparsers(dest="action", required=True)
        c = ksub.add_parser("create")
        _add_model_options(c, create_model)
        ksub.add_parser("list").add_argument("--limit", type=int, default=100)
        for action in ("get", "disable", "enable"):
            ksub.add_parser(action).add_argument("ref")
        u = ksub.add_parser("update")
        u.add_argument("ref")
        _add_model_options(u, patch_model)
        p.set_defaults(fn=cmd_resource, kind=kind)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result: int = args.fn(args)
    return result


if __name__ == "__main__":
    raise SystemExit(main())
