"""Reads and writes of the gateway's tables; each function works inside the caller's session.

Callers open the transaction (``core.db.session_scope`` or ``core.database.Database``),
so an inbound message and its dedupe key are committed together, before anyone acks.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from conversations.inbound import Inbound
from conversations.models import (
    OUTBOUND_RANK,
    Attachment,
    Author,
    Channel,
    Conversation,
    DeliveryEvent,
    Direction,
    Kind,
    Message,
    Mode,
    Status,
)

OUTBOUND_LEASE_SECONDS = 30


def new_conversation_id() -> str:
    return secrets.token_hex(16)


# --- conversations ---------------------------------------------------------------------


def get_conversation(session: Session, *, conversation_id: str) -> Conversation | None:
    return session.exec(
        select(Conversation).where(Conversation.conversation_id == conversation_id)
    ).first()


def find_conversation(session: Session, *, channel: Channel, chat_key: str) -> Conversation | None:
    return session.exec(
        select(Conversation).where(
            Conversation.channel == channel, Conversation.chat_key == chat_key
        )
    ).first()


def get_or_create_conversation(
    session: Session, *, channel: Channel, chat_key: str, is_group: bool = False
) -> Conversation:
    """The conversation of this chat, created on first contact (safe under concurrency)."""
    existing = find_conversation(session, channel=channel, chat_key=chat_key)
    if existing is not None:
        return existing
    conversation = Conversation(
        conversation_id=new_conversation_id(), channel=channel, chat_key=chat_key, is_group=is_group
    )
    try:
        with session.begin_nested():
            session.add(conversation)
    except IntegrityError:
        found = find_conversation(session, channel=channel, chat_key=chat_key)
        assert found is not None
        return found
    return conversation


def set_consent(session: Session, *, conversation_id: str, version: str, now: datetime) -> None:
    conversation = _conversation(session, conversation_id)
    conversation.consent_version = version
    conversation.consent_at = now
    conversation.consent_declined_at = None
    session.add(conversation)


def mark_notice_sent(session: Session, *, conversation_id: str, now: datetime) -> None:
    conversation = _conversation(session, conversation_id)
    conversation.notice_sent_at = now
    session.add(conversation)


def withdraw_consent(session: Session, *, conversation_id: str, now: datetime) -> None:
    """Consent withdrawn. The caller stops the announcements in the same transaction
    (``bot.consent.withdraw``): this layer knows nothing of them."""
    conversation = _conversation(session, conversation_id)
    conversation.consent_at = None
    conversation.consent_version = None
    conversation.consent_declined_at = now
    session.add(conversation)


def resolve_inbound_button(
    session: Session, *, message_id: int, title: str, payload: str, origin: dict[str, Any]
) -> Message:
    """Record what a tapped button meant: its title as the text, its payload, its message."""
    message = _message(session, message_id)
    message.text = title
    message.payload = payload
    message.data = {**message.data, "resolved": True, "origin": origin}
    session.add(message)
    return message


def set_consent_declined(session: Session, *, conversation_id: str, now: datetime) -> None:
    conversation = _conversation(session, conversation_id)
    conversation.consent_declined_at = now
    session.add(conversation)


def set_mode(
    session: Session, *, conversation_id: str, mode: Mode, reason: str, now: datetime
) -> Mode:
    """Store the new mode; returns the previous one. Only bot.router calls this."""
    conversation = _conversation(session, conversation_id)
    previous = Mode(conversation.mode)
    if previous == mode:
        return previous
    conversation.mode = mode
    conversation.mode_reason = reason[:40]
    conversation.mode_changed_at = now
    session.add(conversation)
    return previous


def mark_blocked(session: Session, *, conversation_id: str, now: datetime) -> None:
    conversation = _conversation(session, conversation_id)
    conversation.blocked_at = now
    session.add(conversation)


def mark_template_sent(session: Session, *, conversation_id: str, now: datetime) -> None:
    conversation = _conversation(session, conversation_id)
    conversation.template_sent_at = now
    session.add(conversation)


def _conversation(session: Session, conversation_id: str) -> Conversation:
    conversation = get_conversation(session, conversation_id=conversation_id)
    if conversation is None:
        raise LookupError(f"no conversation {conversation_id}")
    return conversation


# --- inbound ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Stored:
    conversation: Conversation
    message: Message
    duplicate: bool


def store_inbound(session: Session, *, inbound: Inbound) -> Stored:
    """Store a citizen's message with its dedupe key; a redelivery returns the first copy."""
    if inbound.dedupe_key is not None:
        existing = _by_dedupe_key(session, inbound.dedupe_key)
        if existing is not None:
            conversation = _conversation(session, existing.conversation_id)
            return Stored(conversation, existing, duplicate=True)
    conversation = get_or_create_conversation(
        session, channel=inbound.channel, chat_key=inbound.chat_key, is_group=inbound.is_group
    )
    message = Message(
        conversation_id=conversation.conversation_id,
        channel=inbound.channel,
        direction=Direction.inbound,
        author=Author.citizen,
        kind=inbound.kind,
        text=inbound.text,
        payload=inbound.payload,
        data=dict(inbound.data),
        dedupe_key=inbound.dedupe_key,
        status=Status.received,
        status_at=inbound.received_at,
        created_at=inbound.received_at,
    )
    try:
        with session.begin_nested():
            session.add(message)
    except IntegrityError:
        assert inbound.dedupe_key is not None
        existing = _by_dedupe_key(session, inbound.dedupe_key)
        assert existing is not None
        return Stored(conversation, existing, duplicate=True)
    if inbound.attachment is not None:  # a file already checked and kept (web chat)
        assert message.id is not None
        saved = inbound.attachment
        attachment = add_attachment(
            session,
            message_id=message.id,
            conversation_id=conversation.conversation_id,
            mime_type=saved.mime_type,
            size_bytes=saved.size_bytes,
            sha256=saved.sha256,
            path=saved.relative_path,
            now=inbound.received_at,
        )
        info = {"id": attachment.id, "mime_type": saved.mime_type, "size_bytes": saved.size_bytes}
        message.data = {**message.data, "attachment": info}
        session.add(message)
    if inbound.kind not in (Kind.edited, Kind.group):
        conversation.last_inbound_at = inbound.received_at
        conversation.blocked_at = None  # writing again means the bot is not blocked
        session.add(conversation)
    return Stored(conversation, message, duplicate=False)


