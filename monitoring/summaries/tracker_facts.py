"""Facts from Rasa's tracker store (its ``events`` table), for ``metrics``: ``at`` is epoch
seconds there; slot values are read from the event's JSON in Python (``derive``)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select

from monitoring.summaries.facts import Facts, fact
from monitoring.tracker import (
    EVENTS,
    FALLBACK_INTENT,
    NOT_GIVEN,
    OUT_OF_SCOPE_INTENT,
    TWO_STAGE_ACTION,
    quartiere_of,
)


def _events(start: datetime, end: datetime) -> list[Any]:
    t = EVENTS.c.timestamp
    return [t >= start.timestamp(), t < end.timestamp()]


def intents(start: datetime, end: datetime) -> Select[Any]:
    return select(
        *fact(
            EVENTS.c.timestamp, EVENTS.c.sender_id, func.coalesce(EVENTS.c.intent_name, NOT_GIVEN)
        )
    ).where(EVENTS.c.type_name == "user", *_events(start, end))


def two_stage(start: datetime, end: datetime) -> Select[Any]:
    """Each two-stage fallback with the intent of the citizen's next message (x1)."""
    nxt = EVENTS.alias("nxt")
    following = (
        select(nxt.c.intent_name)
        .where(
            nxt.c.sender_id == EVENTS.c.sender_id,
            nxt.c.id > EVENTS.c.id,
            nxt.c.type_name == "user",
        )
        .order_by(nxt.c.id)
        .limit(1)
        .scalar_subquery()
    )
    return select(*fact(EVENTS.c.timestamp, EVENTS.c.sender_id, x1=following)).where(
        EVENTS.c.type_name == "action",
        EVENTS.c.action_name == TWO_STAGE_ACTION,
        *_events(start, end),
    )


def two_stage_outcome(row: Any) -> tuple[str, ...]:
    if row.x1 is None:
        return ("left",)
    if row.x1 == FALLBACK_INTENT:
        return ("again",)
    if row.x1 == OUT_OF_SCOPE_INTENT:
        return ("out_of_scope",)
    return ("understood",)


def slots(slot: str) -> Facts:
    def facts(start: datetime, end: datetime) -> Select[Any]:
        return select(
            *fact(EVENTS.c.timestamp, EVENTS.c.sender_id, x0=EVENTS.c.data)
        ).where(  # the LIKE skips most rows before their JSON is read (in Python)
            EVENTS.c.type_name == "slot", EVENTS.c.data.like(f'%"{slot}"%'), *_events(start, end)
        )

    return facts


def slot_value(data: str | None, slot: str) -> str | None:
    try:
        event = json.loads(data or "")
    except ValueError:
        return None
    if not isinstance(event, dict) or event.get("name") != slot or event.get("value") is None:
        return None
    return str(event["value"])


def category(row: Any) -> tuple[str, ...] | None:
    value = slot_value(row.x0, "service_category")
    return None if value is None else (value,)


def place(row: Any) -> tuple[str, ...] | None:
    value = slot_value(row.x0, "neighbourhood")
    return None if value is None else (quartiere_of(value),)
