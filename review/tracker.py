"""What Rasa understood of one citizen message, read from its tracker store.

Rasa 3.6's SQLTrackerStore keeps one row per event in ``events``; a ``user`` event's JSON
``data`` holds ``parse_data`` (intent, confidence, entities, ranking) and the ``metadata``
the gateway sent, with our ``message_id``. The ``action`` events after it are what the
assistant did about it (e.g. ``action_two_stage_fallback``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Column, Integer, MetaData, String, Table, Text, select
from sqlalchemy.engine import Engine

EVENTS = Table(
    "events",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255)),
    Column("type_name", String(255)),
    Column("action_name", String(255)),
    Column("data", Text),
)
# how far back a conversation's events are read to find the message (a turn is a few dozen)
LOOKBACK = 200
RANKING_KEPT = 3


@dataclass(frozen=True)
class Parsed:
    intent: str
    confidence: float | None
    entities: list[dict[str, Any]] = field(default_factory=list)
    ranking: list[dict[str, Any]] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)  # what ran after it, in order


def _entity(raw: dict[str, Any]) -> dict[str, Any]:
    return {
        "entity": str(raw.get("entity") or ""),
        "start": raw.get("start"),
        "end": raw.get("end"),
        "value": raw.get("value") if isinstance(raw.get("value"), str) else str(raw.get("value")),
        "confidence": raw.get("confidence_entity"),
        "extractor": str(raw.get("extractor") or ""),
    }


def parsed_from(data: dict[str, Any], actions: list[str]) -> Parsed:
    parse = data.get("parse_data") or {}
    intent = parse.get("intent") or {}
    ranking = [
        {"name": str(r.get("name") or ""), "confidence": r.get("confidence")}
        for r in (parse.get("intent_ranking") or [])[:RANKING_KEPT]
        if isinstance(r, dict)
    ]
    return Parsed(
        intent=str(intent.get("name") or ""),
        confidence=intent.get("confidence"),
        entities=[_entity(e) for e in parse.get("entities") or [] if isinstance(e, dict)],
        ranking=ranking,
        actions=actions,
    )


def read_turn(engine: Engine, *, sender_id: str, message_id: int) -> Parsed | None:
    """The parse data of our message ``message_id`` and the actions after it; None when the
    tracker store does not hold it (not there yet, or purged)."""
    with engine.connect() as conn:
        if not conn.dialect.has_table(conn, "events"):
            return None
        rows = conn.execute(
            select(EVENTS.c.type_name, EVENTS.c.action_name, EVENTS.c.data)
            .where(EVENTS.c.sender_id == sender_id, EVENTS.c.type_name.in_(("user", "action")))
            .order_by(EVENTS.c.id.desc())
            .limit(LOOKBACK)
        ).all()
    actions: list[str] = []
    for type_name, action_name, raw in rows:  # newest first
        if type_name == "action":
            actions.append(str(action_name or ""))
            continue
        try:
            data = json.loads(raw or "{}")
        except ValueError:
            data = {}
        metadata = data.get("metadata") or {}
        if isinstance(metadata, dict) and metadata.get("message_id") == message_id:
            return parsed_from(data, list(reversed(actions)))
        actions = []
    return None


# what Rasa's REST channel puts beside a bot message's text (rasa.core.channels.channel)
_REPLY_FIELDS = ("buttons", "image", "attachment", "custom", "elements", "quick_replies")


def recorded_replies(
    engine: Engine, *, sender_id: str, message_id: int
) -> list[dict[str, Any]] | None:
    """What Rasa answered to our message ``message_id``, as its REST channel returns it,
    rebuilt from the ``bot`` events after the ``user`` event that carries the id; None
    when the tracker store does not hold that message (Rasa never finished its turn).

    Rasa saves a turn's events together at its end, so a user event found here comes with
    all of its turn's answers (possibly none)."""
    with engine.connect() as conn:
        if not conn.dialect.has_table(conn, "events"):
            return None
        rows = conn.execute(
            select(EVENTS.c.type_name, EVENTS.c.data)
            .where(EVENTS.c.sender_id == sender_id, EVENTS.c.type_name.in_(("user", "bot")))
            .order_by(EVENTS.c.id.desc())
            .limit(LOOKBACK)
        ).all()
    answers: list[dict[str, Any]] = []  # newest first, since the last user event seen
    for type_name, raw in rows:
        try:
            data = json.loads(raw or "{}")
        except ValueError:
            data = {}
        if type_name == "bot":
            reply: dict[str, Any] = {"recipient_id": sender_id}
            if data.get("text"):
                reply["text"] = data["text"]
            extra = data.get("data") or {}
            reply.update({key: extra[key] for key in _REPLY_FIELDS if extra.get(key)})
            answers.append(reply)
            continue
        metadata = data.get("metadata") or {}
        if isinstance(metadata, dict) and metadata.get("message_id") == message_id:
            return list(reversed(answers))
        answers = []
    return None