def _by_dedupe_key(session: Session, key: str) -> Message | None:
    return session.exec(select(Message).where(Message.dedupe_key == key)).first()


def pass_state(
    session: Session, *, conversation_id: str
) -> tuple[Conversation, list[Message]] | None:
    """The conversation and its unhandled messages, read together."""
    conversation = get_conversation(session, conversation_id=conversation_id)
    if conversation is None:
        return None
    return conversation, unfinished_inbound(session, conversation_id=conversation_id)


def unfinished_inbound(session: Session, *, conversation_id: str) -> list[Message]:
    """The citizen's messages not yet handled (received or waiting for Rasa), oldest first."""
    return list(
        session.exec(
            select(Message)
            .where(
                Message.conversation_id == conversation_id,
                Message.direction == Direction.inbound,
                col(Message.status).in_([Status.received, Status.pending]),
            )
            .order_by(col(Message.id))
        )
    )


def finish_inbound(
    session: Session, *, message_id: int, status: Status, now: datetime, error: str = ""
) -> None:
    message = _message(session, message_id)
    message.status = status
    message.status_at = now
    message.error = error[:200]
    message.next_attempt_at = None
    session.add(message)


def defer_inbound(
    session: Session,
    *,
    message_id: int,
    now: datetime,
    error: str,
    base_seconds: float,
    max_seconds: float,
) -> Message:
    """Mark a message as waiting for Rasa, with exponential backoff."""
    message = _message(session, message_id)
    message.status = Status.pending
    message.status_at = now
    message.error = error[:200]
    message.attempts += 1
    delay = min(max_seconds, base_seconds * 2 ** (message.attempts - 1))
    message.next_attempt_at = now + timedelta(seconds=delay)
    session.add(message)
    return message


