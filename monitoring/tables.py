"""The tables every monitoring view is made of, and the small-count rule they obey.

A cell holds a figure (a count, an amount in cents, a duration in minutes, a share) and
``people``: how many distinct people (conversations or citizens) it is built from. A cell
built from fewer than ``min_count`` people (MONITORING_MIN_COUNT, default 5) is *suppressed*:
shown as «<5», its value never leaves this module in a view, a chart, a CSV or the report.

Totals must not give a suppressed cell back by subtraction. Additive columns (counts,
amounts) of a table with a total row get the secondary rule: while the suppressed cells of
the column are fewer than two, or built together from fewer than ``min_count`` people, the
smallest visible cell is suppressed too; when nothing is left to suppress, the total goes.
The grid (two dimensions with row and column totals) applies the same rule to each row and
each column until nothing changes. Non-additive columns (medians, shares) get no total.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum


class Unit(StrEnum):
    count = "count"
    cents = "cents"
    minutes = "minutes"
    percent = "percent"
    score = "score"


@dataclass
class Cell:
    value: float | int | None  # None: nothing to measure (e.g. no waiting time yet)
    people: int
    suppressed: bool = False

    @property
    def shown(self) -> float | int | None:
        """The value a reader may see: None when suppressed."""
        return None if self.suppressed else self.value


@dataclass
class Column:
    key: str
    label: str  # Italian
    unit: Unit = Unit.count
    additive: bool = True  # counts and amounts: summed in the total row


@dataclass
class Row:
    key: str
    label: str  # Italian
    cells: list[Cell]


@dataclass
class Table:
    key: str
    title: str  # Italian
    columns: list[Column]  # the figures; the row label is the first, unnamed column
    rows: list[Row]
    dimension: str = ""  # Italian header of the label column
    total: Row | None = None
    note: str = ""  # Italian
    chart: str = "bar"  # bar | hbar | line | grid | none
    chart_columns: tuple[int, ...] = (0,)  # which columns the chart draws

    def column_index(self, key: str) -> int:
        return next(i for i, c in enumerate(self.columns) if c.key == key)


@dataclass
class Figure:
    """One headline number, with the previous period's for comparison."""

    label: str
    current: Cell
    previous: Cell | None = None
    unit: Unit = Unit.count


@dataclass
class View:
    key: str
    title: str
    intro: str
    figures: list[Figure] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)


# --- the small-count rule ------------------------------------------------------------------


def primary(cells: Iterable[Cell], min_count: int) -> None:
    """Suppress every cell built from fewer than ``min_count`` people (zero stays visible)."""
    for cell in cells:
        if 0 < cell.people < min_count:
            cell.suppressed = True


def _secondary(cells: Sequence[Cell], total: Cell | None, min_count: int) -> bool:
    """Widen the suppressed set of one additive line until the total cannot give it back.

    Returns True when something changed."""
    changed = False
    if total is None or total.suppressed:
        return False
    while True:
        hidden = [c for c in cells if c.suppressed]
        if not hidden:
            return changed
        if len(hidden) >= 2 and sum(c.people for c in hidden) >= min_count:
            return changed
        visible = [c for c in cells if not c.suppressed and c.people > 0]
        if not visible:
            total.suppressed = True
            return True
        min(visible, key=lambda c: (c.people, c.value or 0)).suppressed = True
        changed = True


def protect_table(table: Table, min_count: int) -> Table:
    """Apply the small-count rule to a one-dimensional table (and its total row)."""
    for row in table.rows:
        primary(row.cells, min_count)
    if table.total is not None:
        primary(table.total.cells, min_count)
        for i, column in enumerate(table.columns):
            total_cell = table.total.cells[i]
            if not column.additive:
                total_cell.suppressed = True  # never a total of medians or shares
                continue
            _secondary([r.cells[i] for r in table.rows], total_cell, min_count)
    return table


def protect_grid(table: Table, column_totals: list[Cell], min_count: int) -> Table:
    """A grid: rows x columns of one measure, each row with its total (``table.total`` is the
    row of column totals, ``column_totals``). Rows and columns are protected until stable."""
    for row in table.rows:
        primary(row.cells, min_count)
    primary(column_totals, min_count)
    row_totals = [row.cells[-1] for row in table.rows]  # the last column is the row total
    primary(row_totals, min_count)
    changed = True
    while changed:
        changed = False
        for row in table.rows:
            changed |= _secondary(row.cells[:-1], row.cells[-1], min_count)
        for j, column_total in enumerate(column_totals[:-1]):
            changed |= _secondary([r.cells[j] for r in table.rows], column_total, min_count)
        changed |= _secondary(row_totals, column_totals[-1], min_count)
        changed |= _secondary(column_totals[:-1], column_totals[-1], min_count)
    return table


def visible_cells(view: View) -> Iterable[tuple[str, Cell]]:
    """Every cell a reader could see (for the tests and the exports): (where, cell)."""
    for figure in view.figures:
        yield f"{view.key}:{figure.label}", figure.current
        if figure.previous is not None:
            yield f"{view.key}:{figure.label}:prev", figure.previous
    for table in view.tables:
        for row in [*table.rows, *([table.total] if table.total else [])]:
            for column, cell in zip(table.columns, row.cells, strict=True):
                yield f"{view.key}:{table.key}:{row.key}:{column.key}", cell
