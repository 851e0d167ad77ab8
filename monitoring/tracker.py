"""What the assistant understood, read from Rasa's tracker store (its ``events`` table).

Rasa 3.6's SQLTrackerStore keeps one row per event: ``sender_id`` (our opaque conversation
id), ``type_name`` (user, action, slot, ...), ``timestamp`` (epoch seconds), ``intent_name``,
``action_name`` and ``data`` (the event as JSON). We read only intent and action names and
the values of two slots (the category and the neighbourhood of a search), never the text.
When the store or its table is missing, every function returns nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    cast,
    func,
    select,
)
from sqlalchemy.engine import Connection, Engine

from catalog.areas import resolve_area
from monitoring.period import Period
from monitoring.sql import WORK_MEM

EVENTS = Table(
    "events",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255), index=True),  # as Rasa creates it
    Column("type_name", String(255)),
    Column("timestamp", Float),
    Column("intent_name", String(255)),
    Column("action_name", String(255)),
    Column("data", Text),
)

FALLBACK_INTENT = "nlu_fallback"
OUT_OF_SCOPE_INTENT = "out_of_scope"
TWO_STAGE_ACTION = "action_two_stage_fallback"
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
    """Add to Rasa's ``events`` table the indexes the monitoring reads by (kind of event and
    time; a conversation's next message); Rasa itself indexes only ``sender_id``.
    Idempotent; False when there is no table."""
    with engine.begin() as conn:
        if not _has_events(conn):
            return False
        conn.exec_driver_sql(
            f"CREATE INDEX IF NOT EXISTS {TRACKER_INDEX} ON events (type_name, timestamp)"
        )
        # the citizen's next message after a two-stage fallback: one seek per fallback
        conn.exec_driver_sql(
            f"CREATE INDEX IF NOT EXISTS {TRACKER_INDEX}_next ON events (sender_id, type_name, id)"
        )
    return True


@contextmanager
def _reading(engine: Engine) -> Iterator[Connection]:
    """A connection for reading; on PostgreSQL with the sort memory of monitoring.sql."""
    with engine.connect() as conn:
        if conn.dialect.name != "sqlite":
            conn.exec_driver_sql(f"SET LOCAL work_mem = '{WORK_MEM}'")
        yield conn


def _has_events(conn: Connection) -> bool:
    return conn.dialect.has_table(conn, "events")


def _in(period: Period) -> list:
    t = EVENTS.c.timestamp
    return [t >= period.start.timestamp(), t < period.end.timestamp()]


Counts = tuple[dict[str, tuple[int, int]], tuple[int, int]]


def _grouped(conn: Connection, key: Any, where: list[Any]) -> Counts:
    """(key -> (events, conversations)) and the same over everything."""
    people = func.count(EVENTS.c.sender_id.distinct())
    rows = conn.execute(select(key, func.count(), people).where(*where).group_by(key)).all()
    n, p = conn.execute(select(func.count(), people).where(*where)).one()
    return {str(k or NOT_GIVEN): (int(c), int(q)) for k, c, q in rows}, (int(n), int(p))


def intents(engine: Engine | None, period: Period) -> Counts:
    """intent -> (user messages, conversations), and all user messages of the period."""
    if engine is None:
        return {}, (0, 0)
    with _reading(engine) as conn:
        if not _has_events(conn):
            return {}, (0, 0)
        return _grouped(conn, EVENTS.c.intent_name, [EVENTS.c.type_name == "user", *_in(period)])


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
    with _reading(engine) as conn:
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


def _field(conn: Connection, name: str) -> Any:
    """A top-level field of the event's JSON ``data``, as text, on SQLite and PostgreSQL."""
    if conn.dialect.name == "sqlite":
        return func.json_extract(EVENTS.c.data, f"$.{name}")
    return cast(EVENTS.c.data, JSON)[name].as_string()


def _slot_filter(conn: Connection, slot: str, period: Period) -> list[Any]:
    # the LIKE lets the database skip most rows before reading their JSON
    return [
        EVENTS.c.type_name == "slot",
        *_in(period),
        EVENTS.c.data.like(f'%"{slot}"%'),
        _field(conn, "name") == slot,
    ]


def slot_values(
    engine: Engine | None, period: Period, slot: str, *, named: Iterable[str] | None = None
) -> Counts:
    """How often each value of a slot was set, and by how many conversations:
    (value -> (times, conversations), (all times, all conversations)). ``named`` keeps the
    conversations that set the neighbourhood to one of those names."""
    if engine is None:
        return {}, (0, 0)
    with _reading(engine) as conn:
        if not _has_events(conn):
            return {}, (0, 0)
        where = _slot_filter(conn, slot, period)
        if named is not None:
            names = list(named)
            if not names:
                return {}, (0, 0)
            other = EVENTS.alias("named")
            where.append(
                EVENTS.c.sender_id.in_(
                    select(other.c.sender_id).where(
                        other.c.type_name == "slot",
                        other.c.data.like('%"neighbourhood"%'),
                        cast(other.c.data, JSON)["value"].as_string().in_(names)
                        if conn.dialect.name != "sqlite"
                        else func.json_extract(other.c.data, "$.value").in_(names),
                    )
                )
            )
        value = _field(conn, "value")
        return _grouped(conn, value, [*where, value.is_not(None)])


def quartiere_of(name: str) -> str:
    area = resolve_area(name)
    return area.quartiere if area and area.quartiere else NOT_GIVEN
