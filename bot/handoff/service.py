"""The hand-off protocol at run time, between the gateway and the console.

* The gateway's router switches a conversation to "human" (the citizen asked, Rasa sent the
  ``handoff`` custom payload, the safety net fired, ...); our ``on_switch`` hook then puts it
  in the queue (care.handoff.request_handoff), pauses Rasa's tracker, tells the citizen
  honestly when a person will answer (care.sla: office hours), and notifies the Care
  Managers (console live events, optional staff Telegram group).
* In human mode the gateway stores the citizen's messages and publishes them on its event
  bus; the console's websockets stream them.
* A Care Manager claims, answers (``send``), transfers, and closes: Rasa's tracker is
  resumed, the citizen is told the assistant is back and asked one CSAT question; the next
  message (the tap, or anything else, which then goes to Rasa) returns the conversation to
  the bot.
* Every step is recorded in the database; ``reconcile`` (run every second) completes the
  steps a crash or restart interrupted, so nothing is lost mid-hand-off.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from sqlmodel import Session, col, select

from bot.handoff.clients import RasaTracker, StaffTelegram
from bot.language import localized
from care import handoff as core
from care import handoff_wording as wording
from care.handoff_models import (
    OPEN_STATUSES,
    PRIORITY_LABELS,
    CsatAnswer,
    Handoff,
    HandoffStatus,
    Outcome,
)
from care.models import HANDOFF_KINDS, ConversationFlag, FlagKind
from care.sla import DEFAULT_HOURS, OfficeHours, office_hours
from conversations import repository as repo
from conversations.models import Author, Conversation, Direction, Message, Mode, Status
from conversations.outgoing import Button, Outgoing
from core.events import ALL, REMOTE, EventBus
from core.locks import KeyedLocks
from core.periodic import PeriodicTask
from core.shared_locks import SharedKeyedLocks
from core.timeutil import utcnow

if TYPE_CHECKING:
    from bot.gateway import Gateway

log = logging.getLogger(__name__)

T = TypeVar("T")
QUEUE = "queue"
TELEGRAM_CHAT_KEY = "telegram_group_chat_id"
TELEGRAM_ENABLED_KEY = "telegram_group_enabled"
GRACE = timedelta(seconds=3)  # the hook's own steps are not repeated by the reconcile loop
BOT_FAILURE_WINDOW = timedelta(minutes=10)  # a fresh "failed twice" flag means: hand off
CSAT_WAIT = timedelta(hours=24)  # then a closed hand-off's conversation goes back to the bot


@dataclass(frozen=True)
class HandoffConfig:
    reconcile_seconds: float = 1.0
    office_fallback: str = DEFAULT_HOURS
    office_cache_seconds: float = 300.0


class HandoffService:
    """One per gateway process; ``start`` installs the router hook and the background tasks."""

    def __init__(
        self,
        gateway: Gateway,
        *,
        rasa: RasaTracker,
        telegram: StaffTelegram | None = None,
        config: HandoffConfig | None = None,
    ) -> None:
        self.gateway = gateway
        self.rasa = rasa
        self.telegram = telegram
        self.config = config or HandoffConfig()
        self.events = EventBus(queue_size=500)  # queue changes, for the console's websockets
        self.online: Counter[int] = Counter()  # staff id -> open console websockets
        self._office: tuple[float, OfficeHours] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._busy: set[str] = set()  # conversations whose hand-off step runs right now
        # one lock per conversation being worked on; idle entries are dropped (bounded); with
        # several gateway processes server/ gives locks shared through Redis
        self.locks: KeyedLocks | SharedKeyedLocks = KeyedLocks()
        self._csat_checked: set[str] = set()  # waiting for the CSAT tap, already looked at
        self._retries: dict[int, tuple[int, float]] = {}
        self._running = False
        # finishes what a crash or a restart interrupted (core.periodic: a failed pass is
        # logged and the next one comes all the same)
        self.reconciler = PeriodicTask(
            "hand-off reconcile", self.reconcile, self.config.reconcile_seconds
        )

    # --- life cycle --------------------------------------------------------------------------

    async def start(self) -> None:
        self.gateway.router.on_switch.append(self.on_switch)
        self._running = True
        ready = asyncio.Event()
        self._spawn(self._listen(ready))
        self.reconciler.start()
        await ready.wait()

    async def stop(self) -> None:
        self._running = False
        await self.reconciler.stop()
        with contextlib.suppress(ValueError):
            self.gateway.router.on_switch.remove(self.on_switch)
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task
        await self.rasa.aclose()
        if self.telegram is not None:
            await self.telegram.aclose()
        if isinstance(self.locks, SharedKeyedLocks):
            await self.locks.aclose()

    def _spawn(self, coroutine: Awaitable[Any]) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coroutine)  # type: ignore[arg-type]
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("hand-off task failed", exc_info=task.exception())

    async def db(self, fn: Callable[..., T], /, **kwargs: Any) -> T:
        return await self.gateway.db.run(fn, **kwargs)

    async def office(self) -> OfficeHours:
        cached = self._office
        if cached is not None and time.monotonic() - cached[0] < self.config.office_cache_seconds:
            return cached[1]
        office = await self.db(office_hours, fallback=self.config.office_fallback)
        self._office = (time.monotonic(), office)
        return office

    def publish(self, event: str, handoff: Handoff, **extra: Any) -> None:
        """A queue change for the console (ids and priority only: no personal data)."""
        self.events.publish(
            QUEUE,
            {
                "type": "queue",
                "event": event,
                "handoff_id": handoff.id,
                "priority": handoff.priority,
                "status": handoff.status,
                **extra,
            },
        )

    @property
    def staff_online(self) -> bool:
        return any(count > 0 for count in self.online.values())

    # --- into human mode -------------------------------------------------------------------------

    async def on_switch(
        self, conversation_id: str, previous: Mode, mode: Mode, reason: str
    ) -> None:
        """The router's hook (runs inside the gateway's handling of the conversation)."""
        if mode == Mode.human:
            await self.ensure_handoff(conversation_id, reason=reason, in_gateway=True)

    async def request(self, conversation_id: str, *, priority: str = "normal", reason: str) -> None:
        """Ask for a person from outside the gateway's flow (same path as Rasa's payload)."""
        from bot.rendering import Handoff as Directive

        await self.gateway.handoff(conversation_id, Directive(priority, reason))

    async def ensure_handoff(
        self, conversation_id: str, *, reason: str, in_gateway: bool = False
    ) -> Handoff | None:
        """The conversation's open hand-off, created (and announced) if needed."""
        office = await self.office()
        self._busy.add(conversation_id)
        try:
            requested = await self.db(
                _request, conversation_id=conversation_id, reason=reason, office=office
            )
            handoff = requested.handoff
            if requested.created:
                log.info(
                    "hand-off %s: conversation %s queued (%s, %s)",
                    handoff.id,
                    conversation_id,
                    handoff.priority,
                    handoff.reason,
                )
                await self._announce(handoff, office, in_gateway=in_gateway)
            elif requested.escalated:
                log.info("hand-off %s: priority raised to %s", handoff.id, handoff.priority)
                self.publish("escalated", handoff)
            return handoff
        finally:
            self._busy.discard(conversation_id)

    async def _announce(self, handoff: Handoff, office: OfficeHours, *, in_gateway: bool) -> None:
        assert handoff.id is not None
        self.publish("new", handoff, label=PRIORITY_LABELS.get(handoff.priority, ""))
        await self._pause_rasa(handoff)
        await self._tell_citizen(handoff, office, in_gateway=in_gateway)
        self._spawn(self._notify_group(handoff))

    async def _pause_rasa(self, handoff: Handoff) -> None:
        assert handoff.id is not None
        if await self.rasa.pause(handoff.conversation_id):
            handoff.rasa_paused_at = utcnow()
            await self.db(
                core.mark_step,
                handoff_id=handoff.id,
                step="rasa_paused_at",
                now=handoff.rasa_paused_at,
            )

    async def _tell_citizen(
        self, handoff: Handoff, office: OfficeHours, *, in_gateway: bool
    ) -> None:
        assert handoff.id is not None
        now = utcnow()
        conversation = await self.db(repo.get_conversation, conversation_id=handoff.conversation_id)
        text = wording.on_request(
            priority=handoff.priority,
            office_open=office.is_open(now),
            next_opening=office.next_opening(now),
            staff_online=self.staff_online,
            now=now,
            language=conversation.language if conversation is not None else None,
        )
        await self._say(handoff.conversation_id, Outgoing(text=text, gateway=True), in_gateway)
        await self.db(core.mark_step, handoff_id=handoff.id, step="citizen_told_at", now=utcnow())

    async def _say(self, conversation_id: str, outgoing: Outgoing, in_gateway: bool) -> Message:
        """Store and send the hand-off's own words to the citizen.

        Inside the gateway's flow (the router hook) the conversation is already locked by
        the gateway, so the sender is called directly; elsewhere we wait for the gateway's
        per-conversation lock by going through ``send_text`` when the message is plain text.
        """
        conversation = await self.db(repo.get_conversation, conversation_id=conversation_id)
        if conversation is None:
            raise LookupError(conversation_id)
        if not in_gateway and not outgoing.buttons:  # in the citizen's language (locale/)
            text = localized(outgoing, conversation.language).text
            return await self.gateway.send_text(conversation_id, text, author=Author.gateway)
        return await self.gateway.sender.reply(conversation, outgoing)

    async def _notify_group(self, handoff: Handoff) -> None:
        assert handoff.id is not None
        if self.telegram is None or not self.telegram.configured:
            return
        enabled, chat_id = await self.db(_telegram_setting)
        if not enabled or not chat_id:
            return
        label = PRIORITY_LABELS.get(handoff.priority, handoff.priority)
        text = (
            f"🔔 Nuova conversazione in coda (n. {handoff.id}, priorità: {label}). "
            "Aprila nella console del personale, sezione «Coda conversazioni»."
        )
        if handoff.priority == "top":
            text = "🚨 EMERGENZA. " + text
        if await self.telegram.send(chat_id, text):
            await self.db(core.mark_step, handoff_id=handoff.id, step="notified_at", now=utcnow())

    # --- the Care Manager's actions ---------------------------------------------------------------

    async def send(self, handoff_id: int, *, staff_id: int, text: str) -> Message:
        """A Care Manager's message to the citizen, on the citizen's channel (stored first)."""
        handoff = await self.db(core.get_handoff, handoff_id=handoff_id)
        if (
            handoff is None
            or handoff.status != HandoffStatus.assigned
            or handoff.assigned_to != staff_id
        ):
            raise core.HandoffError("Prendi in carico la conversazione prima di rispondere.")
        message = await self.gateway.send_text(
            handoff.conversation_id, text, author=Author.staff, staff_user_id=staff_id
        )
        await self.db(core.record_reply, handoff_id=handoff_id, now=utcnow())
        assert message.id is not None
        current = await self.db(repo.get_message, message_id=message.id)
        return current or message

    async def claimed(self, handoff: Handoff) -> None:
        self.publish("claimed", handoff)

    async def close(
        self, handoff_id: int, *, staff_id: int, outcome: Outcome, ask_csat: bool = True
    ) -> bool:
        """Close with an outcome, resume Rasa, tell the citizen, ask the CSAT question.

        The conversation's lock is held from the closing UPDATE on, so a citizen message
        arriving meanwhile is handled after it (as a message after closing)."""
        found = await self.db(core.get_handoff, handoff_id=handoff_id)
        if found is None:
            return False
        cid = found.conversation_id
        async with self.locks.hold(cid):
            handoff = await self.db(
                _close,
                handoff_id=handoff_id,
                staff_id=staff_id,
                outcome=outcome,
                ask_csat=ask_csat,
                now=utcnow(),
            )
            if handoff is None:
                return False
            log.info("hand-off %s closed (%s)", handoff_id, outcome.value)
            self._busy.add(cid)
            try:
                await self._resume_rasa(handoff)
                await self._say(cid, Outgoing(text=wording.CLOSED, gateway=True), in_gateway=False)
                if ask_csat:
                    buttons = [
                        Button(title, core.csat_payload(handoff_id, score))
                        for score, title in wording.CSAT_BUTTONS
                    ]
                    question = await self._say(
                        cid,
                        Outgoing(text=wording.CSAT_QUESTION, buttons=buttons, gateway=True),
                        False,
                    )
                    assert question.id is not None
                    await self.db(
                        core.set_csat_question, handoff_id=handoff_id, message_id=question.id
                    )
                else:
                    await self._return_to_bot(handoff)
            finally:
                self._busy.discard(cid)
        self.publish("closed", handoff)
        return True

    async def _resume_rasa(self, handoff: Handoff) -> None:
        assert handoff.id is not None
        if handoff.rasa_resumed_at is None and await self.rasa.resume(handoff.conversation_id):
            handoff.rasa_resumed_at = utcnow()
            await self.db(
                core.mark_step,
                handoff_id=handoff.id,
                step="rasa_resumed_at",
                now=handoff.rasa_resumed_at,
            )

    async def _return_to_bot(self, handoff: Handoff) -> None:
        assert handoff.id is not None
        self._csat_checked.discard(handoff.conversation_id)
        await self._resume_rasa(handoff)
        await self.gateway.router.switch(handoff.conversation_id, Mode.bot, reason="handoff_closed")
        handoff.returned_at = utcnow()
        await self.db(
            core.mark_step, handoff_id=handoff.id, step="returned_at", now=handoff.returned_at
        )
        log.info("hand-off %s: conversation back to the assistant", handoff.id)

    # --- citizen messages in human mode ----------------------------------------------------------

    async def _listen(self, ready: asyncio.Event) -> None:
        async with self.gateway.events.subscribe(ALL) as queue:
            ready.set()
            while True:
                event = await queue.get()
                # a citizen message for staff is handled by the process that received it
                if event.get("type") == "for_staff" and not event.get(REMOTE):
                    self._spawn(self._for_staff(event["conversation_id"], int(event["message_id"])))

    async def _for_staff(self, conversation_id: str, message_id: int) -> None:
        async with self.locks.hold(conversation_id):
            handoff = await self.db(core.open_handoff, conversation_id=conversation_id)
            if handoff is not None:
                self.publish("activity", handoff)
                return
            conversation = await self.db(repo.get_conversation, conversation_id=conversation_id)
            if conversation is None:
                return
            if conversation.mode == Mode.bot:  # arrived while the hand-off was being closed
                await self.db(_requeue_for_bot, message_id=message_id)
                self.gateway.schedule(conversation_id)
                return
            if await self.db(core.pending_csat, conversation_id=conversation_id) is not None:
                await self._after_close(conversation_id, [message_id])
                return
        # human mode but no hand-off (e.g. a crash between the switch and the hook)
        await self.ensure_handoff(conversation_id, reason="recovered")

    async def _after_close(self, conversation_id: str, message_ids: list[int]) -> None:
        """The first messages after closing: the CSAT tap, or anything else (then for Rasa)."""
        handoff = await self.db(core.latest_handoff, conversation_id=conversation_id)
        if handoff is None or handoff.id is None:
            return
        now = utcnow()
        for_bot: list[int] = []
        answered = False
        for message_id in message_ids:
            message = await self.db(repo.get_message, message_id=message_id)
            if message is None:
                continue
            parsed = core.parse_csat_payload(message.payload)
            if parsed is None:
                for_bot.append(message_id)
            elif parsed[0] == handoff.id and not answered:
                answered = await self.db(
                    core.answer_csat,
                    handoff_id=handoff.id,
                    conversation_id=conversation_id,
                    score=parsed[1],
                    now=now,
                )
                if answered:
                    log.info("hand-off %s: CSAT answered (%d)", handoff.id, parsed[1])
        if answered:
            await self._say(
                conversation_id, Outgoing(text=wording.CSAT_THANKS, gateway=True), False
            )
            self.publish("csat", handoff)
        else:
            await self.db(core.skip_csat, handoff_id=handoff.id, now=now)
        await self._return_to_bot(handoff)
        for message_id in for_bot:  # questions for the assistant: it answers them now
            await self.db(_requeue_for_bot, message_id=message_id)
        if for_bot:
            self.gateway.schedule(conversation_id)

    # --- reconcile: finish what a crash or a restart interrupted ---------------------------------

    async def reconcile(self) -> None:
        now = utcnow()
        work = await self.db(_reconcile_work, now=now)
        for conversation_id in work.human_without_handoff:
            if conversation_id in self._busy or self.locks.locked(conversation_id):
                continue
            if conversation_id in self._csat_checked:
                continue
            await self._check_human_mode(conversation_id, now)
        office = await self.office() if work.incomplete else None
        for handoff in work.incomplete:
            assert handoff.id is not None
            if handoff.conversation_id in self._busy or not self._due(handoff.id):
                continue
            async with self.locks.hold(handoff.conversation_id):
                fresh = await self.db(core.get_handoff, handoff_id=handoff.id)
                if fresh is not None:
                    await self._complete(fresh, office)
        for conversation_id in work.escalate:
            if conversation_id not in self._busy:
                await self.ensure_handoff(conversation_id, reason="emergency")
        for conversation_id in work.bot_failures:  # the assistant failed twice in a row
            if conversation_id not in self._busy:
                log.info("conversation %s: the assistant failed twice, hand-off", conversation_id)
                await self.request(conversation_id, priority="normal", reason="bot_failure")

    async def _check_human_mode(self, conversation_id: str, now: datetime) -> None:
        """A conversation in human mode without an open hand-off: a hand-off to (re)create, one
        to finish closing (crash), or one waiting for the CSAT tap (then: the messages that
        reached the console meanwhile)."""
        state = await self.db(_human_state, conversation_id=conversation_id)
        latest, pending = state.latest, state.pending
        if latest is None or latest.returned_at is not None or state.fresh_flags:
            if pending is not None:  # a new request (e.g. an emergency) replaces the question
                await self.db(core.skip_csat, handoff_id=pending.handoff_id, now=now)
            reason = "emergency" if "top" in state.fresh_flags else "recovered"
            await self.ensure_handoff(conversation_id, reason=reason)
            return
        async with self.locks.hold(conversation_id):
            if pending is None:  # closed, but the gateway died before giving it back
                await self._complete(latest, None)
                return
            late = await self.db(
                _messages_for_staff_after,
                conversation_id=conversation_id,
                after_id=pending.question_message_id or 0,
            )
            if late:
                await self._after_close(conversation_id, late)
            elif now - pending.asked_at > CSAT_WAIT:  # no answer: the assistant is back anyway
                await self.db(core.skip_csat, handoff_id=pending.handoff_id, now=now)
                await self._return_to_bot(latest)
            else:
                self._csat_checked.add(conversation_id)  # live messages come by the listener

    def _due(self, handoff_id: int) -> bool:
        """Backoff of the reconcile's retries for one hand-off (Rasa down, ...)."""
        now = time.monotonic()
        attempt, at = self._retries.get(handoff_id, (0, 0.0))
        if now < at:
            return False
        self._retries[handoff_id] = (attempt + 1, now + min(60.0, 2.0**attempt))
        return True

    async def _complete(self, handoff: Handoff, office: OfficeHours | None) -> None:
        if handoff.status in OPEN_STATUSES:
            if handoff.rasa_paused_at is None:
                await self._pause_rasa(handoff)
            if handoff.citizen_told_at is None and office is not None:
                await self._tell_citizen(handoff, office, in_gateway=False)
            return
        if handoff.rasa_resumed_at is None:
            await self._resume_rasa(handoff)
        if handoff.returned_at is None:
            pending = await self.db(core.pending_csat, conversation_id=handoff.conversation_id)
            if pending is None:
                await self._return_to_bot(handoff)


