"""The gateway's core: every citizen message, from storage to answer, on any channel.

``receive`` stores a message (deduplicated) and returns: the channel acknowledges only
after it. The emergency safety net runs right there, on every message, in any mode and
before consent, without waiting behind other work. Everything else happens in
``process_conversation``, one conversation at a time and in order: consent gate, bad input,
then the router's destination (Rasa, or the console in human mode).

A rule match has two tiers (care/safety.py, docs/nlu-pipeline.md "Emergency tiers"):
``immediate`` is answered right in ``receive`` (112/1522, the top-priority flag, human
mode); ``ask`` (a word of the ``reported`` lists: «ahah», «a carte», «al tg») goes to Rasa
in order, whose safety net gives it the ask tier: action_emergency answers with 112/1522
and «Sei in pericolo adesso?» (Sì / No), and nobody is paged. The gateway still makes sure
of the numbers: when Rasa is down it sends them itself at once (care.handoff_wording's
EMERGENCY_NUMBERS, in the citizen's language), and when Rasa's answer has no 112 in it
(a model older than the rules) it puts them before that answer. Where Rasa cannot ask
(no consent yet, a group, human mode, a command, a caption, an edit, a text too long for
Rasa) an ask-tier match pages at once, as before the tiers: never less than the question.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Coroutine
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bot import consent, menus, safety, wording
from bot import language as switch
from bot.attachments import store_attachment
from bot.channels.base import ChannelAdapter
from bot.commands import lookup
from bot.delivery import Sender
from bot.rasa_client import RasaClient, RasaUnavailable
from bot.rasa_payload import with_language
from bot.recorded_turns import RecordedTurns
from bot.rendering import Handoff, Turn, render_rasa
from bot.review_capture import (
    THUMBS_DOWN_PAYLOAD,
    THUMBS_DOWN_THANKS,
    ReviewCapture,
    answers_typed,
    thumbs_down_reply,
    with_thumbs_down,
)
from bot.router import Router
from bot.text import truncate_words
from care.flags import raise_flag
from care.handoff_wording import EMERGENCY_NUMBERS
from care.models import FlagKind, FlagPriority
from care.safety import ASK, SafetyMatch
from conversations import language
from conversations import repository as repo
from conversations.inbound import Inbound
from conversations.models import (
    Author,
    Channel,
    Conversation,
    Direction,
    Kind,
    Message,
    Mode,
    Status,
)
from conversations.outgoing import Outgoing
from conversations.uploads import UploadStore
from core.database import Database
from core.events import EventBus
from core.locks import KeyedLocks
from core.shared_locks import SharedKeyedLocks
from core.timeutil import utcnow

log = logging.getLogger(__name__)

# What Rasa receives for a shared location / a file, with or without caption (docs/contracts.md).
LOCATION_MESSAGE = "/find_welcome_point"
ATTACHMENT_MESSAGE = "/request_reimbursement"
# A message still "received" after this long was left behind by a crash: the outbox takes it.
STALE_AFTER = timedelta(seconds=30)
TYPING_DELAY_SECONDS = 0.8
TYPING_EVERY_SECONDS = 4.5
# messages remembered as read clear by the safety net on receipt (a few minutes of traffic)
SAFETY_CLEAR_KEPT = 5000


@dataclass(frozen=True)
class GatewayConfig:
    consent_version: str
    message_max_chars: int = 10_000
    retry_base_seconds: float = 2.0
    retry_max_seconds: float = 120.0


class Gateway:
    def __init__(
        self,
        *,
        db: Database,
        rasa: RasaClient,
        uploads: UploadStore,
        events: EventBus,
        config: GatewayConfig,
    ) -> None:
        self.db = db
        self.rasa = rasa
        self.uploads = uploads
        self.events = events
        self.config = config
        self.router = Router(db, events)
        self.sender = Sender(db, events, uploads)
        # the review inbox's capture of each Rasa turn (server/ sets it; None: no capture)
        self.review: ReviewCapture | None = None
        # Rasa's tracker store, read before a retry (server/ sets it; None: always resend)
        self.recorded: RecordedTurns | None = None
        # one lock per conversation being handled; idle entries are dropped (bounded); with
        # several gateway processes server/ puts a SharedKeyedLocks here (Redis)
        self.locks: KeyedLocks | SharedKeyedLocks = KeyedLocks()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._claimed: set[int] = set()
        # handled by the safety net outside the ordered pass (a pass may hold a stale list)
        self._safety_done: deque[int] = deque(maxlen=1000)
        # read by the safety net in ``receive`` and found clear: the ordered pass does not
        # read them again (a message recovered after a crash, or stored by another gateway
        # process, is not here and is read there); bounded, oldest dropped first
        self._safety_clear: dict[int, bool] = {}

    @property
    def channels(self) -> dict[Channel, ChannelAdapter]:
        return self.sender.channels

    def register(self, adapter: ChannelAdapter) -> None:
        self.sender.channels[adapter.name] = adapter

    # --- intake ---------------------------------------------------------------------------

    async def receive(self, inbound: Inbound) -> repo.Stored:
        """Store the message (a redelivery is a no-op), run the safety net, schedule the rest.

        When this returns the message is committed: the channel may acknowledge it.
        """
        stored = await self.db.run(repo.store_inbound, inbound=inbound)
        conversation, message = stored.conversation, stored.message
        if stored.duplicate:
            log.info(
                "conversation %s: duplicate delivery of message %s ignored",
                conversation.conversation_id,
                message.id,
            )
            return stored
        self.sender.publish(message)
        conversation = await self._observe_language(conversation, message)
        if inbound.channel == Channel.whatsapp and inbound.kind != Kind.edited:
            released = await self.db.run(
                repo.release_awaiting_window,
                conversation_id=conversation.conversation_id,
                now=utcnow(),
            )
            if released:
                log.info(
                    "conversation %s: window open again, %d held replies queued",
                    conversation.conversation_id,
                    released,
                )
        text = safety_text(message)
        match = safety.check(text)
        if match is not None and not self._rasa_asks(conversation, message, text):
            assert message.id is not None
            self._claimed.add(message.id)  # the ordered pass leaves it to the safety net
            self.spawn(self._emergency(conversation, message, match))
        else:
            if match is None:
                self._note_safety_clear(message)
            # an ask-tier match is read again, in order, and goes to Rasa (_handle)
            self.schedule(conversation.conversation_id)
        return stored

    def _rasa_asks(self, conversation: Conversation, message: Message, text: str) -> bool:
        """Whether a rule match on ``text`` only asks «Sei in pericolo adesso?» (its tier is
        ``ask``) and Rasa, which asks it, will read the message: a plain text in a private
        chat in bot mode, after consent. Otherwise the match pages at once, as it always did."""
        return (
            message.kind == Kind.text
            and bool(message.text)
            and not message.text.startswith("/")
            and len(message.text) <= self.config.message_max_chars
            and conversation.has_consent
            and not conversation.is_group
            and Router.destination(conversation) == Mode.bot
            and safety.tier(text) == ASK
        )

    def _note_safety_clear(self, message: Message) -> None:
        assert message.id is not None
        self._safety_clear[message.id] = True
        if len(self._safety_clear) > SAFETY_CLEAR_KEPT:
            del self._safety_clear[next(iter(self._safety_clear))]

    async def _observe_language(self, conversation: Conversation, message: Message) -> Conversation:
        """The conversation's language after this message (docs/languages.md): written only
        when the rule changes something, so that the safety net's 112/1522 and the privacy
        notice are already in the language of the first message."""
        if message.kind != Kind.text or not message.text:
            return conversation
        detection = language.detect(message.text)
        state = language.LanguageState.of(conversation)
        if language.next_state(state, detection) == state:
            return conversation
        updated: Conversation = await self.db.run(
            language.observe, conversation_id=conversation.conversation_id, detection=detection
        )
        if updated.language != conversation.language:
            self._language_changed(updated)
        return updated

    def _language_changed(self, conversation: Conversation) -> None:
        """Tell the web chat page, whose own texts follow the conversation's language."""
        self.events.publish(
            conversation.conversation_id, {"type": "language", "language": conversation.language}
        )

    def spawn(self, coroutine: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("gateway task failed", exc_info=task.exception())

    def schedule(self, conversation_id: str) -> None:
        self.spawn(self.process_conversation(conversation_id))

    async def drain(self, max_wait: float = 10.0) -> None:
        """Wait until no message is being handled (tests, shutdown)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max_wait
        while self._tasks and loop.time() < deadline:
            await asyncio.wait(set(self._tasks), timeout=max(0.01, deadline - loop.time()))

    async def shutdown(self) -> None:
        await self.drain(max_wait=5.0)
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task

    # --- the safety net ---------------------------------------------------------------------

    async def _emergency(
        self, conversation: Conversation, message: Message, match: SafetyMatch
    ) -> None:
        """Emergency numbers first, then the flag and a person; never queued behind Rasa."""
        assert message.id is not None
        conversation_id = conversation.conversation_id
        try:
            log.warning(
                "conversation %s: safety net matched %s (%s): emergency numbers sent, human called",
                conversation_id,
                match.rule,
                match.kind,
            )
            await self.sender.reply(
                conversation, Outgoing(text=wording.EMERGENCY, gateway=True), message
            )
            await self.db.run(
                _raise_flag,
                conversation_id=conversation_id,
                kind=FlagKind.emergency,
                priority=FlagPriority.top,
                reason=f"safety_net:{match.rule}",
            )
            await self.db.run(
                repo.update_message_data,
                message_id=message.id,
                changes={"safety": {"kind": match.kind, "rule": match.rule}},
            )
            await self.db.run(
                repo.finish_inbound, message_id=message.id, status=Status.processed, now=utcnow()
            )
            await self.router.switch(conversation_id, Mode.human, reason="emergency")
            self._safety_done.append(message.id)
        finally:
            self._claimed.discard(message.id)
        self.schedule(conversation_id)  # what waits behind it now follows the human mode

    async def _safety_question(
        self, conversation: Conversation, message: Message, match: SafetyMatch, rasa_down: bool
    ) -> bool:
        """A rule match of the ask tier: Rasa's safety net gives it the same tier and
        action_emergency answers with 112/1522 and «Sei in pericolo adesso?»; nobody is paged
        unless the citizen answers «Sì». The numbers go out even if Rasa does not ask."""
        assert message.id is not None
        log.warning(
            "conversation %s: safety net matched %s (%s) with a word of the reported lists: "
            "Rasa asks whether in danger now",
            conversation.conversation_id,
            match.rule,
            match.kind,
        )
        await self.db.run(
            repo.update_message_data,
            message_id=message.id,
            changes={"safety": {"kind": match.kind, "rule": match.rule, "tier": ASK}},
        )
        return await self._to_rasa(conversation, message, rasa_down=rasa_down, numbers=True)

    # --- processing, one conversation at a time ----------------------------------------------

    async def process_conversation(self, conversation_id: str) -> None:
        """Handle the conversation's unhandled messages, oldest first; then its queued replies."""
        async with self.locks.hold(conversation_id):
            state = await self.db.run(repo.pass_state, conversation_id=conversation_id)
            if state is None:
                return
            conversation, messages = state
            rasa_down = False
            for index, message in enumerate(messages):
                assert message.id is not None
                if message.id in self._claimed or message.id in self._safety_done:
                    continue
                if index:  # the previous message may have changed consent or mode
                    conversation = await self._conversation(conversation_id)
                self._claimed.add(message.id)
                try:
                    handled = await self._handle(conversation, message, rasa_down=rasa_down)
                    rasa_down = rasa_down or not handled
                except Exception:
                    log.exception(
                        "conversation %s: message %s failed; retried later",
                        conversation_id,
                        message.id,
                    )
                    await self._defer(message, "gateway:error")
                finally:
                    self._claimed.discard(message.id)
            await self.sender.flush_queued(conversation_id)

    async def _conversation(self, conversation_id: str) -> Conversation:
        conversation = await self.db.run(repo.get_conversation, conversation_id=conversation_id)
        if conversation is None:
            raise LookupError(conversation_id)
        return conversation

    async def _handle(
        self, conversation: Conversation, message: Message, *, rasa_down: bool
    ) -> bool:
        """Handle one message; False when it has to wait for Rasa."""
        assert message.id is not None
        read_on_receipt = self._safety_clear.pop(message.id, False)
        if message.status == Status.received and not read_on_receipt:
            text = safety_text(message)
            match = safety.check(text)
            if match is not None and self._rasa_asks(conversation, message, text):
                return await self._safety_question(conversation, message, match, rasa_down)
            if match is not None:  # a message recovered after a crash, or one that cannot ask
                assert message.id is not None
                self._claimed.add(message.id)
                await self._emergency(conversation, message, match)
                return True
        elif _asked(message) and self._rasa_asks(conversation, message, message.text):
            # a question Rasa could not ask yet (it was down): the numbers were sent already
            return await self._to_rasa(conversation, message, rasa_down=rasa_down, numbers=True)
        if conversation.is_group:
            # groups: a short pointer to the private chat when addressed, silence otherwise
            if message.data.get("addressed") or message.payload:
                await self._answer(conversation, message, wording.GROUP_CHAT, Status.rejected)
            else:
                await self._finish(message, Status.rejected, "group")
            return True
        if message.kind == Kind.button:
            resolved = await self._resolve_button(conversation, message)
            if resolved is None:
                await self._answer(conversation, message, wording.UNKNOWN_BUTTON, Status.rejected)
                return True
            message = resolved
        request = switch.request_of(message)
        if request is not None:  # the language switch works before consent too
            await self._switch_language(conversation, message, request)
            return True
        if not conversation.has_consent:
            await self._consent_gate(conversation, message)
            return True
        if message.payload in (consent.ACCEPT_PAYLOAD, consent.DECLINE_PAYLOAD):
            await self._consent_again(conversation, message)
            return True
        if message.payload == THUMBS_DOWN_PAYLOAD:
            await self._thumbs_down(conversation, message)
            return True
        if message.kind == Kind.edited:
            await self._answer(conversation, message, wording.EDITED_MESSAGE, Status.rejected)
            return True
        if message.kind == Kind.unsupported:
            voice = bool(message.data.get("voice"))
            text = wording.VOICE_NOT_SUPPORTED if voice else wording.NOT_SUPPORTED
            await self._answer(conversation, message, text, Status.rejected)
            return True
        if message.kind == Kind.attachment and "attachment" not in message.data:
            refusal = await store_attachment(self, conversation, message)
            if refusal is not None:
                await self._answer(conversation, message, refusal, Status.rejected)
                return True
            message = await self._message(message)
        if message.kind == Kind.text and not message.text:
            await self._answer(conversation, message, wording.EMPTY_MESSAGE, Status.rejected)
            return True
        menu_reply = None
        if menus.intercepts(payload=message.payload, text=message.text):
            menu_reply = await self.db.run(
                menus.intercept,
                conversation_id=conversation.conversation_id,
                payload=message.payload,
                text=message.text,
            )
        if menu_reply is not None:  # the announcements menu answers by itself
            await self.sender.reply(conversation, menu_reply, message, finish=Status.processed)
            return True
        if Router.destination(conversation) == Mode.human:
            await self._to_console(conversation, message)
            return True
        return await self._to_rasa(conversation, message, rasa_down=rasa_down)

    async def _message(self, message: Message) -> Message:
        assert message.id is not None
        fresh = await self.db.run(repo.get_message, message_id=message.id)
        assert fresh is not None
        return fresh

    async def _answer(
        self, conversation: Conversation, message: Message, text: str, status: Status
    ) -> None:
        """Close the message with ``status`` and answer with the gateway's own words."""
        await self.sender.reply(
            conversation, Outgoing(text=text, gateway=True), message, finish=status
        )

    async def _finish(self, message: Message, status: Status, error: str = "") -> None:
        assert message.id is not None
        await self.db.run(
            repo.finish_inbound, message_id=message.id, status=status, now=utcnow(), error=error
        )

    async def _defer(self, message: Message, error: str) -> Message:
        assert message.id is not None
        return await self.db.run(
            repo.defer_inbound,
            message_id=message.id,
            now=utcnow(),
            error=error,
            base_seconds=self.config.retry_base_seconds,
            max_seconds=self.config.retry_max_seconds,
        )

    # --- buttons and consent -------------------------------------------------------------------

    async def _resolve_button(self, conversation: Conversation, message: Message) -> Message | None:
        """The tapped button's title and payload, looked up by reference; None if unknown."""
        if message.data.get("resolved"):
            return message
        found = await self.db.run(
            repo.resolve_button,
            conversation_id=conversation.conversation_id,
            ref=message.payload or "",
        )
        if found is None:
            log.info("conversation %s: unknown button data", conversation.conversation_id)
            return None
        title, payload, origin = found
        resolved = await self.db.run(
            repo.resolve_inbound_button,
            message_id=message.id,
            title=title,
            payload=payload,
            origin={
                "message_id": origin.id,
                "external_id": origin.external_id,
                "page_key": origin.data.get("page_key"),
                "author": origin.author,
            },
        )
        self.sender.publish(resolved)
        return resolved

    async def _consent_gate(self, conversation: Conversation, message: Message) -> None:
        conversation_id = conversation.conversation_id
        now = utcnow()
        if consent.is_accept(payload=message.payload, text=message.text):
            await self.db.run(
                repo.set_consent,
                conversation_id=conversation_id,
                version=self.config.consent_version,
                now=now,
            )
            log.info(
                "conversation %s: consent given (notice %s)",
                conversation_id,
                self.config.consent_version,
            )
            await self._answer(conversation, message, wording.CONSENT_THANKS, Status.processed)
            return
        if consent.is_decline(payload=message.payload, text=message.text):
            await self.db.run(repo.set_consent_declined, conversation_id=conversation_id, now=now)
            log.info("conversation %s: consent declined", conversation_id)
            await self._answer(conversation, message, wording.CONSENT_DECLINED, Status.processed)
            return
        await self._finish(message, Status.rejected, "no-consent")
        reminder = conversation.notice_sent_at is not None
        await self._send_notice(conversation, message, reminder=reminder)

    async def _send_notice(
        self, conversation: Conversation, reply_to: Message | None, *, reminder: bool
    ) -> None:
        """The privacy notice (or its short reminder); the first one sent is recorded."""
        await self.sender.reply(conversation, consent.notice(reminder=reminder), reply_to)
        if conversation.notice_sent_at is None:
            await self.db.run(
                repo.mark_notice_sent, conversation_id=conversation.conversation_id, now=utcnow()
            )

    async def _switch_language(
        self, conversation: Conversation, message: Message, request: switch.Request
    ) -> None:
        """The choice of languages, or the language chosen (then the privacy notice again in
        it, when the citizen has not answered it yet)."""
        if request.language is None:
            await self.sender.reply(
                conversation, switch.choice(conversation), message, finish=Status.processed
            )
            return
        conversation = await self.db.run(
            language.choose,
            conversation_id=conversation.conversation_id,
            language=request.language,
        )
        log.info(
            "conversation %s: language %s chosen", conversation.conversation_id, request.language
        )
        self._language_changed(conversation)
        await self.sender.reply(
            conversation, switch.chosen(request.language), message, finish=Status.processed
        )
        if not conversation.has_consent and conversation.consent_declined_at is None:
            await self._send_notice(conversation, None, reminder=False)

    async def _thumbs_down(self, conversation: Conversation, message: Message) -> None:
        """👎 under an answer: its request goes to the review inbox, once; the citizen is
        thanked (or told, politely, that this answer was marked already)."""
        origin = (message.data.get("origin") or {}).get("message_id")
        reply = THUMBS_DOWN_THANKS
        if self.review is not None and isinstance(origin, int):
            outcome = await self.review.thumbs_down(conversation.conversation_id, origin)
            reply = thumbs_down_reply(outcome)
        await self._answer(conversation, message, reply, Status.processed)

    async def _consent_again(self, conversation: Conversation, message: Message) -> None:
        """A consent button tapped after consent: accept is harmless, decline withdraws."""
        if message.payload == consent.DECLINE_PAYLOAD:
            await self.db.run(
                consent.withdraw, conversation_id=conversation.conversation_id, now=utcnow()
            )
            log.info("conversation %s: consent withdrawn", conversation.conversation_id)
            await self._answer(conversation, message, wording.CONSENT_DECLINED, Status.processed)
        else:
            await self._answer(conversation, message, wording.CONSENT_THANKS, Status.processed)

    # --- destinations ---------------------------------------------------------------------------

    async def _to_console(self, conversation: Conversation, message: Message) -> None:
        assert message.id is not None
        await self._finish(message, Status.processed)
        await self.db.run(
            repo.update_message_data, message_id=message.id, changes={"route": Mode.human.value}
        )
        self.events.publish(
            conversation.conversation_id, {"type": "for_staff", "message_id": message.id}
        )

    def rasa_request(
        self, conversation: Conversation, message: Message
    ) -> tuple[str | None, dict[str, Any]]:
        """(text for Rasa, metadata); text None when the gateway answers by itself."""
        metadata: dict[str, Any] = {
            "channel": conversation.channel,
            "message_id": message.id,
            "language": conversation.language,
        }
        if message.kind == Kind.command:
            command = lookup(message.payload or "")
            if command is None:
                return None, metadata
            metadata["command"] = command.name
            return with_language(command.rasa_message, conversation), metadata
        if message.kind == Kind.button:
            return with_language(message.payload or "", conversation), metadata
        if message.kind == Kind.location:
            location = message.data.get("location") or {}
            metadata["location"] = {"lat": location.get("lat"), "lon": location.get("lon")}
            return with_language(LOCATION_MESSAGE, conversation), metadata
        text, truncated = truncate_words(message.text, self.config.message_max_chars)
        if truncated:
            metadata["truncated"] = True
        if message.kind == Kind.attachment:
            # a citizen's file is only ever a receipt: always the reimbursement request, the
            # caption beside it (the safety net has read the caption already, in receive)
            metadata["attachment"] = message.data.get("attachment")
            if text:
                metadata["caption"] = text
            return with_language(ATTACHMENT_MESSAGE, conversation), metadata
        if text.startswith("/"):
            return None, metadata  # typed "/intent{...}" would bypass the NLU: never forwarded
        return text, metadata

    async def _to_rasa(
        self,
        conversation: Conversation,
        message: Message,
        *,
        rasa_down: bool,
        numbers: bool = False,
    ) -> bool:
        """Rasa's answer to the message; False when Rasa is down (retried later).

        ``numbers``: a safety rule matched (ask tier): 112/1522 must reach the citizen even
        if Rasa does not answer, or answers without them."""
        assert message.id is not None
        text, metadata = self.rasa_request(conversation, message)
        if text is None:
            await self._answer(conversation, message, wording.UNKNOWN_COMMAND, Status.rejected)
            return True
        first_attempt = message.status == Status.received
        if metadata.get("truncated") and first_attempt:
            await self.sender.reply(conversation, Outgoing(text=wording.TOO_LONG, gateway=True))
        if rasa_down:  # an earlier message of this pass found Rasa down: keep the order
            await self._rasa_unavailable(
                conversation, message, "rasa:down", first_attempt, numbers=numbers
            )
            return False
        replies = await self._answered_before(conversation, message, first_attempt)
        if replies is None:
            typing = self.spawn(self._keep_typing(conversation, message))
            try:
                replies = await self.rasa.send(
                    sender=conversation.conversation_id,
                    message=text,
                    channel=conversation.channel,
                    metadata=metadata,
                )
            except RasaUnavailable as exc:
                await self._rasa_unavailable(
                    conversation, message, str(exc), first_attempt, numbers=numbers
                )
                return False
            finally:
                typing.cancel()
        turn = render_rasa(replies)
        if numbers and not _gives_numbers(turn):
            log.warning(
                "conversation %s: a safety rule matched but Rasa's answer has no 112: "
                "the gateway sends the numbers first",
                conversation.conversation_id,
            )
            turn.replies.insert(0, Outgoing(text=EMERGENCY_NUMBERS, gateway=True))
        typed = answers_typed(message) and turn.handoff is None
        with_thumbs_down(turn.replies, channel=conversation.channel, typed=typed)
        outgoings = await self._build_menus(conversation, turn.replies)
        await self.sender.send_turn(conversation, outgoings, message, finish=Status.processed)
        if self.review is not None:  # after the answer: the citizen never waits for it
            await self.review.turn(conversation.conversation_id, message)
        if turn.handoff is not None:
            await self.handoff(conversation.conversation_id, turn.handoff)
        return True

    async def _answered_before(
        self, conversation: Conversation, message: Message, first_attempt: bool
    ) -> list[dict[str, Any]] | None:
        """On a retry, Rasa's answers if it finished the turn after the gateway gave up: a
        message deferred before, or one left behind by a gateway that stopped (stale)."""
        stale = utcnow() - message.created_at >= STALE_AFTER
        if self.recorded is None or (first_attempt and not stale):
            return None
        assert message.id is not None
        replies = await self.recorded.replies(conversation.conversation_id, message.id)
        if replies is not None:
            log.info(
                "conversation %s: message %s was answered by Rasa after the gateway gave up; "
                "its %d answers are delivered, the message is not sent again",
                conversation.conversation_id,
                message.id,
                len(replies),
            )
        return replies

    async def _build_menus(
        self, conversation: Conversation, replies: list[Outgoing]
    ) -> list[Outgoing]:
        """Replace the menu placeholders of a turn with the menus themselves."""
        built: list[Outgoing] = []
        for outgoing in replies:
            if outgoing.menu is None:
                built.append(outgoing)
                continue
            menu_reply = await self.db.run(
                menus.for_custom,
                conversation_id=conversation.conversation_id,
                custom=outgoing.menu,
            )
            if menu_reply is not None:
                built.append(menu_reply)
        return built

    async def _rasa_unavailable(
        self,
        conversation: Conversation,
        message: Message,
        error: str,
        first_attempt: bool,
        *,
        numbers: bool = False,
    ) -> None:
        """The message waits for Rasa; the citizen is told once. ``numbers``: a safety rule
        matched (ask tier), so 112/1522 go out at once, before Rasa can ask."""
        deferred = await self._defer(message, error)
        log.warning(
            "conversation %s: message %s waits for Rasa (%s), attempt %d",
            conversation.conversation_id,
            message.id,
            error,
            deferred.attempts,
        )
        if message.kind == Kind.command and message.payload == "operatore":
            # the citizen asked for a person: no need to wait for Rasa
            await self._finish(message, Status.processed, error)
            await self.handoff(conversation.conversation_id, Handoff("normal", "requested"))
            await self.sender.reply(
                conversation, Outgoing(text=wording.HUMAN_MODE_RECEIVED, gateway=True), message
            )
            return
        if first_attempt:
            if numbers:
                await self.sender.reply(
                    conversation, Outgoing(text=EMERGENCY_NUMBERS, gateway=True), message
                )
            await self.sender.reply(
                conversation, Outgoing(text=wording.UNAVAILABLE, gateway=True), message
            )

    async def handoff(self, conversation_id: str, handoff: Handoff) -> None:
        """Flag the conversation for the console and give it to a person."""
        kind = FlagKind.emergency if handoff.priority == "top" else FlagKind.handoff
        await self.db.run(
            _raise_flag,
            conversation_id=conversation_id,
            kind=kind,
            priority=FlagPriority(handoff.priority),
            reason=handoff.reason or "requested",
        )
        await self.router.switch(conversation_id, Mode.human, reason=handoff.reason or "handoff")

    async def _keep_typing(self, conversation: Conversation, message: Message) -> None:
        """ "typing..." while Rasa thinks: at once in the web chat (free); on the messaging
        channels only if the answer takes a while (each call counts against their rate limits)."""
        self.events.publish(conversation.conversation_id, {"type": "typing"})
        adapter = self.channels.get(Channel(conversation.channel))
        await asyncio.sleep(TYPING_DELAY_SECONDS)
        for _ in range(6):  # at most ~27 s of "typing..."
            if adapter is not None:
                await adapter.typing(conversation, message)
            self.events.publish(conversation.conversation_id, {"type": "typing"})
            await asyncio.sleep(TYPING_EVERY_SECONDS)

    # --- for the console (issue 5) ---------------------------------------------------------------

    async def send_text(
        self,
        conversation_id: str,
        text: str,
        *,
        author: Author = Author.staff,
        staff_user_id: int | None = None,
    ) -> Message:
        """A person's message to the citizen: stored, then sent on the citizen's channel."""
        conversation = await self._conversation(conversation_id)
        async with self.locks.hold(conversation_id):
            return await self.sender.reply(
                conversation, Outgoing(text=text), author=author, staff_user_id=staff_user_id
            )

    # --- the outbox ----------------------------------------------------------------------------

    async def retry_due(self) -> int:
        """One pass of the outbox: schedule every conversation with work due. Returns how many."""
        now = utcnow()
        due = await self.db.run(repo.due_for_retry, now=now, stale_before=now - STALE_AFTER)
        conversations: list[str] = []
        for item in due:
            if item.message_id in self._claimed or item.conversation_id in conversations:
                continue
            if self.locks.locked(item.conversation_id):
                continue
            conversations.append(item.conversation_id)
        for item in due:
            if item.direction == Direction.outbound:
                self.sender.has_queued.add(item.conversation_id)
        for conversation_id in conversations:
            self.schedule(conversation_id)
        return len(conversations)


def safety_text(message: Message) -> str:
    """What the safety net reads: the whole text, except a menu command's own name.

    "/aiuto" is the bot's help command, not a plea for help (which a bare "aiuto" is, for
    the safety net); whatever follows a command is checked as usual.
    """
    if message.kind == Kind.command and lookup(message.payload or "") is not None:
        return message.text.split(maxsplit=1)[1] if " " in message.text.strip() else ""
    return message.text


def _asked(message: Message) -> bool:
    """A rule match of the ask tier sent to Rasa before (``_safety_question``)."""
    safety_data = message.data.get("safety")
    return isinstance(safety_data, dict) and safety_data.get("tier") == ASK


def _gives_numbers(turn: Turn) -> bool:
    """Whether Rasa's answer carries 112 (the question of the ask tier, or the immediate
    answer with its top-priority hand-off): in every language the number is written so."""
    if turn.handoff is not None and turn.handoff.priority == "top":
        return True
    return any("112" in reply.text for reply in turn.replies)


def _raise_flag(
    session: Any,
    *,
    conversation_id: str,
    kind: FlagKind,
    priority: FlagPriority,
    reason: str,
) -> None:
    raise_flag(
        session,
        conversation_id=conversation_id,
        kind=kind,
        priority=priority,
        source="gateway",
        reason=reason,
    )
