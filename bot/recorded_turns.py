"""A message Rasa already answered is never sent to it twice.

When the gateway gives up waiting for Rasa (its timeout, a dropped connection, Rasa killed
after saving the turn) the message is retried later. Rasa may have finished that turn
meanwhile: resending it would run the citizen's message a second time (twice in the
dialogue's history, an action such as a booking run twice). Before a retry the gateway
reads Rasa's tracker store for the message's id (the metadata it sends with every
message) and, when the turn is there, delivers what Rasa answered then."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Engine

from review.tracker import read_in_thread, recorded_replies


class RecordedTurns:
    def __init__(self, tracker: Engine) -> None:
        self.tracker = tracker

    async def replies(self, conversation_id: str, message_id: int) -> list[dict[str, Any]] | None:
        """Rasa's answers to the message when its turn is in the tracker store, else None
        (also when the store cannot be read: the message is then sent again, as before)."""
        return await read_in_thread(
            recorded_replies,
            self.tracker,
            sender_id=conversation_id,
            message_id=message_id,
            purpose="a retry",
        )
