"""The gateway's side of the review inbox (review.queue).

After each turn with Rasa: what the model understood of the citizen's message, read from the
tracker store, and into the queue when it deserves a look. Under each page of search results:
a 👎 button; a tap puts the citizen's request in the queue (with what the model understood of
it) and thanks them, without calling Rasa."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy.engine import Engine

from conversations.models import Kind, Message
from conversations.outgoing import Button, Outgoing
from core.database import Database
from review.models import Reason
from review.queue import add_by_id, asked_before, record_turn
from review.tracker import read_turn

THUMBS_DOWN_PAYLOAD = "/risposta_sbagliata"
THUMBS_DOWN = Button("👎 Non era questo", THUMBS_DOWN_PAYLOAD)
THUMBS_DOWN_THANKS = (
    "Grazie di avermelo detto. Una persona del team leggerà la tua richiesta per insegnarmi "
    "a capire meglio. Intanto puoi riprovare con altre parole, oppure scrivere «operatore» "
    "per parlare con una persona."
)
# WhatsApp shows at most 10 choices in a list: the 👎 never pushes a page past it
MAX_BUTTONS = 10


def with_thumbs_down(outgoings: list[Outgoing]) -> list[Outgoing]:
    """The 👎 under each page of search results (in place; returns the list)."""
    for outgoing in outgoings:
        room = len(outgoing.buttons) < MAX_BUTTONS and THUMBS_DOWN not in outgoing.buttons
        if outgoing.page_key and outgoing.text and room:
            outgoing.buttons.append(THUMBS_DOWN)
    return outgoings


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

    async def wrong_answer(self, conversation_id: str, answer_id: int, reason: Reason) -> bool:
        """The answer ``answer_id`` was wrong (a citizen's 👎, a staff member's mark): the
        citizen's request behind it goes in the queue. False when there is none."""
        asked = await self.db.run(asked_before, message_id=answer_id)
        if asked is None or asked.id is None:
            return False
        try:
            parsed = await asyncio.to_thread(
                read_turn, self.tracker, sender_id=conversation_id, message_id=asked.id
            )
        except Exception as exc:  # the type only, as above
            log.warning("review: tracker not read (%s)", type(exc).__name__)
            parsed = None
        item = await self.db.run(add_by_id, message_id=asked.id, reasons=[reason], parsed=parsed)
        return item is not None
