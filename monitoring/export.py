"""CSV of a monitoring table, as a spreadsheet in Italy reads it, safe to open.

``;``-separated, Italian headers, decimal comma, euro as "1234,56", suppressed cells as
«<5». Every text cell that a spreadsheet would take for a formula (starting with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return) gets a leading apostrophe (OWASP's advice
against CSV injection): an announcement's title typed by staff is such a text.
"""

from __future__ import annotations

import io

from core.csv_safe import safe_writer
from monitoring.period import Period
from monitoring.tables import Cell, Table, Unit

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    """A text cell a spreadsheet will show as text, never run as a formula."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def format_number(cell: Cell, unit: Unit, min_count: int) -> str:
    """A figure as a reader sees it (Italian decimal comma), «<5» when suppressed."""
    if cell.suppressed:
        return f"<{min_count}"
    value = cell.value
    if value is None:
        return ""
    if unit == Unit.cents:
        euros, cents = divmod(int(value), 100)
        return f"{euros},{cents:02d}"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.1f}".replace(".", ",")
    return str(int(value))


def table_csv(table: Table, *, period: Period, min_count: int, bom: bool = True) -> str:
    buffer = io.StringIO()
    writer = safe_writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([neutralise(table.title)])
    writer.writerow([neutralise(f"Periodo: {period.label()}")])
    headers = [table.dimension or "Voce"]
    for column in table.columns:
        suffix = " (€)" if column.unit == Unit.cents and "€" not in column.label else ""
        headers.append(column.label + suffix)
    writer.writerow([neutralise(h) for h in headers])
    rows = [*table.rows, *([table.total] if table.total is not None else [])]
    for row in rows:
        values = [
            format_number(cell, column.unit, min_count)
            for column, cell in zip(table.columns, row.cells, strict=True)
        ]
        writer.writerow([neutralise(row.label), *values])
    if table.note:
        writer.writerow([neutralise(table.note)])
    writer.writerow([f"<{min_count}: dato nascosto perché riguarda meno di {min_count} persone."])
    return ("\ufeff" if bom else "") + buffer.getvalue()