# --- database steps (each runs in one transaction, off the event loop) ---------------------------


def _request(
    session: Session, *, conversation_id: str, reason: str, office: OfficeHours
) -> core.Requested:
    now = utcnow()
    latest = core.latest_handoff(session, conversation_id=conversation_id)
    since = (
        latest.closed_at if latest is not None and latest.status == HandoffStatus.closed else None
    )
    priority = core.priority_from_flags(session, conversation_id=conversation_id, since=since)
    if reason == "emergency":
        priority = "top"
    return core.request_handoff(
        session,
        conversation_id=conversation_id,
        priority=priority,
        reason=reason,
        now=now,
        office=office,
    )


def _close(
    session: Session,
    *,
    handoff_id: int,
    staff_id: int,
    outcome: Outcome,
    ask_csat: bool,
    now: datetime,
) -> Handoff | None:
    if not core.close(session, handoff_id=handoff_id, staff_id=staff_id, outcome=outcome, now=now):
        return None
    handoff = core.get_handoff(session, handoff_id=handoff_id)
    assert handoff is not None
    if ask_csat:
        core.ask_csat(
            session, handoff_id=handoff_id, conversation_id=handoff.conversation_id, now=now
        )
    return handoff


def _telegram_setting(session: Session) -> tuple[bool, str]:
    enabled = core.get_setting(session, key=TELEGRAM_ENABLED_KEY) == "1"
    return enabled, core.get_setting(session, key=TELEGRAM_CHAT_KEY)


