"""Charts of the monitoring tables: SVG drawn on the server, no network, no script.

``monitoring.chart_svg`` lays out the four kinds (bar, hbar, line, grid) by hand, with
presentation attributes only: the console's Content-Security-Policy (``style-src 'self'``)
allows no inline style. Each chart carries a ``<title>`` and ``<desc>`` (its text
alternative), each bar and point its own ``<title>``, and the numbers are in the table
under it. Suppressed cells are not drawn (and the description says so). The same SVG goes
into the console, the monthly report's HTML and its PDF (WeasyPrint draws it).
"""

from __future__ import annotations

from html import escape
from typing import Any

from monitoring import chart_svg
from monitoring.tables import Table


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
    if table.chart == "grid":
        svg = chart_svg.grid(table, min_count)
    elif table.chart == "hbar":
        svg = chart_svg.horizontal(table)
    else:
        svg = chart_svg.vertical(table)
    title = escape(table.title)
    desc = escape(describe(table, min_count))
    head, _, rest = svg.partition(">")
    return f'{head} role="img" class="chart"><title>{title}</title><desc>{desc}</desc>{rest}'
