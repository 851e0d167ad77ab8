"""The broadcaster's tables: subscriptions, broadcasts, per-recipient deliveries, pacers.

A subscription belongs to one gateway conversation (opaque ``conversation_id`` and its
channel, as ``conversations.models.Conversation`` stores them); its quartieri and interests are
rows of ``broadcast_subscription_topic`` (none of a kind = "all"). A broadcast is what hub
staff compose; starting it copies its audience into ``broadcast_delivery``, one row per
recipient (UNIQUE(broadcast_id, conversation_id)): the durable queue the workers drain.
``broadcast_pacer`` holds one row per channel: the next free sending slot and the pause a
429 imposed; ``broadcast_window`` the channel's sliding-second tokens; a subscription's
``next_send_at`` the per-chat gap: all shared by every worker process (broadcast.ratelimit).

No chat id, phone number or message text of a citizen is stored here.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlmodel import Field, SQLModel

from core.timeutil import UTCDateTime, utcnow


class BroadcastStatus(StrEnum):
    scheduled = "scheduled"  # waiting for scheduled_at ("send now" = scheduled for now)
    running = "running"  # audience copied into broadcast_delivery; workers sending
    done = "done"  # every delivery reached a final status
    cancelled = "cancelled"


class DeliveryStatus(StrEnum):
    pending = "pending"  # waiting for a worker (first try, or a retry at next_attempt_at)
    sending = "sending"  # claimed by a worker until lease_until
    sent = "sent"
    failed = "failed"  # permanent error, or too many transient ones
    blocked = "blocked"  # the citizen blocked the bot (403): never retried
    skipped = "skipped"  # not sent on purpose (window closed, unsubscribed, no channel...)
    cancelled = "cancelled"


OPEN_STATUSES = (DeliveryStatus.pending, DeliveryStatus.sending)
FINAL_STATUSES = tuple(s for s in DeliveryStatus if s not in OPEN_STATUSES)


class TopicKind(StrEnum):
    quartiere = "quartiere"  # catalog.areas.QUARTIERI keys, Q1..Q5
    interest = "interest"  # catalog.vocabulary.CATEGORY_LABELS keys


class Subscription(SQLModel, table=True):
    __tablename__ = "broadcast_subscription"

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: str = Field(max_length=32, unique=True, description="opaque, 32 hex")
    channel: str = Field(sa_type=String(16))
    active: bool = Field(default=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    stopped_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    next_send_at: float = Field(
        default=0.0,
        sa_column=Column(Float, nullable=False, server_default="0"),
        description="epoch seconds: no announcement to this chat before (per-chat gap, held "
        "while a request is in flight; shared by every worker, see broadcast.ratelimit)",
    )


class SubscriptionTopic(SQLModel, table=True):
    """One chosen quartiere or interest of a subscription."""

    __tablename__ = "broadcast_subscription_topic"
    __table_args__ = (Index("ix_broadcast_topic_kind_value", "kind", "value"),)

    subscription_id: int = Field(
        sa_column=Column(
            Integer,
            ForeignKey("broadcast_subscription.id", ondelete="CASCADE"),
            primary_key=True,
        )
    )
    kind: TopicKind = Field(sa_type=String(12), primary_key=True)
    value: str = Field(max_length=40, primary_key=True)


class Broadcast(SQLModel, table=True):
    __tablename__ = "broadcast"
    __table_args__ = (Index("ix_broadcast_status_scheduled", "status", "scheduled_at"),)

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=120)
    body: str = Field(
        sa_column=Column(Text, nullable=False), description="sanitised Telegram HTML (b, i, a)"
    )
    translations: dict[str, dict[str, str]] = Field(
        default_factory=dict,
        sa_column=Column(JSON, nullable=False, server_default=text("'{}'")),
        description="other languages' versions: {code: {title, body}} (body as ``body``)",
    )
    image_path: str | None = Field(default=None, max_length=200, description="under VAR_DIR")
    image_mime: str | None = Field(default=None, max_length=40)
    telegram_file_id: str | None = Field(
        default=None, max_length=200, description="the uploaded photo, reused for later sends"
    )
    whatsapp_media_id: str | None = Field(
        default=None, max_length=200, description="the picture uploaded to the Cloud API, reused"
    )
    link_url: str | None = Field(default=None, max_length=500)
    link_label: str | None = Field(default=None, max_length=40)
    quartieri: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False), description="empty = all"
    )
    interests: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False), description="empty = all"
    )
    status: BroadcastStatus = Field(default=BroadcastStatus.scheduled, sa_type=String(12))
    scheduled_at: datetime = Field(sa_type=UTCDateTime)
    recipients: int = Field(default=0, description="deliveries created when it started")
    created_by: int | None = Field(default=None, description="staff_user.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    cancelled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    cancelled_by: int | None = Field(default=None)


class Delivery(SQLModel, table=True):
    """One recipient of one broadcast: the unit of work of the delivery engine."""

    __tablename__ = "broadcast_delivery"
    __table_args__ = (
        UniqueConstraint("broadcast_id", "conversation_id", name="uq_broadcast_delivery"),
        Index("ix_broadcast_delivery_due", "status", "next_attempt_at"),
        Index("ix_broadcast_delivery_broadcast", "broadcast_id", "status"),
        Index("ix_broadcast_delivery_claim", "claim_token"),
        Index("ix_broadcast_delivery_conversation", "conversation_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    broadcast_id: int = Field(
        sa_column=Column(Integer, ForeignKey("broadcast.id", ondelete="CASCADE"), nullable=False)
    )
    conversation_id: str = Field(max_length=32)
    channel: str = Field(sa_type=String(16))
    status: DeliveryStatus = Field(default=DeliveryStatus.pending, sa_type=String(12))
    attempts: int = Field(default=0, description="requests made to the channel")
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    claim_token: str | None = Field(default=None, max_length=32)
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    in_flight_at: datetime | None = Field(
        default=None, sa_type=UTCDateTime, description="set right before the request is made"
    )
    uncertain: bool = Field(
        default=False, description="a worker died while its request was in flight"
    )
    last_error: str = Field(default="", max_length=200, description="a code, never text")
    provider_message_id: str | None = Field(default=None, max_length=160)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Pacer(SQLModel, table=True):
    """Per channel: the next free sending slot and the pause after a 429 (epoch seconds)."""

    __tablename__ = "broadcast_pacer"

    channel: str = Field(sa_type=String(16), primary_key=True)
    next_slot: float = Field(default=0.0, sa_column=Column(Float, nullable=False))
    paused_until: float = Field(default=0.0, sa_column=Column(Float, nullable=False))


class WindowToken(SQLModel, table=True):
    """One of the ``limit`` requests a channel accepts in any sliding second, shared by every
    worker: a request takes a free token before it leaves and gives it back a window after
    its answer (``free_at``, epoch seconds; while in flight, the time its hold expires if the
    worker died). ``taken_free_at`` is the ``free_at`` the last taker found (RETURNING it
    tells the taker when it may send)."""

    __tablename__ = "broadcast_window"

    channel: str = Field(sa_type=String(16), primary_key=True)
    token: int = Field(primary_key=True)
    free_at: float = Field(default=0.0, sa_column=Column(Float, nullable=False))
    taken_free_at: float = Field(default=0.0, sa_column=Column(Float, nullable=False))
