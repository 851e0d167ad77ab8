"""What the assistant understood, read from Rasa's tracker store (its ``events`` table).

Rasa 3.6's SQLTrackerStore keeps one row per event: ``sender_id`` (our opaque conversation
id), ``type_name`` (user, action, slot, ...), ``timestamp`` (epoch seconds), ``intent_name``,
``action_name`` and ``data`` (the event as JSON). We read only intent and action names and
the values of two slots (the category and the neighbourhood of a search), never the text.
When the store or its table is missing, every function returns nothing.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)
from sqlalchemy.engine import Connection, Engine

from catalog.areas import resolve_area

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


def _has_events(conn: Connection) -> bool:
    return conn.dialect.has_table(conn, "events")


def quartiere_of(name: str) -> str:
    area = resolve_area(name)
    return area.quartiere if area and area.quartiere else NOT_GIVEN
