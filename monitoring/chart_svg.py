"""The monitoring charts drawn as SVG by hand: vertical bars, horizontal bars, a line, a grid.

Four chart kinds with fixed margins need no plotting library: each is a few rectangles,
lines and ``<text>`` elements laid out here, in well under a millisecond (matplotlib took
50-150 ms a chart). The SVG obeys the console's Content-Security-Policy: colours, fonts and
positions are presentation attributes (``fill``, ``font-size``, ``transform``), never a
``style`` attribute or element, and there is no script or link. Every bar and point carries
its own ``<title>`` (the label and the number, in Italian), which Chromium shows on hover and
screen readers read; the chart's ``<title>``/``<desc>`` are added by ``monitoring.charts``.
A suppressed cell is not drawn (no bar, a gap in the line) and reads «<5» in the grid.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

from monitoring.html import number
from monitoring.tables import Table, Unit

COLORS = ("#1f5f8b", "#e07b39", "#4c9a2a", "#8e44ad")
GRID_LOW, GRID_HIGH = (0xF2, 0xF6, 0xFA), (0x1F, 0x5F, 0x8B)
SUPPRESSED = "<{n}"
WIDTH = 750
FONT = 12
FONT_FAMILY = "DejaVu Sans, Liberation Sans, Arial, sans-serif"
TEXT = "#222222"
AXIS = "#555555"
GRID_LINE = "#dddddd"
LABEL_CHARS = 34


def _label(text: str, width: int = LABEL_CHARS) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _value(v: float | int | None, unit: Unit) -> float | None:
    if v is None:
        return None
    return v / 100 if unit == Unit.cents else float(v)


def _f(x: float) -> str:
    """A coordinate: two decimals at most, no trailing zeros (small, stable SVG)."""
    return f"{x:.2f}".rstrip("0").rstrip(".")


def _text(x: float, y: float, content: str, *, anchor: str = "start", **attrs: str) -> str:
    extra = "".join(f' {k.replace("_", "-")}="{escape(v)}"' for k, v in attrs.items())
    return f'<text x="{_f(x)}" y="{_f(y)}" text-anchor="{anchor}"{extra}>{escape(content)}</text>'


def nice_ticks(peak: float, count: int = 5) -> list[float]:
    """0 and round steps (1, 2, 2.5 or 5 times a power of ten) up to at least ``peak``."""
    if peak <= 0:
        return [0.0, 1.0]
    raw = peak / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    if step < 1 and peak >= 1:
        step = 1.0
    top = math.ceil(peak / step - 1e-9) * step
    return [round(i * step, 6) for i in range(round(top / step) + 1)]


def _width(text: str, size: float = FONT) -> float:
    """About how wide a text is drawn (DejaVu Sans averages 0.58 of the font size)."""
    return len(text) * size * 0.58


def _tick(v: float) -> str:
    return number(int(v) if float(v).is_integer() else v, Unit.count)


def _svg(height: float, body: Sequence[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {_f(height)}" '
        f'font-family="{FONT_FAMILY}" font-size="{FONT}" fill="{TEXT}">' + "".join(body) + "</svg>"
    )


def _legend(table: Table, right: float, y: float) -> list[str]:
    if len(table.chart_columns) < 2:
        return []
    parts, x = [], right
    for n, i in reversed(list(enumerate(table.chart_columns))):
        label = table.columns[i].label
        x -= _width(label, FONT - 1) + 8
        parts.append(_text(x, y, label, font_size=str(FONT - 1)))
        x -= 14
        parts.append(
            f'<rect x="{_f(x)}" y="{_f(y - 9)}" width="10" height="10" fill="{COLORS[n % 4]}"/>'
        )
        x -= 14
    return parts


def _unit_label(table: Table) -> str:
    unit = table.columns[table.chart_columns[0]].unit
    return {Unit.cents: "euro", Unit.minutes: "minuti"}.get(unit, "")


def _point_title(table: Table, row: int, column: int) -> str:
    cell = table.rows[row].cells[column]
    unit = table.columns[column].unit
    what = f"{table.rows[row].label}, {table.columns[column].label}: "
    return escape(what + number(cell.shown, unit))


def _series(table: Table) -> list[list[float | None]]:
    return [
        [_value(r.cells[i].shown, table.columns[i].unit) for r in table.rows]
        for i in table.chart_columns
    ]


def vertical(table: Table) -> str:
    """Bars (``bar``) or lines (``line``) over the rows, the values up the left axis."""
    line = table.chart == "line"
    series = _series(table)
    peak = max((v for s in series for v in s if v is not None), default=0.0)
    ticks = nice_ticks(peak)
    left, right = max(40.0, _width(_tick(ticks[-1])) + 16), WIDTH - 14.0
    n = len(table.rows)
    step = max(1, n // 8) if line else 1
    labels = [_label(table.rows[i].label) for i in range(0, n, step)]
    widest = max(_width(label) for label in labels)
    rotate = widest > (right - left) / n * step - 6  # side by side they would overlap
    if rotate:  # slanted by 30 degrees: the first must not leave the picture on the left
        left = max(left, _width(labels[0]) * 0.87 - (right - left) / n / 2 + 8)
    slot = (right - left) / n
    margin = min(130.0, 24.0 + widest * 0.5) if rotate else 34.0
    top = 30.0
    bottom = top + (196.0 if line else 216.0)
    height = bottom + margin
    scale = (bottom - top) / ticks[-1]
    body: list[str] = []
    for t in ticks:
        y = bottom - t * scale
        colour = AXIS if t == 0 else GRID_LINE
        body.append(
            f'<line x1="{_f(left)}" x2="{_f(right)}" y1="{_f(y)}" y2="{_f(y)}" '
            f'stroke="{colour}" stroke-width="1"/>'
        )
        body.append(_text(left - 6, y + 4, _tick(t), anchor="end"))
    unit = _unit_label(table)
    if unit:
        body.append(_text(left - 6, top - 12, unit, anchor="end"))
    for x_index, label in zip(range(0, n, step), labels, strict=True):
        x = left + slot * (x_index + 0.5)
        if rotate:
            y = bottom + 14
            body.append(_text(x, y, label, anchor="end", transform=f"rotate(-30 {_f(x)} {_f(y)})"))
        else:
            body.append(_text(x, bottom + 16, label, anchor="middle"))
    for k, values in enumerate(series):
        colour = COLORS[k % 4]
        column = table.chart_columns[k]
        if line:
            body.extend(_line(table, values, column, colour, left, slot, bottom, scale))
            continue
        width = slot * 0.8 / len(series)
        for x_index, v in enumerate(values):
            if v is None or v <= 0:
                continue
            x = left + slot * (x_index + 0.1) + k * width
            h = v * scale
            body.append(
                f'<rect x="{_f(x)}" y="{_f(bottom - h)}" width="{_f(width)}" height="{_f(h)}" '
                f'fill="{colour}"><title>{_point_title(table, x_index, column)}</title></rect>'
            )
    body.extend(_legend(table, right, 14))
    return _svg(height, body)


def _line(
    table: Table,
    values: list[float | None],
    column: int,
    colour: str,
    left: float,
    slot: float,
    bottom: float,
    scale: float,
) -> list[str]:
    """One series as polylines, broken where a value is hidden, and a dot at each point."""
    parts: list[str] = []
    runs: list[list[tuple[float, float]]] = [[]]
    dots: list[str] = []
    for x_index, v in enumerate(values):
        if v is None:
            runs.append([])
            continue
        x, y = left + slot * (x_index + 0.5), bottom - v * scale
        runs[-1].append((x, y))
        dots.append(
            f'<circle cx="{_f(x)}" cy="{_f(y)}" r="2" fill="{colour}">'
            f"<title>{_point_title(table, x_index, column)}</title></circle>"
        )
    for run in runs:
        if len(run) > 1:
            points = " ".join(f"{_f(x)},{_f(y)}" for x, y in run)
            parts.append(
                f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="1.5"/>'
            )
    return parts + dots


def horizontal(table: Table) -> str:
    """Horizontal bars (``hbar``): one line a row, its label on the left."""
    series = _series(table)
    n = len(table.rows)
    row_height = 32.0 * max(1, len(series)) ** 0.5
    top = 30.0 if len(series) > 1 else 12.0
    bottom = top + row_height * n
    height = bottom + 36.0
    left, right = WIDTH * 0.36, WIDTH - 28.0  # room for the last tick's number
    peak = max((v for s in series for v in s if v is not None), default=0.0)
    ticks = nice_ticks(peak)
    scale = (right - left) / ticks[-1]
    body: list[str] = []
    for t in ticks:
        x = left + t * scale
        colour = AXIS if t == 0 else GRID_LINE
        body.append(
            f'<line x1="{_f(x)}" x2="{_f(x)}" y1="{_f(top)}" y2="{_f(bottom)}" '
            f'stroke="{colour}" stroke-width="1"/>'
        )
        body.append(_text(x, bottom + 16, _tick(t), anchor="middle"))
    unit = _unit_label(table)
    if unit:
        body.append(_text(right, bottom + 32, unit, anchor="end"))
    bar = row_height * 0.8 / len(series)
    for y_index, row in enumerate(table.rows):
        y = top + row_height * (y_index + 0.5)
        body.append(_text(left - 8, y + 4, _label(row.label), anchor="end"))
        for k, values in enumerate(series):
            v = values[y_index]
            if v is None or v <= 0:
                continue
            column = table.chart_columns[k]
            y0 = top + row_height * (y_index + 0.1) + k * bar
            body.append(
                f'<rect x="{_f(left)}" y="{_f(y0)}" width="{_f(v * scale)}" height="{_f(bar)}" '
                f'fill="{COLORS[k % 4]}"><title>{_point_title(table, y_index, column)}</title>'
                "</rect>"
            )
    body.extend(_legend(table, right, 14))
    return _svg(height, body)


def _shade(share: float) -> str:
    low, high = GRID_LOW, GRID_HIGH
    rgb = (round(a + (b - a) * share) for a, b in zip(low, high, strict=True))
    return "#" + "".join(f"{c:02x}" for c in rgb)


def grid(table: Table, min_count: int) -> str:
    """A grid of counts (rows x columns), each cell shaded by its value and written in it."""
    columns = table.chart_columns
    n = len(table.rows)
    top, left, right = 34.0, WIDTH * 0.36, WIDTH - 14.0
    row_height = 38.0
    height = max(180.0, top + row_height * n + 10)
    width = (right - left) / len(columns)
    values = [[_value(r.cells[i].shown, Unit.count) or 0.0 for i in columns] for r in table.rows]
    peak = max((v for row in values for v in row), default=0.0) or 1.0
    body: list[str] = []
    for x_index, i in enumerate(columns):
        x = left + width * (x_index + 0.5)
        body.append(_text(x, top - 10, _label(table.columns[i].label, 14), anchor="middle"))
    for y_index, row in enumerate(table.rows):
        y = top + row_height * y_index
        body.append(_text(left - 8, y + row_height / 2 + 4, _label(row.label), anchor="end"))
        for x_index, i in enumerate(columns):
            cell = row.cells[i]
            share = values[y_index][x_index] / peak
            x = left + width * x_index
            shown = (
                SUPPRESSED.format(n=min_count)
                if cell.suppressed
                else number(cell.value or 0, Unit.count)
            )
            body.append(
                f'<rect x="{_f(x)}" y="{_f(y)}" width="{_f(width)}" height="{_f(row_height)}" '
                f'fill="{_shade(share)}" stroke="#ffffff" stroke-width="1"/>'
            )
            colour = "#ffffff" if share > 0.55 else TEXT
            body.append(
                _text(x + width / 2, y + row_height / 2 + 4, shown, anchor="middle", fill=colour)
            )
    return _svg(height, body)
