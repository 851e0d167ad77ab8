"""What the views need to read the database: the context (session, period, filter) and, for
the small raw tables still read directly (Welcome Point, announcements), the grouped
readings (values and distinct people, with totals)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, tuple_
from sqlalchemy.engine import Engine
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from monitoring import sql
from monitoring.period import Period

Count = tuple[int, int]  # (value, people)


@dataclass
class Context:
    session: Session
    period: Period
    now: datetime
    min_count: int = 5
    quartiere: str | None = None  # Q1..Q5
    tracker: Engine | None = None


# --- helpers -----------------------------------------------------------------------------


def between(column: Any, period: Period) -> list[ColumnElement[bool]]:
    return [column >= period.start, column < period.end]


def tally(
    session: Session,
    *,
    key: Any,
    value: Any,
    people: Any,
    where: Iterable[Any],
    joins: Callable[[Any], Any] = lambda s: s,
) -> tuple[dict[Any, Count], Count]:
    """Grouped (value, distinct people) by ``key``, and the same over everything."""
    groups, total = tally_many(
        session, keys={"k": key}, value=value, people=people, where=where, joins=joins
    )
    return groups["k"], total


def tally_many(
    session: Session,
    *,
    keys: dict[str, Any],
    value: Any,
    people: Any,
    where: Iterable[Any],
    joins: Callable[[Any], Any] = lambda s: s,
) -> tuple[dict[str, dict[Any, Count]], Count]:
    """Like ``tally`` for several groupings of the same rows."""
    groups, total = grouped(
        session, keys=keys, values=[value], people=people, where=where, joins=joins
    )
    return (
        {name: {k: (v[0], p) for k, (v, p) in rows.items()} for name, rows in groups.items()},
        (total[0][0], total[1]),
    )


Values = tuple[list[int], int]  # (values, people)


def grouped(
    session: Session,
    *,
    keys: dict[str, Any],
    values: list[Any],
    people: Any,
    where: Iterable[Any],
    joins: Callable[[Any], Any],
) -> tuple[dict[str, dict[Any, Values]], Values]:
    """Figures (``values`` and distinct ``people``) of the rows matching ``where``, grouped
    by each of ``keys`` and over everything. PostgreSQL reads the rows once (GROUPING SETS,
    the total being the empty set); SQLite runs one query per grouping."""
    conds = list(where)
    people_n = func.count(people.distinct())
    n = len(values)

    def parse(row: Any) -> Values:
        return [int(x or 0) for x in row[-n - 1 : -1]], int(row[-1])

    groups: dict[str, dict[Any, Values]] = {name: {} for name in keys}
    if sql.is_sqlite(session):
        for name, key in keys.items():
            rows = session.execute(
                joins(select(key, *values, people_n)).where(*conds).group_by(key)
            ).all()
            groups[name] = {row[0]: parse(row) for row in rows}
        total = session.execute(joins(select(*values, people_n)).where(*conds)).one()
        return groups, parse(total)
    exprs = list(keys.values())
    flags = [func.grouping(e) for e in exprs]
    stmt = (
        joins(select(*flags, *exprs, *values, people_n))
        .where(*conds)
        .group_by(func.grouping_sets(*exprs, tuple_()))
    )
    total_values: Values = ([0] * n, 0)
    names = list(keys)
    for row in session.execute(stmt).all():
        marks = list(row[: len(exprs)])
        if all(marks):
            total_values = parse(row)
            continue
        index = marks.index(0)
        groups[names[index]][row[len(exprs) + index]] = parse(row)
    return groups, total_values