def update_message_data(session: Session, *, message_id: int, changes: dict[str, Any]) -> None:
    message = _message(session, message_id)
    message.data = {**message.data, **changes}
    session.add(message)


def message_and_conversation(
    session: Session, *, message_id: int
) -> tuple[Message, Conversation] | None:
    message = session.get(Message, message_id)
    if message is None:
        return None
    conversation = get_conversation(session, conversation_id=message.conversation_id)
    return (message, conversation) if conversation is not None else None


def get_message(session: Session, *, message_id: int) -> Message | None:
    return session.get(Message, message_id)


def _message(session: Session, message_id: int) -> Message:
    message = session.get(Message, message_id)
    if message is None:
        raise LookupError(f"no message {message_id}")
    return message


# --- outbound --------------------------------------------------------------------------


def store_outbound(
    session: Session,
    *,
    conversation_id: str,
    channel: Channel,
    author: Author,
    kind: Kind,
    text: str = "",
    data: dict[str, Any] | None = None,
    reply_to_id: int | None = None,
    staff_user_id: int | None = None,
    now: datetime,
) -> Message:
    message = Message(
        conversation_id=conversation_id,
        channel=channel,
        direction=Direction.outbound,
        author=author,
        kind=kind,
        text=text,
        data=data or {},
        status=Status.queued,
        status_at=now,
        # a lease: if the process dies before sending, the outbox sends it after this
        next_attempt_at=now + timedelta(seconds=OUTBOUND_LEASE_SECONDS),
        reply_to_id=reply_to_id,
        staff_user_id=staff_user_id,
        created_at=now,
    )
    session.add(message)
    session.flush()
    return message


@dataclass(frozen=True)
class OutboundItem:
    author: Author
    kind: Kind
    text: str
    data: dict[str, Any]


def store_turn(
    session: Session,
    *,
    conversation_id: str,
    channel: Channel,
    items: list[OutboundItem],
    reply_to_id: int | None,
    staff_user_id: int | None,
    finish: Status | None,
    now: datetime,
) -> tuple[list[Message], bool]:
    """Store a turn's replies (and close the message answered, if ``finish``) in one
    transaction. True with them when an earlier reply is still queued: they wait behind."""
    if finish is not None and reply_to_id is not None:
        finish_inbound(session, message_id=reply_to_id, status=finish, now=now)
    earlier = session.exec(
        select(Message.id)
        .where(
            Message.conversation_id == conversation_id,
            Message.direction == Direction.outbound,
            Message.status == Status.queued,
        )
        .limit(1)
    ).first()
    rows = [
        store_outbound(
            session,
            conversation_id=conversation_id,
            channel=channel,
            author=item.author,
            kind=item.kind,
            text=item.text,
            data=item.data,
            reply_to_id=reply_to_id,
            staff_user_id=staff_user_id,
            now=now,
        )
        for item in items
    ]
    return rows, earlier is not None


def queue_behind(session: Session, *, message_ids: list[int], now: datetime) -> None:
    """Replies waiting for an earlier one: due at once after it (the outbox keeps order)."""
    session.execute(
        update(Message)
        .where(col(Message.id).in_(message_ids))
        .values(
            status=Status.queued,
            status_at=now,
            error="behind-queued",
            next_attempt_at=now + timedelta(seconds=1),
        )
    )


