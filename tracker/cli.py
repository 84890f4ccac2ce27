"""The ``tracker`` command: serve, migrate, tokens, the catalogue, webhooks and commissions.

Catalogue sub-commands take their options from the same pydantic models as the API, so
the CLI and the API accept exactly the same fields with the same validation (the records:
``tracker/catalogue/commands.py``); money is typed in major units (``--budget 1500.00``)."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from tracker import guests, schemas
from tracker.attribution import commands as credit_commands
from tracker.attribution.credit import MODELS
from tracker.catalogue import codes
from tracker.catalogue.commands import KINDS
from tracker.clicks import commands as rollup_commands
from tracker.core import money
from tracker.core.csvfile import to_csv
from tracker.core.errors import Rejected, SettingsError, Unprocessable
from tracker.core.terminal import print_json, print_table
from tracker.events import commands as event_commands
from tracker.links import service as links
from tracker.orders.rematch import rematch
from tracker.reports import build as reports
from tracker.reports import commands as insight_commands
from tracker.reports.build import COST_KINDS, DIMENSIONS
from tracker.reports.costs import (
    COST_COLUMNS,
    COST_HELP,
    POST_COLUMNS,
    column_error,
    cost_from_fields,
    import_costs,
    import_posts,
    post_row,
    present_cost,
    present_post,
)
from tracker.retention import purge
from tracker.schemas import validate
from tracker.serve import serve
from tracker.setting_table import markdown_table
from tracker.settings import Settings, with_served_address
from tracker.store import Store, open_store
from tracker.store.backup import BackupError, backup_sqlite
from tracker.store.transfer import TransferError, export_store, import_store


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
    except Rejected as exc:
        print(f"error: {exc.reason}", file=sys.stderr)
        return 1
    return 0


def _add_model_options(parser: argparse.ArgumentParser, model: type[BaseModel]) -> None:
    """One option per field. Money is typed in major units with a currency (README: one
    money convention): a field ``X_minor`` is the option ``--X`` (``--budget 1500.00``),
    converted by the record's own rule (``Kind.typed``)."""
    for name, field in model.model_fields.items():
        dest, help_text = name, field.description
        if name.endswith("_minor"):
            dest = name.removesuffix("_minor")
            help_text = f"{dest} in major units of the currency, e.g. 1500.00 (API: {name})"
        flag = "--" + dest.replace("_", "-")
        if name in ("creator_id", "campaign_id"):
            flag = "--" + name.removesuffix("_id")
        flag_only = field.annotation is bool or field.annotation == (bool | None)  # --x/--no-x
        action = argparse.BooleanOptionalAction if flag_only else "store"
        parser.add_argument(flag, dest=dest, action=action, default=None, help=help_text)


def _model_args(args: argparse.Namespace, model: type[BaseModel]) -> dict[str, Any]:
    names = [k.removesuffix("_minor") for k in model.model_fields]  # budget_minor: --budget
    return {k: getattr(args, k) for k in names if getattr(args, k, None) is not None}


# -- commands ------------------------------------------------------------------------------
def cmd_serve(args: argparse.Namespace) -> int:
    return serve(
        with_served_address(_settings(), args.host, args.port),
        host=args.host,
        port=args.port,
        server=args.server,
        access_log=args.access_log,
    )


def cmd_migrate(args: argparse.Namespace) -> int:
    async def go(store: Store, settings: Settings) -> None:
        applied = await store.migrate()
        print(f"applied: {', '.join(applied) if applied else 'nothing (up to date)'}")

    return _run(go, migrate=False)


def cmd_token(args: argparse.Namespace) -> int:
    async def go(store: Store, settings: Settings) -> None:
        if args.action == "create":
            name = validate(schemas.TokenIn, {"name": args.name}).name
            record, token = await store.create_token(name)
            print(token)
            print(
                f"(token {record['id']} named {args.name!r}; shown once, stored hashed)",
                file=sys.stderr,
            )
        elif args.action == "list":
            print_table(await store.list_tokens(), ["id", "name", "created_at", "revoked_at"])
        else:
            await store.revoke_token(args.name)
            print(f"revoked {args.name}")

    if args.action in ("create", "revoke") and not args.name:
        print("error: a NAME is required", file=sys.stderr)
        return 2
    return _run(go)


def cmd_purge(args: argparse.Namespace) -> int:
    async def go(store: Store, settings: Settings) -> None:
        done = await purge(store, settings)
        if not done:
            print("nothing to purge: every retention period is 0 (keep forever)")
        for name, n in done.items():
            print(f"{name}: {n} rows erased")

    return _run(go)


