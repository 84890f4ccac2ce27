"""Text for the operator's terminal: what the CLI prints of stored values.

Stored text is whatever the API, the panel or a shop sent. Characters a terminal acts on
(C0 and C1 controls, DEL: ESC sequences clear the screen or retitle the window, U+009B is a
CSI) or that reorder what it shows (bidirectional overrides and isolates, line and paragraph
separators) are printed as JSON escapes (``\\u001b``), so a table or a JSON document shows
them without obeying them, and the JSON still reads back as what was stored.
"""

from __future__ import annotations

import json
import re
from typing import Any

_ACTIVE = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def safe(text: str) -> str:
    """``text`` with every character a terminal would act on escaped."""
    return _ACTIVE.sub(_escape, text)


def print_json(obj: Any) -> None:
    """``obj`` as indented JSON (non-ASCII letters as they are, controls escaped; its raw
    newlines are its layout: one in a string is already ``\\n``)."""
    text = json.dumps(obj, indent=2, default=str, ensure_ascii=False)
    print("\n".join(safe(line) for line in text.split("\n")))


def print_table(rows: list[dict[str, Any]], cols: list[str]) -> None:
    """Rows as aligned columns of text (None as blank)."""
    cells = [[safe("" if r.get(c) is None else str(r.get(c))) for c in cols] for r in rows]
    widths = [max([len(c), *(len(row[i]) for row in cells)]) for i, c in enumerate(cols)]
    print("  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True)))
    for row in cells:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)))
