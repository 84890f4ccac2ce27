"""Report tables: one description of the columns drives the HTML table and its CSV export,
so the CSV holds exactly what the page shows (same rows, same order, same text).

Sorting happens here, on the rows a report returned (a report has one row per creator,
tier, campaign...: hundreds, not millions). Empty values sort last either way.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from starlette.responses import Response

from tracker.core import money

KINDS = ("text", "int", "money", "pct", "ratio", "band", "amount", "count")
#: "amount": text already in major units (a list mixing currencies names it per row).
#: ROI bands as the reports define them; the class colours the cell.
BAND_CLASSES = {"strong": "band-strong", "moderate": "band-moderate", "poor": "band-poor"}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = "text"
    help: str = ""

    def __post_init__(self) -> None:
        assert self.kind in KINDS, self.kind

    @property
    def numeric(self) -> bool:
        return self.kind not in ("text", "band")


@dataclass
class Table:
    columns: Sequence[Column]
    rows: list[dict[str, Any]]
    totals: dict[str, Any] | None = None
    currency: str = ""
    sort: str = ""
    descending: bool = False
    notes: list[str] = field(default_factory=list)

    def sorted(self, sort: str, descending: bool) -> Table:
        keys = {c.key for c in self.columns}
        if sort not in keys:
            return self
        present = [r for r in self.rows if r.get(sort) is not None]
        missing = [r for r in self.rows if r.get(sort) is None]
        present.sort(key=lambda r: _sort_key(r[sort]), reverse=descending)
        return Table(
            self.columns,
            present + missing,
            self.totals,
            self.currency,
            sort,
            descending,
            self.notes,
        )

    def header(self, column: Column) -> str:
        """Money columns name their currency once, in the header, not in every cell."""
        if column.kind == "money" and self.currency:
            return f"{column.label} ({self.currency})"
        return column.label

    def cell(self, row: dict[str, Any], column: Column) -> str:
        return format_value(row.get(column.key), column.kind, self.currency or "USD")

    def css(self, row: dict[str, Any], column: Column) -> str:
        classes = ["num"] if column.numeric else []
        if column.kind == "band" and row.get(column.key) in BAND_CLASSES:
            classes.append(BAND_CLASSES[row[column.key]])
        return " ".join(classes)

    def to_csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow([self.header(c) for c in self.columns])
        body = [*self.rows, *([self.totals] if self.totals else [])]
        for row in body:
            writer.writerow([_csv_safe(self.cell(row, c), c) for c in self.columns])
        return out.getvalue()


def _sort_key(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def format_value(value: Any, kind: str, currency: str = "USD") -> str:
    if value is None or value == "":
        return "—"
    if kind == "int":
        return f"{int(value):,}"
    if kind == "count":  # credited orders: whole under last/first touch, shares otherwise
        number = float(value)
        if abs(number - round(number)) < 1e-9:
            return f"{round(number):,}"
        return f"{number:,.2f}".rstrip("0").rstrip(".")
    if kind == "money":  # minor units of the table's currency
        exp = money.exponent(currency)
        return f"{round(value) / 10**exp:,.{exp}f}"
    if kind == "pct":
        return f"{float(value):,.1f}%"
    if kind == "ratio":
        return f"{float(value):,.2f}"
    return str(value)


def _csv_safe(text: str, column: Column) -> str:
    """A text cell that a spreadsheet would run as a formula (=, +, -, @ first: '@mia'
    included) gets a leading quote, as OWASP advises against CSV injection."""
    if not column.numeric and text.startswith(_FORMULA_START):
        return "'" + text
    return text


def csv_response(table: Table, filename: str) -> Response:
    """The table as a CSV download (UTF-8, the same cells as the page)."""
    return Response(
        table.to_csv(),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{filename}"'},
    )
