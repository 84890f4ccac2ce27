"""Charts as inline SVG, drawn on the server: no CDN, no JavaScript, no build step.

Only SVG presentation attributes are used (no ``style=``), so the strict CSP holds. Labels
are escaped. The y axis gets "nice" round ticks and a unit; the x axis gets dates.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, timedelta

from markupsafe import Markup, escape

from admin.web import quantity

TICKS = 4


def nice_max(value: float) -> float:
    """Top of the y axis: ``TICKS`` equal round steps (whole numbers, since the charts
    count things), the smallest that reaches ``value``."""
    raw = max(value, 1) / TICKS
    exp = 10 ** math.floor(math.log10(raw))
    for step in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        tick = step * exp
        if raw <= tick and tick == int(tick):
            return int(tick) * TICKS
    return int(10 * exp * TICKS)


def day_range(last: date, days: int) -> list[str]:
    return [(last - timedelta(days=days - 1 - i)).isoformat() for i in range(days)]


def _fmt(v: float) -> str:
    return f"{int(v):,}" if v == int(v) else f"{v:,.1f}"


def _amount(v: float, name: str | tuple[str, str]) -> str:
    if isinstance(name, tuple):
        return quantity(v, *name)
    return f"{_fmt(v)} {name}"


def bar_chart(
    labels: Sequence[str],
    series: Sequence[tuple[str | tuple[str, str], Sequence[float], str]],
    *,
    unit: str,
    title: str,
    width: int = 720,
    height: int = 240,
) -> Markup:
    """Grouped-over bars: each series drawn over the previous (e.g. all clicks, then human).

    ``series`` is [(name, values, css class)], values aligned with ``labels`` (ISO days); a
    name of counted things is (singular, plural), so a bar's tooltip reads "1 order".
    """
    # long: one SVG drawn top to bottom (grid, bars, labels, axes); split, it reads worse
    left, right, top, bottom = 56, 12, 16, 44
    plot_w, plot_h = width - left - right, height - top - bottom
    top_value = nice_max(max((max(v, default=0) for _, v, _ in series), default=0))
    n = max(len(labels), 1)
    slot = plot_w / n
    bar_w = max(slot * 0.7, 1)
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for i in range(TICKS + 1):  # horizontal grid and y ticks
        value = top_value * i / TICKS
        y = top + plot_h - plot_h * i / TICKS
        parts.append(
            f'<line class="grid" x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}"/>'
        )
        parts.append(
            f'<text class="tick" x="{left - 6}" y="{y + 4:.1f}" '
            f'text-anchor="end">{_fmt(value)}</text>'
        )
    parts.append(
        f'<text class="axis-label" x="12" y="{top + plot_h / 2:.1f}" '
        f'transform="rotate(-90 12 {top + plot_h / 2:.1f})" '
        f'text-anchor="middle">{escape(unit)}</text>'
    )
    for name, values, css in series:
        for i, v in enumerate(values):
            h = plot_h * (v / top_value) if top_value else 0
            x = left + i * slot + (slot - bar_w) / 2
            y = top + plot_h - h
            parts.append(
                f'<rect class="{escape(css)}" x="{x:.1f}" y="{y:.1f}" '
                f'width="{bar_w:.1f}" height="{h:.1f}"><title>'
                f"{escape(labels[i])}: {escape(_amount(v, name))}</title></rect>"
            )
    every = max(1, math.ceil(n / 8))
    for i, label in enumerate(labels):
        if (n - 1 - i) % every == 0:  # counted back from the latest day, always labelled
            x = left + i * slot + slot / 2
            parts.append(
                f'<text class="tick" x="{x:.1f}" y="{top + plot_h + 16}" '
                f'text-anchor="middle">{escape(label[5:])}</text>'
            )
    parts.append(
        f'<line class="axis" x1="{left}" x2="{width - right}" y1="{top + plot_h}" '
        f'y2="{top + plot_h}"/>'
    )
    parts.append(f'<line class="axis" x1="{left}" x2="{left}" y1="{top}" y2="{top + plot_h}"/>')
    parts.append(
        f'<text class="axis-label" x="{left + plot_w / 2:.1f}" y="{height - 6}" '
        'text-anchor="middle">day (UTC, month-day)</text>'
    )
    parts.append("</svg>")
    return Markup("".join(parts))


def share_bars(
    items: Sequence[tuple[str, float | None]], *, title: str, width: int = 720
) -> Markup:
    """Horizontal bars of percentages (0-100), one per row: revenue concentration."""
    row_h, left, right = 34, 150, 70
    height = row_h * max(len(items), 1) + 10
    plot_w = width - left - right
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for i, (label, pct) in enumerate(items):
        y = 5 + i * row_h
        share = max(0.0, min(100.0, pct or 0.0))
        parts.append(
            f'<text class="tick" x="{left - 8}" y="{y + row_h / 2 + 4:.1f}" '
            f'text-anchor="end">{escape(label)}</text>'
        )
        parts.append(
            f'<rect class="bar-all" x="{left}" y="{y + 6}" width="{plot_w}" height="{row_h - 12}"/>'
        )
        parts.append(
            f'<rect class="bar-human" x="{left}" y="{y + 6}" width="{plot_w * share / 100:.1f}" '
            f'height="{row_h - 12}"><title>{escape(label)}: {share:.1f}%</title></rect>'
        )
        text = "no revenue" if pct is None else f"{share:.1f}%"
        parts.append(
            f'<text class="tick" x="{left + plot_w + 6}" y="{y + row_h / 2 + 4:.1f}">{text}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def heatmap(labels: Sequence[str], matrix: Sequence[Sequence[int]], *, title: str) -> Markup:
    """A square matrix as coloured cells (darker = more shared), counts written in each.
    Colour strength is a presentation attribute (fill-opacity), so the strict CSP holds."""
    n = len(labels)
    cell, left, top = 44, 130, 110
    width, height = left + cell * n + 90, top + cell * n + 10
    off = [v for i, row in enumerate(matrix) for j, v in enumerate(row) if i != j]
    peak = max(off, default=0) or 1
    parts = [
        f'<svg class="chart heatmap" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for i, label in enumerate(labels):
        y = top + i * cell + cell / 2 + 4
        parts.append(
            f'<text class="tick" x="{left - 6}" y="{y:.1f}" text-anchor="end">{escape(label)}</text>'
        )
        x = left + i * cell + cell / 2
        parts.append(
            f'<text class="tick" x="{x:.1f}" y="{top - 6}" text-anchor="start" '
            f'transform="rotate(-45 {x:.1f} {top - 6})">{escape(label)}</text>'
        )
    for i, row in enumerate(matrix):
        for j, value in enumerate(row):
            x, y = left + j * cell, top + i * cell
            strength = 0.08 if i == j else 0.1 + 0.9 * value / peak
            css = "tick on-dark" if i != j and value / peak > 0.55 else "tick"
            parts.append(
                f'<rect x="{x}" y="{y}" width="{cell - 2}" height="{cell - 2}" fill="#2f5bd3" '
                f'fill-opacity="{strength:.2f}"><title>{escape(labels[i])} and '
                f"{escape(labels[j])}: {value:,}</title></rect>"
            )
            parts.append(
                f'<text class="{css}" x="{x + cell / 2 - 1:.1f}" y="{y + cell / 2 + 3:.1f}" '
                'text-anchor="middle">'
                f"{'' if i == j else _fmt(value)}</text>"
            )
    parts.append("</svg>")
    return Markup("".join(parts))
