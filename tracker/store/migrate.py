"""Numbered SQL migrations, applied in order, each once, recorded in ``schema_migrations``.

Files are ``migrations/NNNN_name.sql``; where a dialect truly needs different SQL a file
``NNNN_name.postgres.sql`` (or ``.sqlite.sql``) replaces the common one for that engine.
Each file runs in one transaction with its bookkeeping row, under the engine's migration
lock, so several nodes may run ``tracker migrate`` at once and only one applies each file.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from tracker.store.engine import Engine

log = logging.getLogger("tracker.migrate")
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True)
class Migration:
    version: str
    name: str
    path: Path


def migrations_dir() -> Path:
    packaged = Path(__file__).resolve().parent.parent / "_migrations"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "migrations"


def discover(dialect: str, directory: Path | None = None) -> list[Migration]:
    directory = directory or migrations_dir()
    found: dict[str, Migration] = {}
    for path in sorted(directory.glob("*.sql")):
        stem = path.name
        specific = stem.endswith(f".{dialect}.sql")
        if specific:
            stem = stem.removesuffix(f".{dialect}.sql") + ".sql"
        elif stem.count(".") > 1:
            continue  # another dialect's file
        m = _NAME.match(stem)
        if not m:
            continue
        if specific or m.group(1) not in found:
            found[m.group(1)] = Migration(m.group(1), m.group(2), path)
    return [found[v] for v in sorted(found)]


async def migrate(engine: Engine, directory: Path | None = None) -> list[str]:
    """Apply pending migrations; return the versions applied now."""
    applied_now: list[str] = []
    async with engine.migration_lock():
        async with engine.transaction() as tx:
            await tx.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                "version TEXT PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
            )
        for mig in discover(engine.dialect, directory):
            async with engine.transaction() as tx:
                done = await tx.fetch_one(
                    "SELECT version FROM schema_migrations WHERE version = ?", (mig.version,)
                )
                if done:
                    continue
                log.info("applying migration %s_%s", mig.version, mig.name)
                await tx.run_script(mig.path.read_text())
                await tx.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                    (mig.version, mig.name, datetime.now(UTC).isoformat()),
                )
                applied_now.append(mig.version)
    return applied_now