def _requeue_for_bot(session: Session, *, message_id: int) -> None:
    """A message that reached the console after closing goes back to the gateway's queue."""
    message = session.get(Message, message_id)
    if message is None:
        return
    data = dict(message.data or {})
    data.pop("route", None)
    message.data = {**data, "after_handoff": True}
    message.status = Status.received
    message.next_attempt_at = None
    session.add(message)


def _messages_for_staff_after(
    session: Session, *, conversation_id: str, after_id: int
) -> list[int]:
    rows = session.exec(
        select(Message.id, Message.data)
        .where(
            Message.conversation_id == conversation_id,
            Message.direction == Direction.inbound,
            col(Message.id) > after_id,
            Message.status == Status.processed,
        )
        .order_by(col(Message.id))
    )
    return [int(i) for i, data in rows if (data or {}).get("route") == Mode.human.value and i]


@dataclass
class _HumanState:
    latest: Handoff | None
    pending: CsatAnswer | None
    fresh_flags: list[str]  # priorities of flags raised after the latest hand-off closed


def _human_state(session: Session, *, conversation_id: str) -> _HumanState:
    latest = core.latest_handoff(session, conversation_id=conversation_id)
    pending = core.pending_csat(session, conversation_id=conversation_id)
    fresh: list[str] = []
    if latest is not None and latest.closed_at is not None:
        fresh = list(
            session.exec(
                select(ConversationFlag.priority).where(
                    ConversationFlag.conversation_id == conversation_id,
                    col(ConversationFlag.resolved_at).is_(None),
                    col(ConversationFlag.created_at) > latest.closed_at,
                    col(ConversationFlag.kind).in_(HANDOFF_KINDS),
                )
            )
        )
    return _HumanState(latest, pending, fresh)


