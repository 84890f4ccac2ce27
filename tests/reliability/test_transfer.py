"""Moving a whole store between engines (``tracker export`` / ``tracker import``), and
``tracker migrate`` run by several nodes at once on one fresh PostgreSQL schema."""

from __future__ import annotations

import asyncio
import io
import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, make_settings, run_cli, server_env
from tracker.clicks import reach
from tracker.core import clock
from tracker.links import service as catalogue
from tracker.store import Store, open_engine, open_store
from tracker.store.engine import Engine
from tracker.store.migrate import discover, migrate, migrations_dir
from tracker.store.transfer import TransferError, export_store, import_store, tables

pytestmark = pytest.mark.postgres


async def fill(store: Store, settings: Any) -> None:
    """Rows in every table, with NULLs, unicode, large integers and 0/1 flags."""
    creator = await store.create_creator(
        {"handle": "zoë.makes", "name": "Zoë 🌿", "platform": "tiktok", "followers": 9_876_543_210}
    )
    campaign = await store.create_campaign(
        {
            "name": "Spring drop",
            "budget_minor": 10**14,
            "currency": "EUR",
            "starts_on": "2026-03-01",
        }
    )
    for i in range(30):
        await catalogue.create_link(
            store,
            settings,
            {
                "destination": f"https://shop.example.com/p/{i}?v=1#x",
                "creator_id": creator["id"],
                "campaign_id": campaign["id"] if i % 2 else None,
                "title": f"Link «{i}»",
                "status": "active",
                "utm_override": i % 3 == 0,
                "content_type": "",
                "expires_at": None,
            },
            set(),
        )
    links = await store.list_links(limit=100)
    now = clock.now()
    rows = [
        (
            f"ck{i:06d}",
            clock.iso(now - i),
            links[i % 30]["slug"],
            links[i % 30]["id"],
            creator["id"],
            None if i % 5 == 0 else f"fp{i}",
            "mobile",
            "iOS",
            "Safari",
            i % 2,
            "previewer:slackbot" if i % 2 else None,
            0,
            "instagram.com",
            None,
            "GET",
            None if i % 5 == 0 else f"{i % 65536:04x}",
            "e3f1",
        )
        for i in range(2500)
    ]
    rows.append(
        (
            "ckorphan",
            clock.iso(now),
            "nosuch",
            None,
            None,
            "fp",
            "",
            "",
            "",
            0,
            None,
            0,
            None,
            None,
            "HEAD",
            None,
            None,
        )
    )
    await store.insert_clicks(rows)
    # a click two days back, so one closed day is sealed into the reach roll-up
    await store.insert_clicks([(f"ckold{rows[0][0]}", clock.iso(now - 2 * 86400), *rows[0][2:])])
    await reach.seal_due(store)
    await store.create_token("integration")
    await store.create_collab("Zoë x Zoë", None, "zoë-collab", [(creator["id"], 10_000)])
    await fill_orders(store, creator["id"], links[0]["slug"], rows[1][0])


