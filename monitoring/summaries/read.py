"""How the views read the summaries: the figures of a period, by key, in one reading.

Distinct people are exact for any period [a, b]: a person counts on the first day of the
period they appear in a cell, the one whose gap reaches before a (``gap > day - a``).
Metrics kept per day only (``Metric.daily``) give the largest day's people instead: a
lower bound, so the small-count rule may hide such a cell, never show one it should hide.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlmodel import Session

from monitoring.models import FIRST, DailySummary
from monitoring.period import Period
from monitoring.summaries.metrics import METRICS

Key = tuple[str, ...]
Count = tuple[int, int]  # (value, people)


@dataclass
class Figures:
    value: int = 0
    amount: int = 0
    people: int = 0
    first_people: int = 0  # people whose first day ever in the cell is in the period


@dataclass
class Reading:
    """One metric over one period: ``groups[names][values]`` and the ``total``."""

    groups: dict[Key, dict[Key, Figures]]
    total: Figures

    def counts(self, *names: str) -> tuple[dict[str, Count], Count]:
        """The values (and people) of a one-dimension grouping, keyed by that dimension."""
        rows = self.groups.get(names, {})
        return (
            {k[0] if len(k) == 1 else k: (f.value, f.people) for k, f in rows.items()},
            (self.total.value, self.total.people),
        )

    def amounts(self, *names: str) -> tuple[dict[str, Count], Count]:
        rows = self.groups.get(names, {})
        return (
            {k[0] if len(k) == 1 else k: (f.amount, f.people) for k, f in rows.items()},
            (self.total.amount, self.total.people),
        )


def _split(key: str) -> tuple[Key, Key]:
    if key == "*":
        return (), ()
    pairs = [part.split("=", 1) for part in key.split("|")]
    return tuple(p[0] for p in pairs), tuple(p[1] for p in pairs)


def read(session: Session, metric: str, period: Period, quartiere: str | None) -> Reading:
    first, last = period.first_day.toordinal(), period.last_day.toordinal()
    row = DailySummary
    daily = METRICS[metric].daily
    new_here = row.gap > row.day_number - first
    people = func.max(row.people) if daily else func.sum(case((new_here, row.people), else_=0))
    stmt = (
        select(
            row.key,
            func.sum(row.value),
            func.sum(row.amount),
            people,
            func.sum(case((row.gap == FIRST, row.people), else_=0)),
        )
        .where(
            row.metric == metric,
            row.scope == (quartiere or ""),
            row.day_number >= first,
            row.day_number <= last,
        )
        .group_by(row.key)
    )
    groups: dict[Key, dict[Key, Figures]] = defaultdict(dict)
    total = Figures()
    for key, value, amount, n_people, n_first in session.execute(stmt):
        figures = Figures(int(value or 0), int(amount or 0), int(n_people or 0), int(n_first or 0))
        names, values = _split(key)
        if not names:
            total = figures
        else:
            groups[names][values] = figures
    return Reading(dict(groups), total)


def per_day(
    session: Session, metric: str, period: Period, quartiere: str | None
) -> dict[str, Count]:
    """The metric's total of each day (ISO date): value and that day's people."""
    row = DailySummary
    stmt = (
        select(row.day, func.sum(row.value), func.sum(row.people))
        .where(
            row.metric == metric,
            row.scope == (quartiere or ""),
            row.key == "*",
            row.day_number >= period.first_day.toordinal(),
            row.day_number <= period.last_day.toordinal(),
        )
        .group_by(row.day)
    )
    return {day.isoformat(): (int(v or 0), int(p or 0)) for day, v, p in session.execute(stmt)}
