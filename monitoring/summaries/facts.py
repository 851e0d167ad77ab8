"""The shape every metric's facts share: ``at``, ``person``, ``d0``.., ``value`` (1 a row),
``amount`` and any named extra (``x0``, ``x1``, ``scope``), and the time range they fall in."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Select, literal

Facts = Callable[[datetime, datetime], Select[Any]]


def fact(at: Any, person: Any, *dims: Any, amount: Any = None, **extra: Any) -> list[Any]:
    """The columns of one fact, for ``select(*fact(...))``."""
    return [
        at.label("at"),
        person.label("person"),
        *(d.label(f"d{i}") for i, d in enumerate(dims)),
        literal(1).label("value"),
        (literal(0) if amount is None else amount).label("amount"),
        *(column.label(name) for name, column in extra.items()),
    ]


def between(column: Any, start: datetime, end: datetime) -> list[Any]:
    return [column >= start, column < end]
