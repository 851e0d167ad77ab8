"""What the assistant understood, read from Rasa's tracker store (its ``events`` table).

Rasa 3.6's SQLTrackerStore keeps one row per event: ``sender_id`` (our opaque conversation
id), ``type_name`` (user, action, slot, ...), ``timestamp`` (epoch seconds), ``intent_name``,
``action_name`` and ``data`` (the event as JSON). We read only intent and action names and
the values of two slots (the category and the neighbourhood of a search), never the text.
When the store or its table is missing, every function returns nothing.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text, func, select
from sqlalchemy.engine import Connection, Engine

from catalog.areas import resolve_area
from monitoring.period import Period

EVENTS = Table(
    "events",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255)),
    Column("type_name", String(255)),
    Column("timestamp", Float),
    Column("intent_name", String(255)),
    Column("action_name", String(255)),
    Column("data", Text),
)

FALLBACK_INTENT = "nlu_fallback"
OUT_OF_SCOPE_INTENT = "out_of_scope"
TWO_STAGE_ACTION = "action_two_stage_fallback"
SEARCH_SLOTS = ("service_category", "neighbourhood")
NOT_GIVEN = "-"

# the two-stage fallback: what the citizen's next message was
TWO_STAGE_OUTCOMES = {
    "understood": "Chiarito al secondo tentativo",
    "again": "Ancora non capito",
    "out_of_scope": "Fuori tema",
    "left": "Nessuna risposta",
}


@dataclass
class Tally:
    """A count and the distinct conversations behind it."""

    count: int = 0
    senders: set[str] = field(default_factory=set)

    def add(self, sender: str, n: int = 1) -> None:
        self.count += n
        self.senders.add(sender)

    @property
    def people(self) -> int:
        return len(self.senders)


TRACKER_INDEX = "ix_events_monitoring"


def ensure_index(engine: Engine) -> bool:
    """Add to Rasa's ``events`` table the index the monitoring reads by (kind of event and
    time); Rasa itself indexes only ``sender_id``. Idempotent; False when there is no table."""
    with engine.begin() as conn:
        if not _has_events(conn):
            return False
        conn.exec_driver_sql(
            f"CREATE INDEX IF NOT EXISTS {TRACKER_INDEX} ON events (type_name, timestamp)"
        )
    return True


def _has_events(conn: Connection) -> bool:
    return conn.dialect.has_table(conn, "events")


def _in(period: Period) -> list:
    t = EVENTS.c.timestamp
    return [t >= period.start.timestamp(), t < period.end.timestamp()]


def intents(engine: Engine | None, period: Period) -> dict[str, tuple[int, int]]:
    """intent -> (user messages, conversations)."""
    if engine is None:
        return {}
    with engine.connect() as conn:
        if not _has_events(conn):
            return {}
        rows = conn.execute(
            select(
                EVENTS.c.intent_name,
                func.count(),
                func.count(EVENTS.c.sender_id.distinct()),
            )
            .where(EVENTS.c.type_name == "user", *_in(period))
            .group_by(EVENTS.c.intent_name)
        ).all()
    return {str(name or NOT_GIVEN): (int(n), int(p)) for name, n, p in rows}


def user_totals(engine: Engine | None, period: Period) -> tuple[int, int]:
    """(user messages, conversations) in the period."""
    if engine is None:
        return 0, 0
    with engine.connect() as conn:
        if not _has_events(conn):
            return 0, 0
        n, p = conn.execute(
            select(func.count(), func.count(EVENTS.c.sender_id.distinct())).where(
                EVENTS.c.type_name == "user", *_in(period)
            )
        ).one()
    return int(n), int(p)


def two_stage_outcomes(engine: Engine | None, period: Period) -> dict[str, Tally]:
    """Each two-stage fallback of the period, by the intent of the citizen's next message."""
    result = {key: Tally() for key in TWO_STAGE_OUTCOMES}
    if engine is None:
        return result
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
    with engine.connect() as conn:
        if not _has_events(conn):
            return result
        rows = conn.execute(
            select(EVENTS.c.sender_id, following).where(
                EVENTS.c.type_name == "action",
                EVENTS.c.action_name == TWO_STAGE_ACTION,
                *_in(period),
            )
        ).all()
    for sender, intent in rows:
        if intent is None:
            key = "left"
        elif intent == FALLBACK_INTENT:
            key = "again"
        elif intent == OUT_OF_SCOPE_INTENT:
            key = "out_of_scope"
        else:
            key = "understood"
        result[key].add(sender)
    return result


def search_requests(engine: Engine | None, period: Period) -> dict[tuple[str, str], Tally]:
    """(category slug, quartiere or "-") -> requests: each time the search's category slot
    was set, paired with the neighbourhood the conversation had named last (if any)."""
    out: dict[tuple[str, str], Tally] = defaultdict(Tally)
    if engine is None:
        return out
    name_filter = [EVENTS.c.data.like(f'%"{slot}"%') for slot in SEARCH_SLOTS]
    with engine.connect() as conn:
        if not _has_events(conn):
            return out
        rows = conn.execute(
            select(EVENTS.c.sender_id, EVENTS.c.data)
            .where(EVENTS.c.type_name == "slot", *_in(period), name_filter[0] | name_filter[1])
            .order_by(EVENTS.c.sender_id, EVENTS.c.id)
        ).all()
    where: dict[str, str] = {}
    areas: dict[str, str] = {}
    for sender, data in rows:
        try:
            event = json.loads(data)
        except (TypeError, ValueError):
            continue
        value = event.get("value")
        if event.get("name") == "neighbourhood":
            if isinstance(value, str) and value:
                if value not in areas:
                    area = resolve_area(value)
                    areas[value] = area.quartiere if area else NOT_GIVEN
                where[sender] = areas[value]
        elif event.get("name") == "service_category" and isinstance(value, str) and value:
            out[(value, where.get(sender, NOT_GIVEN))].add(sender)
    return out
