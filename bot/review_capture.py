"""After each turn with Rasa: what the model understood of the citizen's message, read from
the tracker store, and into the review inbox when it deserves a look (review.queue)."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy.engine import Engine

from conversations.models import Kind, Message
from core.database import Database
from review.queue import record_turn
from review.tracker import read_turn

log = logging.getLogger(__name__)


class ReviewCapture:
    def __init__(self, db: Database, tracker: Engine, *, threshold: float) -> None:
        self.db = db
        self.tracker = tracker
        self.threshold = threshold

    async def turn(self, conversation_id: str, message: Message) -> bool:
        """True when the message went into the queue. Never raises: a turn is never lost
        over its review."""
        assert message.id is not None
        try:
            parsed = await asyncio.to_thread(
                read_turn, self.tracker, sender_id=conversation_id, message_id=message.id
            )
            if parsed is None:
                return False
            item = await self.db.run(
                record_turn,
                message_id=message.id,
                parsed=parsed,
                threshold=self.threshold,
                typed=message.kind == Kind.text,
            )
        except Exception as exc:  # the type only: the tracker holds the citizen's words
            log.warning("review: turn of message %s not read (%s)", message.id, type(exc).__name__)
            return False
        return item is not None