async def fill_orders(store: Store, creator_id: str, slug: str, click_id: str) -> None:
    """Shops, codes, an order with a refund, its touches and its delivery."""
    from tracker.attribution.touches import Matching
    from tracker.orders.model import Delivery, Order, Refund
    from tracker.store.events import Outcome

    shop = await store.create_shop(
        {
            "slug": "eu",
            "name": "EU «shop»",
            "platform": "shopify",
            "secret": "s" * 32,
            "pixel_token": "p" * 24,
            "currency": "EUR",
        }
    )
    await store.create_codes([{"code": "ZOË10", "creator_id": creator_id}])
    # issue 18: an endpoint (so the order's event has a delivery), a commission rule (ledger
    # entries), the creator's own identity (a self-referral flag on the order below)
    await store.create_endpoint(
        {
            "url": "https://hooks.example.com/zoë",
            "description": "Zoë",
            "secret": "whsec_" + "A" * 32,
        }
    )
    await store.add_commission_rule(
        {
            "scope": "creator",
            "creator_id": creator_id,
            "rate_bp": 1250,
            "effective_from": "2026-01-01",
            "note": "Zoë",
        }
    )
    await store.add_identity(creator_id, "c" * 32)
    order = Order(
        external_id="1001",
        placed_at=clock.now_iso(),
        updated_at=clock.now_iso(),
        currency="EUR",
        total_minor=12345,
        status="paid",
        codes=["zoë10"],
        click_ids=[click_id],
        refunds=[Refund("r1", 345, clock.now_iso())],
    )
    await store.ingest_order(
        shop,
        order,
        Delivery("shopify", ["webhook:1"], "orders/create", '{"id": 1001}'),
        fingerprint=None,
        customer_hash="c" * 32,
        matching=Matching(),
    )
    [due] = await store.claim_deliveries("node-ü", clock.now_iso(), "2999-01-01T00:00:00Z", 10)
    await store.finish_delivery(due, "node-ü", Outcome(500, "HTTP 500 «x»", 12, None), 0)
    await store.add_payout(
        {"creator_id": creator_id, "currency": "EUR", "amount_minor": 10**12, "reference": "«1»"}
    )
    user = await store.create_admin_user("zoë@example.com", "admin", "scrypt$x")
    await store.create_admin_session("h" * 64, user["id"], "2999-01-01T00:00:00.000000Z")
    await store.count_login_attempt(
        [("e" * 16, "i" * 16)], now=clock.now_iso(), stale_before="", block_until=lambda k, n: ""
    )
    now = clock.now_iso()
    await store.count_orphan_visits([("nosuchslug", now[:13] + ":00:00Z", 3, 1, now, now)])
    await store.create_creator_page(creator_id, "d" * 64)
    await store.add_cost(
        {
            "creator_id": creator_id,
            "kind": "fee",
            "amount_minor": 10**12,
            "currency": "EUR",
            "incurred_on": "2026-11-01",
            "note": "Zoë",
        }
    )
    await store.add_posts(
        [
            {
                "creator_id": creator_id,
                "platform": "tiktok",
                "format": "reel",
                "posted_at": clock.now_iso(),
                "likes": 5,
                "reach": None,
            }
        ]
    )


async def dump(db: Engine) -> dict[str, list[tuple[Any, ...]]]:
    out: dict[str, list[tuple[Any, ...]]] = {}
    for name in await tables(db):
        rows = await db.fetch_all(f"SELECT * FROM {name}")
        out[name] = sorted((tuple(sorted(r.items())) for r in rows), key=repr)
    return out


@pytest.fixture
async def sqlite_store(tmp_path: Path) -> AsyncIterator[Store]:
    settings = make_settings(tmp_path, f"sqlite:///{tmp_path / 'source.db'}")
    store = await open_store(settings)
    await fill(store, settings)
    yield store
    await store.close()


@pytest.mark.anyio
async def test_sqlite_to_postgres_via_cli(
    tmp_path: Path, pg_schema_url: str, sqlite_store: Store, figures: Callable[[str, Any], None]
) -> None:
    source = await dump(sqlite_store.db)
    assert set(source) >= {"creators", "campaigns", "links", "clicks", "api_tokens"}
    assert not [t for t, v in source.items() if not v], "every table has rows"
    file = tmp_path / "export.jsonl"
    out = run_cli(server_env(tmp_path, f"sqlite:///{tmp_path / 'source.db'}"), "export", str(file))
    assert out.returncode == 0, out.stderr
    out = run_cli(server_env(tmp_path, pg_schema_url), "import", str(file))
    assert out.returncode == 0, out.stderr
    target = await open_store(make_settings(tmp_path, pg_schema_url))
    try:
        copied = await dump(target.db)
    finally:
        await target.close()
    assert copied == source  # every table, every row, every id and value
    figures("rows moved SQLite -> PostgreSQL", sum(len(v) for v in source.values()))
    # Importing twice is refused, and leaves the target as it was.
    again = run_cli(server_env(tmp_path, pg_schema_url), "import", str(file))
    assert again.returncode == 1 and "not empty" in again.stderr


@pytest.mark.anyio
async def test_postgres_back_to_sqlite(
    tmp_path: Path, pg_schema_url: str, sqlite_store: Store
) -> None:
    buf = io.StringIO()
    await export_store(sqlite_store.db, buf)
    pg = await open_store(make_settings(tmp_path, pg_schema_url))
    back = await open_store(make_settings(tmp_path, f"sqlite:///{tmp_path / 'back.db'}"))
    try:
        await import_store(pg.db, io.StringIO(buf.getvalue()))
        buf2 = io.StringIO()
        await export_store(pg.db, buf2)
        await import_store(back.db, io.StringIO(buf2.getvalue()))
        assert await dump(back.db) == await dump(sqlite_store.db)
    finally:
        await pg.close()
        await back.close()


