"""Campaigns: how one reads back (the case-folded lookup key stays inside the store)."""

from __future__ import annotations

from typing import Any

from tracker.store.engine import Row


def present(row: Row, settings: Any = None) -> Row:
    return {k: v for k, v in row.items() if k != "name_key"}
