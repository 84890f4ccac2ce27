"""Online backup of the SQLite store with SQLite's backup API, safe while the server runs.

The copy is taken in one step (``pages=-1``) from its own read connection: in WAL mode that
is a consistent snapshot that does not block the click writer (a paged copy would restart
every time the writer commits). It is written to ``PATH.partial``, checked with
``PRAGMA integrity_check``, fsynced and only then renamed to ``PATH``, so a ``PATH`` that
exists is always a complete, consistent database.

Restore: stop the server, copy the backup to ``$TRACKER_DATA_DIR/tracker.db`` (or point
``TRACKER_DATABASE_URL`` at it) and start it. PostgreSQL: use ``pg_dump`` (see README).
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from pathlib import Path


class BackupError(Exception):
    """The backup could not be made; nothing was left at the destination."""


def _backup(source: Path, dest: Path) -> dict[str, int]:
    if not source.exists():
        raise BackupError(f"no database at {source}")
    if dest.exists():
        raise BackupError(f"{dest} exists; choose a new path")
    partial = dest.with_name(dest.name + ".partial")
    partial.unlink(missing_ok=True)
    src = sqlite3.connect(source, timeout=30)  # reads only; WAL needs a writable -shm
    try:
        dst = sqlite3.connect(partial)
        try:
            src.backup(dst, pages=-1)
            check = dst.execute("PRAGMA integrity_check").fetchone()[0]
            if check != "ok":
                raise BackupError(f"backup failed its integrity check: {check}")
            clicks = dst.execute("SELECT COUNT(*) FROM clicks").fetchone()[0]
            pages = dst.execute("PRAGMA page_count").fetchone()[0]
            dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        finally:
            dst.close()
    except sqlite3.Error as exc:  # a path it cannot write, a full disk: one error line
        partial.unlink(missing_ok=True)
        raise BackupError(f"cannot write {dest}: {exc}") from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        src.close()
    fd = os.open(partial, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(partial, dest)
    dir_fd = os.open(dest.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return {"clicks": int(clicks), "pages": int(pages), "bytes": dest.stat().st_size}


async def backup_sqlite(source: Path, dest: Path) -> dict[str, int]:
    """Copy the live database at ``source`` to ``dest``; return a few facts about the copy."""
    return await asyncio.to_thread(_backup, source, dest)
