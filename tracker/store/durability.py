"""Durability settings are checked, not assumed: read back from the engine at start-up.

SQLite silently keeps its old journal mode when WAL cannot be enabled (some network file
systems) and accepts any ``synchronous`` value; a server that believed it ran
``WAL + synchronous=FULL`` while it did not would lose acknowledged data on power loss.
So start-up reads the values back (``Engine.pragmas()``), logs them, shows them on
``/healthz`` and refuses to start when they differ from what the settings ask for.
"""

from __future__ import annotations

import logging
from typing import Any

from tracker.settings import Settings

log = logging.getLogger("tracker.store.durability")


class DurabilityError(RuntimeError):
    """The database does not run with the durability the settings require."""


def check(settings: Settings, found: dict[str, Any]) -> dict[str, Any]:
    """Return ``found`` if it matches the settings; raise ``DurabilityError`` otherwise."""
    if not settings.is_sqlite:
        if found.get("synchronous_commit") in ("off", "local"):
            log.warning(
                "PostgreSQL synchronous_commit=%s: a server crash may lose commits "
                "already acknowledged",
                found["synchronous_commit"],
            )
        return found
    want = {
        "journal_mode": "wal",
        "synchronous": settings.sqlite_synchronous,
        "busy_timeout": settings.sqlite_busy_timeout_ms,
    }
    wrong = {k: found.get(k) for k, v in want.items() if str(found.get(k)).lower() != str(v)}
    if wrong:
        raise DurabilityError(f"SQLite durability not in force: wanted {want}, got {wrong}")
    return found