def cmd_backup(args: argparse.Namespace) -> int:
    settings = _settings()
    if not settings.is_sqlite:
        print(
            "error: tracker backup copies the SQLite store; for PostgreSQL use pg_dump "
            '(see README: Backups), e.g. pg_dump -Fc -f tracker.dump "$DATABASE_URL"',
            file=sys.stderr,
        )
        return 2
    try:
        facts = asyncio.run(backup_sqlite(settings.sqlite_path, Path(args.path)))
    except (BackupError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(
        f"backup written to {args.path}: {facts['clicks']} clicks, {facts['bytes']} bytes, "
        "integrity ok"
    )
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    async def go(store: Store, settings: Settings) -> None:
        if args.file == "-":
            counts = await export_store(store.db, sys.stdout)
        else:
            if os.path.lexists(args.file) and not os.path.isfile(args.file):
                # the file is written beside it and renamed over it: a device or a socket
                # (/dev/null as root) would be replaced by a plain file
                raise OSError(f"{args.file} exists and is not a regular file (- for stdout)")
            partial = args.file + ".partial"
            try:
                with open(partial, "w", encoding="utf-8") as fh:
                    counts = await export_store(store.db, fh)
            except BaseException:
                os.unlink(partial)
                raise
            os.replace(partial, args.file)
        print(f"exported {sum(counts.values())} rows: {counts}", file=sys.stderr)

    try:
        return _run(go, migrate=False)
    except (TransferError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def cmd_import(args: argparse.Namespace) -> int:
    async def go(store: Store, settings: Settings) -> None:
        if args.file == "-":
            counts = await import_store(store.db, sys.stdin)
        else:
            with open(args.file, encoding="utf-8") as fh:
                counts = await import_store(store.db, fh)
        print(f"imported {sum(counts.values())} rows: {counts}")

    try:
        return _run(go)
    except (TransferError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def cmd_resource(args: argparse.Namespace) -> int:
    kind = KINDS[args.kind]

    async def go(store: Store, settings: Settings) -> None:
        if args.action == "create":
            data = await kind.typed(store, _model_args(args, kind.create_model), "")
            model = validate(kind.create_model, data)
            row = schemas.to_row(model)
            print_json(
                kind.present(
                    await kind.create(store, settings, row, model.model_fields_set), settings
                )
            )
        elif args.action == "list":
            rows = await kind.list(store, args.limit)
            print_table([kind.present(r, settings) for r in rows], kind.columns)
        elif args.action == "get":
            print_json(kind.present(await kind.get(store, args.ref), settings))
        else:
            if args.action in ("disable", "enable"):
                fields: dict[str, Any] = {
                    "status": "disabled" if args.action == "disable" else "active"
                }
            else:
                data = await kind.typed(store, _model_args(args, kind.patch_model), args.ref)
                model = validate(kind.patch_model, data)
                fields = schemas.to_row(model, only_set=True)
            print_json(kind.present(await kind.update(store, settings, args.ref, fields), settings))

    return _run(go)


def cmd_codes_extra(args: argparse.Namespace) -> int:
    """code bulk (generate for many creators) and code export (CSV on stdout)."""

    async def go(store: Store, settings: Settings) -> None:
        if args.action == "export":
            rows = await store.list_codes(limit=1_000_000)
            sys.stdout.write(to_csv(codes.CSV_COLUMNS, codes.csv_rows(rows)))
            return
        spec = codes.value_from_major(_model_args(args, schemas.CodeBulk))
        if spec.get("creators"):
            spec["creators"] = [c.strip() for c in str(spec["creators"]).split(",") if c.strip()]
        model = validate(schemas.CodeBulk, spec)
        made = await codes.bulk_generate(store, model.model_dump())
        print_table(made, ["code", "creator_id", "campaign_id"])

    return _run(go)


def cmd_links_bulk(args: argparse.Namespace) -> int:
    """link bulk: one link per creator (--creators a,b or every active one) to one page."""

    async def go(store: Store, settings: Settings) -> None:
        spec = _model_args(args, schemas.LinkBulk)
        if spec.get("creators"):
            spec["creators"] = [c.strip() for c in str(spec["creators"]).split(",") if c.strip()]
        model = validate(schemas.LinkBulk, spec)
        made = await links.bulk_create(store, settings, schemas.to_row(model))
        handles = {c["id"]: f"@{c['handle']}" for c in await store.list_creators(limit=10**6)}
        shown = [
            {**links.present(r, settings), "creator": handles.get(r["creator_id"], r["creator_id"])}
            for r in made
        ]
        print_table(shown, ["short_url", "creator", "slug"])

    return _run(go)


def cmd_import_csv(args: argparse.Namespace) -> int:
    """tracker cost import FILE | tracker post import FILE: all rows or none."""

    async def go(store: Store, settings: Settings) -> None:
        if args.action in ("add", "list"):
            await _cost_or_post(store, args)
            return
        with open(args.file, "rb") as fh:
            body = fh.read()
        importer = import_costs if args.record == "cost" else import_posts
        result = await importer(store, body, dry_run=args.dry_run)
        for e in result["errors"]:
            print(f"row {e['row']}: {e['column']}: {e['error']}", file=sys.stderr)
        print(f"imported {result['imported']} rows" + (" (dry run)" if args.dry_run else ""))
        if result["errors"]:
            raise SystemExit(1)

    return _run(go)


async def _cost_or_post(store: Store, args: argparse.Namespace) -> None:
    """tracker cost|post add ... (the API's fields) and tracker cost|post list."""
    if args.action == "list":
        if args.record == "cost":
            print_table(
                [present_cost(r) for r in await store.list_costs()],
                ["id", "creator_id", "kind", "amount", "currency", "rate_bp", "incurred_on"],
            )
        else:
            rows = [present_post(r) for r in await store.list_posts()]
            print_table(
                rows, ["id", "creator_id", "platform", "format", "posted_at", "engagement_rate"]
            )
        return
    if args.record == "cost":
        fields = {c: getattr(args, c) for c in COST_COLUMNS if getattr(args, c) is not None}
        try:
            row = await cost_from_fields(store, fields)
        except ValidationError as exc:
            column, message = column_error(exc)
            raise Unprocessable(f"--{column.replace('_', '-')}: {message}") from None
        print_json(present_cost(await store.add_cost(row)))
        return
    values = validate(schemas.PostIn, _model_args(args, schemas.PostIn))
    made = await store.add_posts([await post_row(store, values)])
    print_json({"id": made[0]})


def cmd_report(args: argparse.Namespace) -> int:
    """tracker report DIMENSION [--model M] [--start D] [--end D] [--csv]"""

    async def go(store: Store, settings: Settings) -> None:
        query = {k: v for k in ("model", "start", "end") if (v := getattr(args, k))}
        p = reports.params_from(query, settings)
        data = await reports.build(store, settings, p, args.dimension)
        insight_commands.say_fallback(data)  # model=data_driven never falls back silently
        currency = data["currency"]
        rows = [_major_row(r, currency) for r in [*data["rows"], data["totals"]]]
        if args.csv:
            sys.stdout.write(to_csv(reports.CSV_COLUMNS, reports.csv_rows(data)))
        else:
            print(
                f"{args.dimension} report {data['start']}..{data['end']}, model {data['model']}, "
                f"money in {currency}"
            )
            print_table(
                rows,
                [
                    "label",
                    "clicks",
                    "orders",
                    "revenue",
                    "cost",
                    "cpa",
                    "roas",
                    "roi_pct",
                    "band",
                ],
            )

    return _run(go)


def _major_row(row: dict[str, Any], currency: str) -> dict[str, Any]:
    """A report row for people: money in major units, credited orders without '.0'."""
    out = {**row, "orders": None if row.get("orders") is None else f"{row['orders']:g}"}
    for key in ("revenue_minor", "cost_minor", "cpa_minor"):
        value = row.get(key)
        out[key.removesuffix("_minor")] = (
            None if value is None else money.major(round(value), currency)
        )
    return out


def cmd_settings(args: argparse.Namespace) -> int:
    """Print every setting as the README's markdown table."""
    print(markdown_table())
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from tracker import demo

    return demo.command(_settings(), args.creators, args.orders)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tracker", description="Creatorlink tracking server")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("serve", help="run the server")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument(
        "--access-log", action="store_true", help="one line per request, secrets redacted"
    )
    p.add_argument(
        "--server",
        choices=["uvicorn", "granian"],
        default=None,
        help="HTTP server (default: TRACKER_SERVER)",
    )
    p.set_defaults(fn=cmd_serve)

    p = sub.add_parser("demo", help="load a 30-day demo portfolio into an empty store")
    p.add_argument("--creators", type=int, default=300)
    p.add_argument("--orders", type=int, default=1200)
    p.set_defaults(fn=cmd_demo)

    for name, fn, text in (
        ("settings", cmd_settings, "print every setting (markdown table)"),
        ("migrate", cmd_migrate, "apply pending database migrations"),
        ("purge", cmd_purge, "erase personal data past its retention period"),
        ("rematch", lambda _: _run(lambda st, se: rematch(st, se, say=print)), "re-match orders"),
    ):
        sub.add_parser(name, help=text).set_defaults(fn=fn)

    p = sub.add_parser("backup", help="online backup of the SQLite store to PATH")
    p.add_argument("path")
    p.set_defaults(fn=cmd_backup)

    p = sub.add_parser("export", help="write the whole store to FILE (JSON lines, - = stdout)")
    p.add_argument("file")
    p.set_defaults(fn=cmd_export)

    p = sub.add_parser("import", help="load an export FILE into an empty store (one transaction)")
    p.add_argument("file")
    p.set_defaults(fn=cmd_import)

    p = sub.add_parser("token", help="API tokens: create NAME | list | revoke NAME")
    p.add_argument("action", choices=["create", "list", "revoke"])
    p.add_argument("name", nargs="?")
    p.set_defaults(fn=cmd_token)

    guests.add_commands(guests.from_env(), sub, _run)
    for noun in (event_commands, rollup_commands, credit_commands, insight_commands):
        noun.add_commands(sub, _run)
    _add_record_commands(sub)
    return parser


def _add_cost_or_post_commands(sub: Any, kind: str) -> None:
    """cost|post add (a cost's options are the CSV's columns, amounts in major units),
    list, and import FILE.csv (help lists the columns)."""
    p = sub.add_parser(kind, help=f"{kind}s: add | list | import FILE.csv (all rows or none)")
    ksub = p.add_subparsers(dest="action", required=True)
    add = ksub.add_parser(
        "add",
        help="add one cost (the CSV columns as options; amounts in major units)"
        if kind == "cost"
        else "add one content post",
    )
    if kind == "cost":
        for column in COST_COLUMNS:
            add.add_argument(
                "--" + column.replace("_", "-"),
                dest=column,
                required=column in ("creator", "kind", "date"),
                choices=COST_KINDS if column == "kind" else None,
                help=COST_HELP[column],
            )
    else:
        _add_model_options(add, schemas.PostIn)
    ksub.add_parser("list")
    columns = ", ".join(COST_COLUMNS) if kind == "cost" else POST_COLUMNS
    imp = ksub.add_parser(
        "import",
        help=f"CSV with a header row; columns: {columns}"
        + (" (amounts in major units, e.g. 250.00)" if kind == "cost" else ""),
        description=f"Columns: {columns}. All rows are written, or none if any row is wrong.",
    )
    imp.add_argument("file")
    imp.add_argument("--dry-run", action="store_true")
    p.set_defaults(fn=cmd_import_csv, record=kind)


def _add_record_commands(sub: Any) -> None:
    """costs and posts, the report, and the catalogue's kinds (creator, link, code...)."""
    for kind in ("cost", "post"):
        _add_cost_or_post_commands(sub, kind)

    p = sub.add_parser(
        "report",
        help=f"ROI report by {' | '.join(DIMENSIONS)}; money in major units of the reporting "
        "currency",
    )
    p.add_argument("dimension", nargs="?", default="creator", choices=DIMENSIONS)
    p.add_argument("--model", choices=MODELS, help="attribution model (default: the setting)")
    p.add_argument("--start", help="first day, YYYY-MM-DD (default: 29 days before --end)")
    p.add_argument("--end", help="last day, YYYY-MM-DD (default: today, UTC)")
    p.add_argument("--csv", action="store_true")
    p.set_defaults(fn=cmd_report)

    for name, spec in KINDS.items():
        p = sub.add_parser(name, help=f"{name}s: create | list | get | update | disable | enable")
        ksub = p.add_subparsers(dest="action", required=True)
        c = ksub.add_parser("create")
        _add_model_options(c, spec.create_model)
        ksub.add_parser("list").add_argument("--limit", type=int, default=100)
        for action in ("get", "disable", "enable"):
            ksub.add_parser(action).add_argument("ref")
        u = ksub.add_parser("update")
        u.add_argument("ref")
        _add_model_options(u, spec.patch_model)
        p.set_defaults(fn=cmd_resource, kind=name)
        if name == "link":
            b = ksub.add_parser("bulk", help="one link per creator (--creators a,b or all)")
            _add_model_options(b, schemas.LinkBulk)
            b.set_defaults(fn=cmd_links_bulk)
        if name == "code":
            b = ksub.add_parser("bulk", help="one code per creator (--creators a,b or all)")
            _add_model_options(b, schemas.CodeBulk)
            b.set_defaults(fn=cmd_codes_extra)
            ksub.add_parser("export", help="CSV of all codes").set_defaults(fn=cmd_codes_extra)


def main(argv: list[str] | None = None) -> int:
    if bad := schemas.unstorable_argument(sys.argv[1:] if argv is None else argv):
        print(f"error: {bad}", file=sys.stderr)
        return 2
    args = build_parser().parse_args(argv)
    result: int = args.fn(args)
    return result


if __name__ == "__main__":
    raise SystemExit(main())
