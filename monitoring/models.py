"""The monitoring summaries: anonymous counts per day, read by the views instead of the raw
rows (docs/monitoring.md explains the design).

One row counts, for one metric, one day (Europe/Rome), one scope (everyone, or one quartiere)
and one key (a channel, a category, ``*`` for everything), the people (conversations or
citizens) whose *previous* day in the same cell was ``gap`` days earlier, with the sum of
their values and amounts. No identifier is stored: a row is a count of people. The gap is
what makes distinct people exact over any period: a person counts once in [a, b], on their
first day of it, the one whose gap reaches back before a.
"""

from datetime import date

from sqlalchemy import BigInteger, Column, Index
from sqlmodel import Field, SQLModel

FIRST = 100_000  # the gap of a person's first day in the cell (nothing earlier is known)
DAILY = -1  # the gap of the rows of a metric that counts people per day only


class DailySummary(SQLModel, table=True):
    __tablename__ = "monitoring_daily"
    __table_args__ = (Index("ix_monitoring_daily_read", "metric", "scope", "day_number", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    metric: str = Field(max_length=32)
    day: date
    day_number: int = Field(description="date.toordinal() of day: gaps are subtractions")
    scope: str = Field(default="", max_length=4, description="'' everyone, or Q1..Q5")
    key: str = Field(default="*", max_length=120)
    gap: int = Field(description="days since the same person's previous day; FIRST; DAILY")
    value: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    amount: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    people: int = Field(default=0)


class SummaryState(SQLModel, table=True):
    """How far the summaries are complete: one row per metric."""

    __tablename__ = "monitoring_summary_state"

    metric: str = Field(max_length=32, primary_key=True)
    complete_through: date = Field(description="the last day summarised (Europe/Rome)")
