"""Charts of the monitoring tables: SVG drawn on the server by matplotlib, no network.

The console's Content-Security-Policy allows no inline style (``style-src 'self'``), and
matplotlib writes its colours as ``style="..."`` attributes and a ``<style>`` element. Every
declaration is therefore moved into the equivalent SVG presentation attribute (``fill``,
``stroke``, ...), which CSP does not touch, and the ``<style>`` element is dropped (its two
rules become attributes of the root). Text is drawn as paths (no font needed by the
browser); each chart carries a ``<title>`` and ``<desc>`` and the numbers are in the table
under it. Suppressed cells are drawn as empty (and said so in the description).
"""

from __future__ import annotations

import base64
import io
import re
from html import escape
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.colors import LinearSegmentedColormap

from monitoring.tables import Table, Unit

COLORS = ("#1f5f8b", "#e07b39", "#4c9a2a", "#8e44ad")
GRID_CMAP = LinearSegmentedColormap.from_list("welcome", ["#f2f6fa", "#1f5f8b"])
SUPPRESSED = "<{n}"

plt.rcParams.update(
    {
        "svg.fonttype": "none",  # <text> elements: light, selectable, read by screen readers
        "svg.hashsalt": "welcome-monitoring",  # stable ids: the same data, the same SVG
        "font.size": 9,
        "axes.spines.top": False,
        "axes.spines.right": False,
    }
)

_STYLE_ATTR = re.compile(r'style="([^"]*)"')
_STYLE_ELEMENT = re.compile(r"<style[^>]*>.*?</style>", re.S)
_ALLOWED = {
    "fill",
    "fill-opacity",
    "stroke",
    "stroke-width",
    "stroke-linejoin",
    "stroke-linecap",
    "stroke-opacity",
    "stroke-dasharray",
    "stroke-dashoffset",
    "stroke-miterlimit",
    "opacity",
    "clip-path",
    "fill-rule",
    "font-family",
    "font-size",
    "font-weight",
    "font-style",
    "text-anchor",
}


def _attributes(match: re.Match[str]) -> str:
    parts = []
    for declaration in match.group(1).split(";"):
        name, _, value = declaration.partition(":")
        name, value = name.strip(), value.strip()
        if name in _ALLOWED and value:
            parts.append(f'{name}="{escape(value, quote=True)}"')
    return " ".join(parts)


def csp_safe(svg: str) -> str:
    """matplotlib's SVG without inline CSS: presentation attributes only."""
    svg = _STYLE_ELEMENT.sub("", svg)
    svg = _STYLE_ATTR.sub(_attributes, svg)
    svg = re.sub(r"<\?xml[^>]*\?>\s*", "", svg)
    svg = re.sub(r"<!DOCTYPE[^>]*>\s*", "", svg)
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.S)
    svg = re.sub(r'(<svg[^>]*?) width="[^"]*" height="[^"]*"', r"\1", svg, count=1)
    return svg.replace("<svg ", '<svg stroke-linejoin="round" stroke-linecap="butt" ', 1)


def _label(text: str, width: int = 34) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _value(v: float | int | None, unit: Unit) -> float:
    if v is None:
        return 0.0
    return v / 100 if unit == Unit.cents else float(v)


def describe(table: Table, min_count: int) -> str:
    """The chart's text alternative: what it draws, and what is left out."""
    drawn = ", ".join(table.columns[i].label for i in table.chart_columns)
    hidden = sum(1 for row in table.rows for i in table.chart_columns if row.cells[i].suppressed)
    text = f"Grafico di «{table.title}»: {drawn} per {table.dimension.lower() or 'voce'}."
    if hidden:
        text += f" {hidden} valori con meno di {min_count} persone non sono disegnati."
    return text + " I numeri sono nella tabella sotto il grafico."


def _fingerprint(table: Table) -> tuple[Any, ...]:
    """What a chart is drawn from: the same fingerprint, the same SVG."""
    return (
        table.title,
        table.chart,
        table.chart_columns,
        table.dimension,
        tuple((c.label, c.unit) for c in table.columns),
        tuple((r.label, tuple((c.shown, c.suppressed) for c in r.cells)) for r in table.rows),
    )


_cache: dict[tuple[Any, ...], str | None] = {}
CACHE_SIZE = 256


def clear_cache() -> None:
    _cache.clear()


def render(table: Table, min_count: int) -> str | None:
    """The SVG of a table's chart (None when the table has no chart or no rows); charts
    already drawn for the same figures come from a small in-process cache."""
    key = (_fingerprint(table), min_count)
    if key not in _cache:
        if len(_cache) >= CACHE_SIZE:
            _cache.pop(next(iter(_cache)))
        _cache[key] = _render(table, min_count)
    return _cache[key]