def mark_sent(
    session: Session,
    *,
    message_id: int,
    external_id: str | None,
    now: datetime,
    data: dict[str, Any] | None = None,
) -> None:
    values: dict[str, Any] = {
        "external_id": external_id,
        "status": Status.sent,
        "status_at": now,
        "error": "",
        "next_attempt_at": None,
    }
    if data:
        current = session.exec(select(Message.data).where(Message.id == message_id)).one()
        values["data"] = {**(current or {}), **data}
    session.execute(update(Message).where(col(Message.id) == message_id).values(**values))
    session.add(DeliveryEvent(message_id=message_id, status=Status.sent, at=now))


SENT_PARTS_KEY = "sent_parts"


def record_part(session: Session, *, message_id: int, index: int, external_id: str) -> None:
    """Part ``index`` of a message sent in several parts was accepted by the channel."""
    message = _message(session, message_id)
    parts = [str(p) for p in (message.data or {}).get(SENT_PARTS_KEY) or []]
    if index != len(parts):  # already recorded (or out of order: keep what we know)
        return
    message.data = {**(message.data or {}), SENT_PARTS_KEY: [*parts, external_id]}
    session.add(message)


def defer_outbound(
    session: Session,
    *,
    message_id: int,
    now: datetime,
    error: str,
    delay_seconds: float,
    status: Status = Status.queued,
) -> None:
    """Keep an outbound message for a later try (queued) or for the next inbound (window)."""
    message = _message(session, message_id)
    message.status = status
    message.status_at = now
    message.error = error[:200]
    message.attempts += 1
    message.next_attempt_at = now + timedelta(seconds=delay_seconds)
    session.add(message)


def fail_outbound(session: Session, *, message_id: int, now: datetime, error: str) -> None:
    message = _message(session, message_id)
    message.status = Status.failed
    message.status_at = now
    message.error = error[:200]
    message.next_attempt_at = None
    session.add(message)
    session.add(DeliveryEvent(message_id=message_id, status=Status.failed, error=error, at=now))


def queued_outbound(session: Session, *, conversation_id: str) -> list[Message]:
    return list(
        session.exec(
            select(Message)
            .where(
                Message.conversation_id == conversation_id,
                Message.direction == Direction.outbound,
                Message.status == Status.queued,
            )
            .order_by(col(Message.id))
        )
    )


def release_awaiting_window(session: Session, *, conversation_id: str, now: datetime) -> int:
    """The citizen wrote again: messages held for WhatsApp's window go back in the queue."""
    held = session.exec(
        select(Message).where(
            Message.conversation_id == conversation_id,
            Message.status == Status.awaiting_window,
        )
    ).all()
    for message in held:
        message.status = Status.queued
        message.status_at = now
        message.next_attempt_at = now
        session.add(message)
    return len(held)


def apply_delivery_status(
    session: Session,
    *,
    channel: Channel,
    external_id: str,
    status: Status,
    at: datetime,
    error: str = "",
) -> Message | None:
    """Record a channel's status report; the message's status only moves forward."""
    message = outbound_by_external(session, channel=channel, external_id=external_id)
    if message is None:
        return None
    session.add(DeliveryEvent(message_id=message.id or 0, status=status, error=error[:200], at=at))
    if OUTBOUND_RANK.get(status, 0) > OUTBOUND_RANK.get(Status(message.status), 0):
        message.status = status
        message.status_at = at
        if error:
            message.error = error[:200]
        session.add(message)
    return message


def outbound_by_external(session: Session, *, channel: Channel, external_id: str) -> Message | None:
    return session.exec(
        select(Message).where(
            Message.channel == channel,
            Message.external_id == external_id,
            Message.direction == Direction.outbound,
        )
    ).first()


def hold_for_window(session: Session, *, channel: Channel, external_id: str) -> Message | None:
    """A message the channel refused because its window was closed waits for the next inbound."""
    message = outbound_by_external(session, channel=channel, external_id=external_id)
    if message is None:
        return None
    message.status = Status.awaiting_window
    message.error = "window-closed"
    session.add(message)
    session.add(
        DeliveryEvent(message_id=message.id or 0, status=Status.failed, error="window-closed")
    )
    return message


