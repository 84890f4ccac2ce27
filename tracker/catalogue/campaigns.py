"""Campaigns: how one reads back (the case-folded lookup key stays inside the store)."""

from __future__ import annotations

from typing import Any

from tracker.store.engine import Row


def present(row: Row, settings: Any = None) -> Row:
    return {k: v for k, v in row.items() if k != "name_key"}


def state(c: dict[str, Any], today: str) -> str:
    """disabled, scheduled (starts later), ended (ended before today) or active."""
    if c["status"] != "active":
        return "disabled"
    if c.get("starts_on") and c["starts_on"] > today:
        return "scheduled"
    if c.get("ends_on") and c["ends_on"] < today:
        return "ended"
    return "active"
