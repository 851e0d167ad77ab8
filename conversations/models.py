"""The gateway's tables: conversations, every message in and out, attachments, delivery events.

A conversation is one chat on one channel. Rasa and the console know it only by its opaque
``conversation_id``; the channel's own address (Telegram chat id, WhatsApp number, web-chat
token hash) lives in ``chat_key`` and never leaves the gateway (and is never logged).
Every message, in or out, is a row in ``conversation_message``, written before it is
acknowledged (inbound) or sent (outbound). Rows waiting for Rasa or for a retry are the outbox.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, Integer, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from core.timeutil import UTCDateTime, utcnow

# A conversation whose channel address was erased (retention, or the citizen's request) keeps
# this prefix before its id in place of the address: nothing can be delivered to it.
PURGED_PREFIX = "purged:"

# Enumerations are stored as their plain string values (String columns), so the database
# holds exactly what the code compares against, on SQLite and PostgreSQL alike.


class Channel(StrEnum):
    telegram = "telegram"
    whatsapp = "whatsapp"
    webchat = "webchat"


class Mode(StrEnum):
    """Who answers the citizen: the assistant (Rasa) or a person in the console."""

    bot = "bot"
    human = "human"


class Direction(StrEnum):
    inbound = "inbound"
    outbound = "outbound"


class Author(StrEnum):
    citizen = "citizen"
    bot = "bot"  # Rasa's replies
    gateway = "gateway"  # the gateway's own words: consent, errors, emergency numbers
    staff = "staff"  # a Care Manager, through the console


class Kind(StrEnum):
    text = "text"
    button = "button"  # a tap on a button (Telegram callback, WhatsApp reply, web chat)
    command = "command"  # /start, /aiuto, ...
    location = "location"
    attachment = "attachment"  # photo or document
    unsupported = "unsupported"  # voice, sticker, video, ...
    edited = "edited"  # a Telegram edited message
    group = "group"  # a message in a group chat
    image = "image"  # outbound picture
    template = "template"  # outbound WhatsApp template (24-hour window closed)


class Status(StrEnum):
    # inbound
    received = "received"  # stored; not yet handled
    pending = "pending"  # Rasa or the action server was down: retried by the outbox
    processed = "processed"
    rejected = "rejected"  # empty, unsupported, unknown button: answered politely
    # outbound
    queued = "queued"  # stored, not yet accepted by the channel (retried by the outbox)
    awaiting_window = "awaiting_window"  # WhatsApp: waits for the citizen to write again
    sent = "sent"
    delivered = "delivered"
    read = "read"
    failed = "failed"


# Outbound statuses only move forward; a late "delivered" never overwrites "read".
OUTBOUND_RANK = {
    Status.queued: 0,
    Status.awaiting_window: 0,
    Status.sent: 1,
    Status.delivered: 2,
    Status.read: 3,
    Status.failed: 4,
}


class Conversation(SQLModel, table=True):
    __tablename__ = "conversation"
    __table_args__ = (UniqueConstraint("channel", "chat_key", name="uq_conversation_chat"),)

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: str = Field(max_length=32, unique=True, description="opaque, 32 hex")
    channel: Channel = Field(sa_type=String(16))
    chat_key: str = Field(max_length=128, description="channel address; never logged")
    is_group: bool = Field(default=False)
    mode: Mode = Field(default=Mode.bot, sa_type=String(8))
    mode_reason: str = Field(default="", max_length=40)
    mode_changed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    notice_sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    consent_version: str | None = Field(default=None, max_length=20)
    consent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    consent_declined_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_inbound_at: datetime | None = Field(
        default=None, sa_type=UTCDateTime, description="opens WhatsApp's 24-hour window"
    )
    template_sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    blocked_at: datetime | None = Field(
        default=None, sa_type=UTCDateTime, description="the citizen blocked the bot"
    )
    # the conversation's language and the rule that keeps it (conversations/language.py)
    language: str = Field(
        default="it", sa_column=Column(String(8), nullable=False, server_default="it")
    )
    language_source: str = Field(
        default="",
        sa_column=Column(String(12), nullable=False, server_default=""),
        description="'' undecided, 'detected' or 'chosen' by the citizen",
    )
    language_pending: str = Field(
        default="",
        sa_column=Column(String(8), nullable=False, server_default=""),
        description="the other language of the last consecutive confident messages",
    )
    language_streak: int = Field(
        default=0, sa_column=Column(Integer, nullable=False, server_default="0")
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    @property
    def has_consent(self) -> bool:
        return self.consent_at is not None


class Message(SQLModel, table=True):
    __tablename__ = "conversation_message"
    __table_args__ = (
        Index("ix_conversation_message_conv", "conversation_id", "id"),
        Index("ix_conversation_message_outbox", "status", "next_attempt_at"),
        Index("ix_conversation_message_external", "channel", "external_id"),
        # the monitoring's readings of a period (index-only on PostgreSQL)
        Index(
            "ix_conversation_message_monitoring",
            "direction",
            "created_at",
            "channel",
            "conversation_id",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: str = Field(max_length=32, foreign_key="conversation.conversation_id")
    channel: Channel = Field(sa_type=String(16))
    direction: Direction = Field(sa_type=String(8))
    author: Author = Field(sa_type=String(10))
    kind: Kind = Field(default=Kind.text, sa_type=String(16))
    text: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    payload: str | None = Field(
        default=None, sa_column=Column(Text, nullable=True), description="button payload"
    )
    data: dict[str, Any] = Field(
        default_factory=dict,
        sa_column=Column(JSON, nullable=False, default=dict),
        description="buttons, location, file reference, custom payloads (no chat ids)",
    )
    dedupe_key: str | None = Field(
        default=None, max_length=160, unique=True, description="update_id / wamid / client id"
    )
    external_id: str | None = Field(default=None, max_length=160)
    status: Status = Field(sa_type=String(16))
    status_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    error: str = Field(default="", max_length=200, description="a code, never message text")
    attempts: int = Field(default=0)
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reply_to_id: int | None = Field(default=None, description="the inbound message answered")
    staff_user_id: int | None = Field(default=None, description="author when author=staff")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Attachment(SQLModel, table=True):
    """A photo or document a citizen sent, kept under VAR_DIR/uploads with a random name."""

    __tablename__ = "message_attachment"

    id: int | None = Field(default=None, primary_key=True)
    message_id: int = Field(foreign_key="conversation_message.id", index=True)
    conversation_id: str = Field(max_length=32, index=True)
    mime_type: str = Field(max_length=40)
    size_bytes: int
    sha256: str = Field(max_length=64)
    path: str = Field(max_length=200, description="relative to VAR_DIR/uploads")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class DeliveryEvent(SQLModel, table=True):
    """Every status a channel reported for an outbound message (sent, delivered, read, failed)."""

    __tablename__ = "delivery_event"

    id: int | None = Field(default=None, primary_key=True)
    message_id: int = Field(foreign_key="conversation_message.id", index=True)
    status: Status = Field(sa_type=String(16))
    error: str = Field(default="", max_length=200)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
