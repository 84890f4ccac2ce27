"""CSV import of creators: parse, validate every row, report errors by row number.

Rows are validated with the API's own ``CreatorIn`` model, so the import accepts exactly
what the API accepts. Row numbers count the header as row 1, as a spreadsheet shows them.
Nothing is written unless every row is valid (the caller writes all rows in one
transaction).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from tracker import schemas

COLUMNS = tuple(schemas.CreatorIn.model_fields)
MAX_ROWS = 10_000


@dataclass
class ImportRow:
    number: int
    raw: dict[str, str]
    data: dict[str, Any] | None = None
    errors: list[str] = field(default_factory=list)


@dataclass
class ImportPreview:
    columns: list[str] = field(default_factory=list)
    rows: list[ImportRow] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # file-level: header, size

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.rows) and not any(r.errors for r in self.rows)

    @property
    def error_count(self) -> int:
        return len(self.errors) + sum(1 for r in self.rows if r.errors)

    def valid_data(self) -> list[dict[str, Any]]:
        return [r.data for r in self.rows if r.data is not None]


def decode(raw: bytes) -> str:
    """UTF-8, with or without the BOM spreadsheets add; anything else is refused."""
    return raw.decode("utf-8-sig")


def parse_creators(text: str, existing: set[str] | None = None) -> ImportPreview:
    """Validate a creators CSV; ``existing`` holds handle keys already in the database."""
    out = ImportPreview()
    if "\x00" in text:
        out.errors.append(
            "the file contains NUL bytes: is it a spreadsheet (.xlsx) rather "
            "than CSV? Save it as 'CSV UTF-8'"
        )
        return out
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        out.errors.append("row 1: the file is empty; the first row must name the columns")
        return out
    except csv.Error as exc:
        out.errors.append(f"row 1: {exc}")
        return out
    out.columns = [h.strip().lower() for h in header]
    unknown = [c for c in out.columns if c not in COLUMNS]
    if unknown:
        out.errors.append(f"row 1: unknown column {unknown[0]!r} (allowed: {', '.join(COLUMNS)})")
    if "handle" not in out.columns:
        out.errors.append("row 1: a 'handle' column is required")
    if len(set(out.columns)) != len(out.columns):
        out.errors.append("row 1: a column is named twice")
    if out.errors:
        return out
    seen: dict[str, int] = {}
    number = 1
    while True:
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            out.errors.append(f"row {number + 1}: {exc}")
            break
        number += 1
        if not any(v.strip() for v in values):
            continue
        if len(out.rows) >= MAX_ROWS:
            out.errors.append(f"more than {MAX_ROWS} rows; split the file")
            break
        row = ImportRow(number, dict(zip(out.columns, (v.strip() for v in values), strict=False)))
        if len(values) != len(out.columns):
            row.errors.append(f"expected {len(out.columns)} values, found {len(values)}")
        else:
            _validate(row, seen, existing or set())
        out.rows.append(row)
    if not out.rows and not out.errors:
        out.errors.append("no data rows after the header")
    return out


def _validate(row: ImportRow, seen: dict[str, int], existing: set[str]) -> None:
    fields = {k: v for k, v in row.raw.items() if v != ""}
    try:
        model = schemas.CreatorIn.model_validate(fields)
    except ValidationError as exc:
        for e in exc.errors():
            where = ".".join(str(p) for p in e["loc"]) or "row"
            row.errors.append(f"{where}: {schemas.plain_message(e)}")
        return
    data = schemas.to_row(model)
    key = str(data["handle"]).lower()
    if key in seen:
        row.errors.append(f"handle: {data['handle']!r} is already in row {seen[key]}")
        return
    seen[key] = row.number
    if key in existing:
        row.errors.append(f"handle: a creator {data['handle']!r} already exists")
        return
    row.data = data


def handle_keys(text: str) -> list[str]:
    """Handle keys mentioned in the file (for one look-up of those already taken)."""
    try:
        rows = list(csv.DictReader(io.StringIO(text)))
    except csv.Error:
        return []
    keys = set()
    for r in rows:
        handle = next((v for k, v in r.items() if k and k.strip().lower() == "handle"), None)
        if isinstance(handle, str) and handle.strip():
            keys.add(handle.strip().lstrip("@").lower())
    return sorted(keys)
