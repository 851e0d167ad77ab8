"""HTML of the monitoring views, shared by the console section and the monthly report.

Numbers in Italian (thousands with a dot, decimals with a comma, euro as «1.234,56 €»),
suppressed cells as «<5» with an explanation, charts as inline SVG (monitoring.charts).
"""

from __future__ import annotations

from html import escape

from markupsafe import Markup

from monitoring.tables import Cell, Figure, Table, Unit


def number(value: float | int | None, unit: Unit) -> str:
    if value is None:
        return "–"
    if unit == Unit.cents:
        euros, cents = divmod(int(value), 100)
        return f"{euros:,}".replace(",", ".") + f",{cents:02d} €"
    if unit == Unit.percent:
        return f"{value:.1f}".replace(".", ",") + " %"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}".replace(",", " ").replace(".", ",").replace(" ", ".")
    return f"{int(value):,}".replace(",", ".")


def cell_text(cell: Cell, unit: Unit, min_count: int) -> str:
    return f"<{min_count}" if cell.suppressed else number(cell.value, unit)


def delta(figure: Figure) -> str:
    """«+12 % rispetto al periodo precedente», when both are visible and comparable."""
    prev = figure.previous
    if prev is None or prev.suppressed or figure.current.suppressed:
        return ""
    if not prev.value or figure.current.value is None:
        return ""
    change = (figure.current.value - prev.value) / prev.value * 100
    sign = "+" if change >= 0 else "−"
    return f"{sign}{abs(change):.0f} % rispetto al periodo precedente"


def table_html(table: Table, min_count: int, *, csv_url: str | None = None) -> Markup:
    """A figure (chart + table) of one monitoring table, the chart as inline SVG."""
    from monitoring.charts import render  # charts import this module: imported on use

    parts = [f'<figure class="mon-table" id="t-{escape(table.key)}">']
    parts.append(f"<figcaption><h3>{escape(table.title)}</h3></figcaption>")
    svg = render(table, min_count)
    if svg:
        parts.append(f'<div class="mon-chart">{svg}</div>')
    parts.append('<div class="mon-scroll"><table class="mon">')
    parts.append(f'<thead><tr><th scope="col">{escape(table.dimension)}</th>')
    for column in table.columns:
        parts.append(f'<th scope="col" class="num">{escape(column.label)}</th>')
    parts.append("</tr></thead><tbody>")
    rows = [*table.rows, *([table.total] if table.total is not None else [])]
    for row in rows:
        total = ' class="total"' if row is table.total else ""
        parts.append(f'<tr{total}><th scope="row">{escape(row.label)}</th>')
        for column, cell in zip(table.columns, row.cells, strict=True):
            hidden = f' class="num hidden" title="meno di {min_count} persone"'
            klass = hidden if cell.suppressed else ' class="num"'
            parts.append(f"<td{klass}>{escape(cell_text(cell, column.unit, min_count))}</td>")
        parts.append("</tr>")
    parts.append("</tbody></table></div>")
    notes = [table.note] if table.note else []
    if any(c.suppressed for r in rows for c in r.cells):
        notes.append(
            f"<{min_count}: dato nascosto perché riguarda meno di {min_count} persone "
            "(e, se serve, un altro dato perché il totale non lo riveli)."
        )
    for note in notes:
        parts.append(f'<p class="mon-note">{escape(note)}</p>')
    if csv_url:
        parts.append(f'<p><a href="{escape(csv_url)}" download>Scarica la tabella (CSV)</a></p>')
    parts.append("</figure>")
    return Markup("".join(parts))
