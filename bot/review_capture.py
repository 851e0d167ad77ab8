"""The gateway's side of the review inbox (review.queue).

After each turn with Rasa: what the model understood of the citizen's message, read from the
tracker store, and into the queue when it deserves a look.

The 👎 «Non era questo» button (``with_thumbs_down``), the rule:

- under each page of search results (``page_key``), and under the last message of the
  assistant's answer to a message the citizen TYPED (text, not a button, a command, a file or
  a location), when that message has room for it;
- never under the gateway's own words (the emergency reply of the safety net, the privacy
  notice, errors, the announcements menu), a turn that hands the conversation to a person,
  a picture, a location request or a document, nor a question that already offers a way to
  say no: a button with ``/deny`` («No», «Annulla», «Non importa»), ``/emergency`` («Sì» to
  «Sei in pericolo adesso?»), ``/out_of_scope`` («Nessuna di queste» after «Intendevi...?»)
  or a confirmation's nonce («Sì» / «Conferma»); Care Manager replies never pass here;
- room, by channel: at most 10 buttons (a WhatsApp list holds 10 rows); on WhatsApp an answer
  with 3 reply buttons stays as it is (a 4th would turn them into a list) and one without
  buttons longer than an interactive body (1024 characters) gets none (it would need a
  second message). The 👎 gives way, never the answer's own buttons.

A tap is answered by the gateway without calling Rasa: the citizen's request (the typed
message before that answer) goes in the queue, reason ``citizen_thumbs_down``, with what the
model understood of it, and the citizen is thanked. Once per answer: a second tap on the same
answer adds nothing and says so."""

from __future__ import annotations

import logging

from sqlalchemy.engine import Engine

from bot.channels.whatsapp.render import BODY_LIMIT as WHATSAPP_BODY_LIMIT
from bot.channels.whatsapp.render import MAX_BUTTONS as WHATSAPP_REPLY_BUTTONS
from bot.channels.whatsapp.render import MAX_ROWS as WHATSAPP_ROWS
from conversations.models import Channel, Kind, Message
from conversations.outgoing import Button, Outgoing
from core.database import Database
from review.models import Reason
from review.queue import ThumbsDown, add_by_id, asked_before, record_thumbs_down, record_turn
from review.tracker import Parsed, read_in_thread, read_turn

THUMBS_DOWN_PAYLOAD = "/risposta_sbagliata"
THUMBS_DOWN = Button("👎 Non era questo", THUMBS_DOWN_PAYLOAD)
THUMBS_DOWN_THANKS = (
    "Grazie di avermelo detto. Una persona del team leggerà la tua richiesta per insegnarmi "
    "a capire meglio. Intanto puoi riprovare con altre parole, oppure scrivere «operatore» "
    "per parlare con una persona."
)
THUMBS_DOWN_AGAIN = (
    "Me l'avevi già segnalato, grazie: la tua richiesta è già tra quelle che una persona del "
    "team leggerà. Se vuoi, riprova con altre parole oppure scrivi «operatore»."
)
# the most buttons a message carries with the 👎 (a WhatsApp list shows at most 10 rows)
MAX_BUTTONS = WHATSAPP_ROWS
# buttons that answer a question: the 👎 beside them would read as one more «No»
QUESTION_INTENTS = frozenset({"deny", "emergency", "out_of_scope"})
CONFIRM_NONCE = '"confirm_nonce"'


def is_question(outgoing: Outgoing) -> bool:
    """True when the message asks something and offers a way to say no (see the rule)."""
    for button in outgoing.buttons:
        intent = button.payload.removeprefix("/").split("{", 1)[0]
        if button.payload.startswith("/") and intent in QUESTION_INTENTS:
            return True
        if CONFIRM_NONCE in button.payload:
            return True
    return False


def has_room(outgoing: Outgoing, channel: str) -> bool:
    """True when the 👎 fits under this message on ``channel`` without pushing anything out."""
    if not outgoing.text or outgoing.gateway or outgoing.menu is not None:
        return False
    if outgoing.image or outgoing.location_request or outgoing.document is not None:
        return False
    if THUMBS_DOWN in outgoing.buttons:
        return False
    count = len(outgoing.buttons)
    if channel == Channel.whatsapp:
        if count == 0 and len(outgoing.text) > WHATSAPP_BODY_LIMIT:
            return False
        if count == WHATSAPP_REPLY_BUTTONS:
            return False
    return count < MAX_BUTTONS


def with_thumbs_down(
    outgoings: list[Outgoing], *, channel: str, typed: bool = False
) -> list[Outgoing]:
    """The 👎 where the rule above puts it (in place; returns the list). ``typed``: the turn
    answers a message the citizen typed and does not hand the conversation to a person."""
    for outgoing in outgoings:
        if outgoing.page_key and has_room(outgoing, channel):
            outgoing.buttons.append(THUMBS_DOWN)
    if typed and outgoings:
        last = outgoings[-1]
        if has_room(last, channel) and not is_question(last):
            last.buttons.append(THUMBS_DOWN)
    return outgoings


def answers_typed(message: Message) -> bool:
    """The citizen typed it: words the model had to understand."""
    return message.kind == Kind.text and bool(message.text.strip())


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
        parsed = await self._parsed(conversation_id, message.id)
        if parsed is None:
            return False
        try:
            item = await self.db.run(
                record_turn,
                message_id=message.id,
                parsed=parsed,
                threshold=self.threshold,
                typed=message.kind == Kind.text,
            )
        except Exception as exc:  # the type only: the message holds the citizen's words
            log.warning("review: turn of message %s not kept (%s)", message.id, type(exc).__name__)
            return False
        return item is not None

    async def _parsed(self, conversation_id: str, message_id: int) -> Parsed | None:
        return await read_in_thread(
            read_turn,
            self.tracker,
            sender_id=conversation_id,
            message_id=message_id,
            purpose="the review inbox",
        )

    async def wrong_answer(self, conversation_id: str, answer_id: int, reason: Reason) -> bool:
        """The answer ``answer_id`` was wrong (a staff member's mark): the citizen's request
        behind it goes in the queue. False when there is none."""
        asked = await self.db.run(asked_before, message_id=answer_id)
        if asked is None or asked.id is None:
            return False
        parsed = await self._parsed(conversation_id, asked.id)
        item = await self.db.run(add_by_id, message_id=asked.id, reasons=[reason], parsed=parsed)
        return item is not None

    async def thumbs_down(self, conversation_id: str, answer_id: int) -> ThumbsDown:
        """A citizen's 👎 under the answer ``answer_id``: its request in the queue, once."""
        asked = await self.db.run(asked_before, message_id=answer_id)
        parsed = None
        if asked is not None and asked.id is not None:
            parsed = await self._parsed(conversation_id, asked.id)
        return await self.db.run(
            record_thumbs_down,
            answer_id=answer_id,
            asked_id=asked.id if asked is not None else None,
            parsed=parsed,
        )


def thumbs_down_reply(outcome: ThumbsDown) -> str:
    return THUMBS_DOWN_AGAIN if outcome == ThumbsDown.again else THUMBS_DOWN_THANKS