def _render(table: Table, min_count: int) -> str | None:
    if table.chart == "none" or not table.rows:
        return None
    fig = _grid(table, min_count) if table.chart == "grid" else _bars(table)
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg")
    plt.close(fig)
    svg = csp_safe(buffer.getvalue())
    title = escape(table.title)
    desc = escape(describe(table, min_count))
    return re.sub(
        r"(<svg[^>]*>)",
        rf"\1<title>{title}</title><desc>{desc}</desc>",
        svg.replace("<svg ", '<svg role="img" class="chart" ', 1),
        count=1,
    )


def render_png(table: Table, min_count: int) -> str | None:
    """The chart as a PNG ``data:`` URI (the PDF report: WeasyPrint lays out a picture much
    faster than an SVG full of text)."""
    if table.chart == "none" or not table.rows:
        return None
    fig = _grid(table, min_count) if table.chart == "grid" else _bars(table)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=150)
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _bars(table: Table) -> Any:
    labels = [_label(r.label) for r in table.rows]
    columns = table.chart_columns
    if table.chart == "line":
        fig, ax = plt.subplots(figsize=(7.5, 2.6))
        for n, i in enumerate(columns):
            unit = table.columns[i].unit
            ys = [_value(r.cells[i].shown, unit) for r in table.rows]
            ax.plot(range(len(ys)), ys, color=COLORS[n % 4], label=table.columns[i].label)
        step = max(1, len(labels) // 8)
        ax.set_xticks(range(0, len(labels), step), labels[::step], rotation=0)
        ax.set_ylim(bottom=0)
        ax.grid(axis="y", color="#dddddd")
    elif table.chart == "bar":
        fig, ax = plt.subplots(figsize=(7.5, 2.8))
        width = 0.8 / len(columns)
        for n, i in enumerate(columns):
            unit = table.columns[i].unit
            ys = [_value(r.cells[i].shown, unit) for r in table.rows]
            xs = [x + n * width - 0.4 + width / 2 for x in range(len(ys))]
            ax.bar(xs, ys, width=width, color=COLORS[n % 4], label=table.columns[i].label)
        ax.set_xticks(
            range(len(labels)),
            labels,
            rotation=30 if len(labels) > 6 else 0,
            ha="right" if len(labels) > 6 else "center",
        )
        ax.grid(axis="y", color="#dddddd")
    else:  # hbar
        height = max(1.6, 0.32 * len(labels) * max(1, len(columns)) ** 0.5 + 0.6)
        fig, ax = plt.subplots(figsize=(7.5, height))
        bar = 0.8 / len(columns)
        for n, i in enumerate(columns):
            unit = table.columns[i].unit
            xs = [_value(r.cells[i].shown, unit) for r in table.rows]
            ys = [y + n * bar - 0.4 + bar / 2 for y in range(len(xs))]
            ax.barh(ys, xs, height=bar, color=COLORS[n % 4], label=table.columns[i].label)
        ax.set_yticks(range(len(labels)), labels)
        ax.invert_yaxis()
        ax.grid(axis="x", color="#dddddd")
    if len(columns) > 1:
        ax.legend(frameon=False, fontsize=8)
    unit = table.columns[columns[0]].unit
    if unit == Unit.cents:
        ax.set_xlabel("euro") if table.chart == "hbar" else ax.set_ylabel("euro")
    elif unit == Unit.minutes:
        ax.set_xlabel("minuti") if table.chart == "hbar" else ax.set_ylabel("minuti")
    # fixed margins: tight_layout would draw the figure once more (half the time)
    if table.chart == "hbar":
        fig.subplots_adjust(left=0.36, right=0.98, top=0.95, bottom=0.12)
    else:
        fig.subplots_adjust(left=0.08, right=0.98, top=0.92, bottom=0.24)
    return fig


def _grid(table: Table, min_count: int) -> Any:
    columns = table.chart_columns
    values = [[_value(r.cells[i].shown, Unit.count) for i in columns] for r in table.rows]
    fig, ax = plt.subplots(figsize=(7.5, max(1.8, 0.38 * len(table.rows) + 0.9)))
    ax.imshow(values, cmap=GRID_CMAP, aspect="auto")
    ax.set_xticks(range(len(columns)), [table.columns[i].label for i in columns])
    ax.set_yticks(range(len(table.rows)), [_label(r.label) for r in table.rows])
    ax.xaxis.tick_top()
    peak = max((v for row in values for v in row), default=0) or 1
    for y, row in enumerate(table.rows):
        for x, i in enumerate(columns):
            cell = row.cells[i]
            text = SUPPRESSED.format(n=min_count) if cell.suppressed else f"{cell.value or 0}"
            dark = values[y][x] > peak * 0.55
            ax.text(x, y, text, ha="center", va="center", color="white" if dark else "#222222")
    for side in ("top", "right", "left", "bottom"):
        ax.spines[side].set_visible(False)
    fig.subplots_adjust(left=0.36, right=0.98, top=0.85, bottom=0.04)
    return fig