@dataclass
class _Work:
    human_without_handoff: list[str]
    incomplete: list[Handoff]
    escalate: list[str]
    bot_failures: list[str]


def _reconcile_work(session: Session, *, now: datetime) -> _Work:
    open_ids = select(Handoff.conversation_id).where(col(Handoff.status).in_(OPEN_STATUSES))
    human = session.exec(
        select(Conversation.conversation_id)
        .where(
            Conversation.mode == Mode.human.value,
            col(Conversation.conversation_id).not_in(open_ids),
            col(Conversation.mode_changed_at) < now - GRACE,
        )
        .limit(50)
    ).all()
    incomplete_open = select(Handoff).where(
        col(Handoff.status).in_(OPEN_STATUSES),
        (col(Handoff.rasa_paused_at).is_(None)) | (col(Handoff.citizen_told_at).is_(None)),
        col(Handoff.requested_at) < now - GRACE,
    )
    incomplete_closed = select(Handoff).where(
        Handoff.status == HandoffStatus.closed.value,
        (col(Handoff.rasa_resumed_at).is_(None)) | (col(Handoff.returned_at).is_(None)),
        col(Handoff.closed_at) < now - GRACE,
        col(Handoff.closed_at) > now - timedelta(days=2),
    )
    incomplete = [
        *session.exec(incomplete_open.limit(50)),
        *session.exec(incomplete_closed.limit(50)),
    ]
    escalate = session.exec(
        select(Handoff.conversation_id)
        .join(
            ConversationFlag, col(ConversationFlag.conversation_id) == col(Handoff.conversation_id)
        )
        .where(
            col(Handoff.status).in_(OPEN_STATUSES),
            col(Handoff.priority) != "top",
            col(ConversationFlag.priority) == "top",
            col(ConversationFlag.resolved_at).is_(None),
        )
        .distinct()
    ).all()
    bot_failures = session.exec(
        select(ConversationFlag.conversation_id)
        .join(
            Conversation,
            col(Conversation.conversation_id) == col(ConversationFlag.conversation_id),
        )
        .where(
            ConversationFlag.kind == FlagKind.bot_failure.value,
            col(ConversationFlag.resolved_at).is_(None),
            col(ConversationFlag.created_at) > now - BOT_FAILURE_WINDOW,
            col(ConversationFlag.created_at) < now - GRACE,  # after the assistant's own answer
            Conversation.mode == Mode.bot.value,
            col(ConversationFlag.conversation_id).not_in(open_ids),
        )
        .distinct()
        .limit(50)
    ).all()
    return _Work(list(human), incomplete, list(escalate), list(bot_failures))
