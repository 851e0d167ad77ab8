"""From counts to protected tables: one-dimensional tables, money tables, headline figures."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from monitoring.tables import (
    Cell,
    Column,
    Figure,
    Row,
    Table,
    Unit,
    primary,
    protect_table,
)
from monitoring.views.query import Context, Count


def cell_of(count: Count | None) -> Cell:
    value, people = count or (0, 0)
    return Cell(value, people)


def count_table(
    *,
    key: str,
    title: str,
    dimension: str,
    order: Iterable[tuple[Any, str]],
    current: dict[Any, Count],
    total: Count,
    previous: tuple[dict[Any, Count], Count] | None = None,
    label: str = "Nel periodo",
    unit: Unit = Unit.count,
    chart: str = "hbar",
    note: str = "",
    min_count: int,
    keep_empty: bool = True,
) -> Table:
    """A one-dimensional table of counts (and the previous period's), with its total."""
    columns = [Column("current", label, unit)]
    if previous is not None:
        columns.append(Column("previous", "Periodo precedente", unit))
    rows = []
    for k, text in order:
        if not keep_empty and k not in current and (previous is None or k not in previous[0]):
            continue
        cells = [cell_of(current.get(k))]
        if previous is not None:
            cells.append(cell_of(previous[0].get(k)))
        rows.append(Row(str(k), text, cells))
    total_cells = [cell_of(total)] + ([cell_of(previous[1])] if previous is not None else [])
    table = Table(
        key=key,
        title=title,
        dimension=dimension,
        columns=columns,
        rows=rows,
        total=Row("total", "Totale", total_cells),
        chart=chart,
        note=note,
    )
    return protect_table(table, min_count)


def ordered(keys: Iterable[Any], labels: Callable[[Any], str]) -> list[tuple[Any, str]]:
    return [(k, labels(k)) for k in sorted(keys, key=lambda k: (k is None, str(k)))]


def figure(
    label: str, current: Count, previous: Count | None, ctx: Context, unit: Unit = Unit.count
) -> Figure:
    cur = cell_of(current)
    prev = cell_of(previous) if previous is not None else None
    primary([cur, *([prev] if prev else [])], ctx.min_count)
    return Figure(label, cur, prev, unit)


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ranked = sorted(values)
    index = max(0, min(len(ranked) - 1, round(q * (len(ranked) - 1))))
    return ranked[index]


def money_table(
    *,
    key: str,
    title: str,
    dimension: str,
    order: list[tuple[Any, str]],
    parts: list[tuple[str, str, tuple[dict[Any, Count], Count], tuple[dict[Any, Count], Count]]],
    min_count: int,
) -> Table:
    """Columns in pairs (number, amount) for each part, e.g. issued / redeemed / cancelled."""
    columns: list[Column] = []
    for part_key, label, _, _ in parts:
        columns.append(Column(f"{part_key}_n", label))
        columns.append(Column(f"{part_key}_cents", f"{label} (€)", Unit.cents))
    rows = []
    for k, text in order:
        cells: list[Cell] = []
        for _, _, numbers, amounts in parts:
            cells.append(cell_of(numbers[0].get(k)))
            cells.append(cell_of(amounts[0].get(k)))
        if any(c.value for c in cells):
            rows.append(Row(str(k), text, cells))
    total = []
    for _, _, numbers, amounts in parts:
        total += [cell_of(numbers[1]), cell_of(amounts[1])]
    table = Table(
        key=key,
        title=title,
        dimension=dimension,
        columns=columns,
        rows=rows,
        total=Row("total", "Totale", total),
        chart="hbar",
        chart_columns=tuple(range(0, len(columns), 2)),
    )
    return protect_table(table, min_count)