def find_outbound_by_external(
    session: Session, *, conversation_id: str, external_id: str
) -> Message | None:
    return session.exec(
        select(Message)
        .where(
            Message.conversation_id == conversation_id,
            Message.direction == Direction.outbound,
            Message.external_id == external_id,
        )
        .order_by(col(Message.id).desc())
    ).first()


# --- buttons ---------------------------------------------------------------------------


def button_ref(message_id: int, index: int) -> str:
    """What a channel carries for a button: short, and never the payload itself."""
    return f"b:{message_id}:{index}"


def resolve_button(
    session: Session, *, conversation_id: str, ref: str
) -> tuple[str, str, Message] | None:
    """(title, payload, message) of a button shown in this conversation, or None."""
    parts = ref.split(":")
    if len(parts) != 3 or parts[0] != "b" or not parts[1].isdigit() or not parts[2].isdigit():
        return None
    message = session.get(Message, int(parts[1]))
    if message is None or message.conversation_id != conversation_id:
        return None
    if message.direction != Direction.outbound:
        return None
    buttons = message.data.get("buttons") or []
    index = int(parts[2])
    if index >= len(buttons):
        return None
    button = buttons[index]
    return str(button.get("title", "")), str(button.get("payload", "")), message


# --- attachments -----------------------------------------------------------------------


def add_attachment(
    session: Session,
    *,
    message_id: int,
    conversation_id: str,
    mime_type: str,
    size_bytes: int,
    sha256: str,
    path: str,
    now: datetime,
) -> Attachment:
    attachment = Attachment(
        message_id=message_id,
        conversation_id=conversation_id,
        mime_type=mime_type,
        size_bytes=size_bytes,
        sha256=sha256,
        path=path,
        created_at=now,
    )
    session.add(attachment)
    session.flush()
    return attachment


def get_attachment(
    session: Session, *, attachment_id: int, conversation_id: str
) -> Attachment | None:
    """The attachment, only if it belongs to this conversation."""
    return session.exec(
        select(Attachment).where(
            Attachment.id == attachment_id, Attachment.conversation_id == conversation_id
        )
    ).first()


def attachments_of(session: Session, *, message_id: int) -> list[Attachment]:
    return list(session.exec(select(Attachment).where(Attachment.message_id == message_id)))


# --- history and the outbox ------------------------------------------------------------


def history(
    session: Session, *, conversation_id: str, after_id: int = 0, limit: int = 200
) -> list[Message]:
    """Messages of a conversation, oldest first (the newest ``limit`` after ``after_id``)."""
    rows = session.exec(
        select(Message)
        .where(Message.conversation_id == conversation_id, col(Message.id) > after_id)
        .order_by(col(Message.id).desc())
        .limit(limit)
    ).all()
    return list(reversed(rows))


@dataclass(frozen=True)
class Due:
    conversation_id: str
    message_id: int
    direction: Direction


def due_for_retry(
    session: Session, *, now: datetime, stale_before: datetime, limit: int = 50
) -> list[Due]:
    """Outbox work: inbound messages waiting for Rasa whose time has come, inbound messages
    left unhandled by a crash (received before ``stale_before``), outbound ones to resend."""
    pending_in = select(Message).where(
        Message.direction == Direction.inbound,
        Message.status == Status.pending,
        col(Message.next_attempt_at) <= now,
    )
    stale_in = select(Message).where(
        Message.direction == Direction.inbound,
        Message.status == Status.received,
        col(Message.created_at) < stale_before,
    )
    queued_out = select(Message).where(
        Message.direction == Direction.outbound,
        Message.status == Status.queued,
        col(Message.next_attempt_at) <= now,
    )
    rows: list[Message] = []
    for query in (pending_in, stale_in, queued_out):
        rows.extend(session.exec(query.order_by(col(Message.id)).limit(limit)))
    return [Due(m.conversation_id, m.id or 0, Direction(m.direction)) for m in rows]