@pytest.mark.anyio
async def test_truncated_or_mismatched_files_import_nothing(
    tmp_path: Path, pg_schema_url: str, sqlite_store: Store
) -> None:
    buf = io.StringIO()
    await export_store(sqlite_store.db, buf)
    lines = buf.getvalue().splitlines(keepends=True)
    pg = await open_store(make_settings(tmp_path, pg_schema_url))
    try:
        with pytest.raises(TransferError, match="truncated"):
            await import_store(pg.db, io.StringIO("".join(lines[:-200])))
        with pytest.raises(TransferError, match="counts differ"):
            await import_store(pg.db, io.StringIO("".join(lines[:-2] + lines[-1:])))
        hostile = [*lines[:2], '{"table": "creators", "columns": ["id; DROP TABLE links"]}\n']
        with pytest.raises(TransferError):
            await import_store(pg.db, io.StringIO("".join(hostile)))
        with pytest.raises(TransferError, match="not a creatorlink-export"):
            await import_store(pg.db, io.StringIO('{"hello": 1}\n'))
        assert all(not rows for rows in (await dump(pg.db)).values())  # all or nothing
    finally:
        await pg.close()


@pytest.mark.anyio
async def test_tables_added_later_are_carried(tmp_path: Path, pg_schema_url: str) -> None:
    """Export/import read the table list from the database: a new migration's table (with a
    foreign key, created by another team later) moves without any change to the code."""
    mig = tmp_path / "migrations"
    shutil.copytree(migrations_dir(), mig)
    (mig / "0999_widgets.sql").write_text(
        "CREATE TABLE widgets (\n    id TEXT PRIMARY KEY,\n"
        "    creator_id TEXT NOT NULL REFERENCES creators (id),\n    size BIGINT\n);\n"
    )
    src_settings = make_settings(tmp_path, f"sqlite:///{tmp_path / 'w.db'}")
    src = Store(await open_engine(src_settings))
    dst = Store(await open_engine(make_settings(tmp_path, pg_schema_url)))
    try:
        await migrate(src.db, mig)
        await migrate(dst.db, mig)
        creator = await src.create_creator({"handle": "w"})
        await src.db.execute(
            "INSERT INTO widgets (id, creator_id, size) VALUES (?, ?, ?)",
            ("wd_1", creator["id"], 2**40),
        )
        order = await tables(src.db)
        assert order.index("creators") < order.index("widgets")
        buf = io.StringIO()
        counts = await export_store(src.db, buf)
        assert counts["widgets"] == 1
        await import_store(dst.db, io.StringIO(buf.getvalue()))
        assert await dst.db.fetch_all("SELECT * FROM widgets") == [
            {"id": "wd_1", "creator_id": creator["id"], "size": 2**40}
        ]
    finally:
        await src.close()
        await dst.close()


@pytest.mark.anyio
async def test_concurrent_migrate_on_fresh_postgres(
    tmp_path: Path, pg_schema_url: str, figures: Callable[[str, Any], None]
) -> None:
    env = server_env(tmp_path, pg_schema_url)
    procs = await asyncio.gather(
        *(
            asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "tracker",
                "migrate",
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            for _ in range(4)
        )
    )
    outs = [await p.communicate() for p in procs]
    for p, (_stdout, stderr) in zip(procs, outs, strict=True):
        assert p.returncode == 0, stderr.decode()[-2000:]
    applied = [o.decode() for o, _ in outs if "nothing" not in o.decode()]
    assert len(applied) == 1, [o.decode() for o, _ in outs]  # one node applied, others waited
    store = await open_store(make_settings(tmp_path, pg_schema_url), migrate=False)
    try:
        rows = await store.db.fetch_all("SELECT version FROM schema_migrations")
    finally:
        await store.close()
    assert sorted(r["version"] for r in rows) == [m.version for m in discover("postgres")]
    figures("concurrent `tracker migrate` processes on one fresh schema", len(procs))


def test_export_never_replaces_what_is_not_a_regular_file(tmp_path: Path) -> None:
    """The export is written beside its path and renamed over it: pointed at a device, a
    directory or a symlink to one (``tracker export /dev/null`` as root), that rename
    replaced it with a plain file. Refused with one line; nothing is replaced."""
    env = server_env(tmp_path, f"sqlite:///{tmp_path / 'source.db'}")
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    link = tmp_path / "to-dir"
    link.symlink_to(tmp_path)
    for target in (fifo, tmp_path, link):
        out = run_cli(env, "export", str(target))
        assert out.returncode == 1, (target, out.stderr)
        assert "not a regular file" in out.stderr and "Traceback" not in out.stderr
    assert fifo.is_fifo() and link.is_symlink() and tmp_path.is_dir()
    assert not list(tmp_path.glob("*.partial"))
