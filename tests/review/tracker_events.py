"""Rasa 3.6's tracker-store ``events`` table, written as Rasa writes it, for the tests that
stand in for Rasa (the end-to-end tests use the real one)."""

from __future__ import annotations

import json
import time
from typing import Any

from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text, insert
from sqlalchemy.engine import Engine

METADATA = MetaData()
EVENTS = Table(
    "events",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255), nullable=False, index=True),
    Column("type_name", String(255), nullable=False),
    Column("timestamp", Float),
    Column("intent_name", String(255)),
    Column("action_name", String(255)),
    Column("data", Text),
)


def user_event(
    engine: Engine,
    *,
    sender: str,
    text: str,
    message_id: int,
    intent: str,
    confidence: float,
    entities: list[dict[str, Any]] | None = None,
    actions: tuple[str, ...] = (),
) -> None:
    METADATA.create_all(engine)
    parse = {
        "text": text,
        "intent": {"name": intent, "confidence": confidence},
        "entities": entities or [],
        "intent_ranking": [
            {"name": intent, "confidence": confidence},
            {"name": "search_service", "confidence": round(1 - confidence, 3)},
        ],
    }
    data = {
        "event": "user",
        "timestamp": time.time(),
        "text": text,
        "parse_data": parse,
        "input_channel": "telegram",
        "metadata": {"channel": "telegram", "message_id": message_id},
    }
    with engine.begin() as conn:
        conn.execute(
            insert(EVENTS).values(
                sender_id=sender,
                type_name="user",
                timestamp=time.time(),
                intent_name=intent,
                data=json.dumps(data),
            )
        )
        for name in ("action_listen_placeholder", *actions):
            if name == "action_listen_placeholder":
                continue
            conn.execute(
                insert(EVENTS).values(
                    sender_id=sender,
                    type_name="action",
                    timestamp=time.time(),
                    action_name=name,
                    data=json.dumps({"event": "action", "name": name}),
                )
            )
