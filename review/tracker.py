"""What Rasa understood of one citizen message, read from its tracker store.

Rasa 3.6's SQLTrackerStore keeps one row per event in ``events``; a ``user`` event's JSON
``data`` holds ``parse_data`` (intent, confidence, entities, ranking) and the ``metadata``
the gateway sent, with our ``message_id``. The ``action`` events after it are what the
assistant did about it (e.g. ``action_two_stage_fallback``).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

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
log = logging.getLogger(__name__)
T = TypeVar("T")

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


def _newest_events(engine: Engine, *, sender_id: str, types: tuple[str, ...]) -> list[Any] | None:
    """The conversation's newest LOOKBACK events of ``types``, newest first: (type, action
    name, JSON data); None when Rasa has not created its table yet."""
    with engine.connect() as conn:
        if not conn.dialect.has_table(conn, "events"):
            return None
        return list(
            conn.execute(
                select(EVENTS.c.type_name, EVENTS.c.action_name, EVENTS.c.data)
                .where(EVENTS.c.sender_id == sender_id, EVENTS.c.type_name.in_(types))
                .order_by(EVENTS.c.id.desc())
                .limit(LOOKBACK)
            )
        )


def _json(raw: str | None) -> dict[str, Any]:
    try:
        data = json.loads(raw or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _carries(data: dict[str, Any], message_id: int) -> bool:
    """Whether a ``user`` event is our message ``message_id`` (the metadata we sent)."""
    metadata = data.get("metadata") or {}
    return isinstance(metadata, dict) and metadata.get("message_id") == message_id


def read_turn(engine: Engine, *, sender_id: str, message_id: int) -> Parsed | None:
    """The parse data of our message ``message_id`` and the actions after it; None when the
    tracker store does not hold it (not there yet, or purged)."""
    rows = _newest_events(engine, sender_id=sender_id, types=("user", "action"))
    actions: list[str] = []
    for type_name, action_name, raw in rows or ():  # newest first
        if type_name == "action":
            actions.append(str(action_name or ""))
            continue
        data = _json(raw)
        if _carries(data, message_id):
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
    rows = _newest_events(engine, sender_id=sender_id, types=("user", "bot"))
    answers: list[dict[str, Any]] = []  # newest first, since the last user event seen
    for type_name, _action, raw in rows or ():
        data = _json(raw)
        if type_name == "bot":
            reply: dict[str, Any] = {"recipient_id": sender_id}
            if data.get("text"):
                reply["text"] = data["text"]
            extra = data.get("data") or {}
            reply.update({key: extra[key] for key in _REPLY_FIELDS if extra.get(key)})
            answers.append(reply)
            continue
        if _carries(data, message_id):
            return list(reversed(answers))
        answers = []
    return None


async def read_in_thread(
    reader: Callable[..., T], engine: Engine, *, sender_id: str, message_id: int, purpose: str
) -> T | None:
    """``reader(engine, sender_id=..., message_id=...)`` off the event loop; None (and a
    warning naming only the error's type: the tracker holds the citizen's words) when the
    tracker store cannot be read."""
    try:
        return await asyncio.to_thread(reader, engine, sender_id=sender_id, message_id=message_id)
    except Exception as exc:
        log.warning("tracker not read for %s (%s)", purpose, type(exc).__name__)
        return None
