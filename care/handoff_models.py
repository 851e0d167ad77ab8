"""The hand-off's tables: a conversation given to a Care Manager, and what happens around it.

A ``Handoff`` is one request for a person: ``waiting`` in the queue, ``assigned`` to one
Care Manager (claimed with an atomic conditional UPDATE, so two can never hold it), then
``closed`` with an outcome. At most one hand-off per conversation is open (a partial unique
index). Notes are private to staff; labels sort the work; canned replies are short codes
(``/orari``) expanded in the composer; a CSAT answer is the citizen's one-tap rating after
closing. The conversation's messages stay in the gateway's tables (conversations.models).

Imported by care.models, so core.migrate registers these tables with the others.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Text, text
from sqlmodel import Field, SQLModel

import staff.models  # noqa: F401  (staff_user, referenced by the foreign keys)
from core.timeutil import UTCDateTime, utcnow

PRIORITY_RANK = {"top": 0, "high": 1, "normal": 2}
PRIORITY_LABELS = {"top": "Emergenza", "high": "Alta", "normal": "Normale"}


class HandoffStatus(StrEnum):
    waiting = "waiting"  # in the queue, nobody holds it
    assigned = "assigned"  # one Care Manager holds it
    closed = "closed"


class Outcome(StrEnum):
    resolved = "resolved"
    referred = "referred"
    appointment = "appointment"
    no_reply = "no_reply"
    not_competent = "not_competent"
    emergency_handled = "emergency_handled"

    @property
    def label(self) -> str:
        return OUTCOME_LABELS[self]


OUTCOME_LABELS: dict[Outcome, str] = {
    Outcome.resolved: "Risolto in chat",
    Outcome.referred: "Indirizzato a un servizio",
    Outcome.appointment: "Appuntamento fissato al Welcome Point",
    Outcome.no_reply: "Il cittadino non ha più risposto",
    Outcome.not_competent: "Non di nostra competenza",
    Outcome.emergency_handled: "Emergenza gestita",
}

OPEN_STATUSES = (HandoffStatus.waiting.value, HandoffStatus.assigned.value)


def _staff_fk(name: str, *, nullable: bool = True) -> Column:
    return Column(
        name, Integer, ForeignKey("staff_user.id", ondelete="SET NULL"), nullable=nullable
    )


class Handoff(SQLModel, table=True):
    __tablename__ = "handoff"
    __table_args__ = (
        Index("ix_handoff_queue", "status", "priority_rank", "requested_at"),
        Index("ix_handoff_assigned_to", "assigned_to", "status"),
        Index("ix_handoff_conversation", "conversation_id", "id"),
        # one open hand-off per conversation (a partial index on both databases)
        Index(
            "uq_handoff_open_conversation",
            "conversation_id",
            unique=True,
            sqlite_where=text("status != 'closed'"),
            postgresql_where=text("status != 'closed'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: str = Field(max_length=32, description="the gateway's opaque id")
    status: HandoffStatus = Field(default=HandoffStatus.waiting, sa_type=String(10))
    priority: str = Field(default="normal", max_length=10, description="top | high | normal")
    priority_rank: int = Field(default=2, description="0 top, 1 high, 2 normal (queue order)")
    reason: str = Field(default="", max_length=60, description="requested, emergency, ...")
    requested_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sla_due_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    office_open: bool = Field(default=True, description="offices open when it was requested")
    assigned_to: int | None = Field(default=None, sa_column=_staff_fk("assigned_to"))
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    first_reply_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_by: int | None = Field(default=None, sa_column=_staff_fk("closed_by"))
    outcome: str | None = Field(default=None, max_length=30)
    # the protocol's steps, so a restart resumes where it stopped
    citizen_told_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    rasa_paused_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    rasa_resumed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    returned_at: datetime | None = Field(
        default=None, sa_type=UTCDateTime, description="the conversation went back to the bot"
    )
    notified_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class HandoffNote(SQLModel, table=True):
    """A private note of staff on a hand-off; never sent to the citizen."""

    __tablename__ = "handoff_note"

    id: int | None = Field(default=None, primary_key=True)
    handoff_id: int = Field(foreign_key="handoff.id", index=True)
    conversation_id: str = Field(max_length=32, index=True)
    author_id: int | None = Field(default=None, sa_column=_staff_fk("author_id"))
    text: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class HandoffTransfer(SQLModel, table=True):
    """Every change of hands: claimed, transferred to a colleague, put back in the queue."""

    __tablename__ = "handoff_transfer"

    id: int | None = Field(default=None, primary_key=True)
    handoff_id: int = Field(foreign_key="handoff.id", index=True)
    from_staff_id: int | None = Field(default=None, sa_column=_staff_fk("from_staff_id"))
    to_staff_id: int | None = Field(default=None, sa_column=_staff_fk("to_staff_id"))
    by_staff_id: int | None = Field(default=None, sa_column=_staff_fk("by_staff_id"))
    kind: str = Field(max_length=12, description="claim | transfer | release")
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CannedReply(SQLModel, table=True):
    """A ready answer, typed as ``/code`` in the composer (e.g. ``/orari``)."""

    __tablename__ = "canned_reply"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=30, unique=True, description="lower-case, no slash")
    title: str = Field(max_length=80)
    text: str = Field(sa_column=Column(Text, nullable=False))
    active: bool = Field(default=True)
    updated_by: int | None = Field(default=None, sa_column=_staff_fk("updated_by"))
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Label(SQLModel, table=True):
    __tablename__ = "handoff_label"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=40, unique=True, description="as typed, trimmed")


class HandoffLabel(SQLModel, table=True):
    __tablename__ = "handoff_label_link"

    handoff_id: int = Field(
        sa_column=Column(Integer, ForeignKey("handoff.id", ondelete="CASCADE"), primary_key=True)
    )
    label_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("handoff_label.id", ondelete="CASCADE"), primary_key=True
        )
    )


class CsatAnswer(SQLModel, table=True):
    """The one-tap question after closing, and the citizen's answer (1 = male, 3 = bene)."""

    __tablename__ = "handoff_csat"

    id: int | None = Field(default=None, primary_key=True)
    handoff_id: int = Field(foreign_key="handoff.id", unique=True)
    conversation_id: str = Field(max_length=32, index=True)
    asked_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    question_message_id: int | None = Field(default=None, description="the outbound question")
    score: int | None = Field(default=None)
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    skipped_at: datetime | None = Field(
        default=None, sa_type=UTCDateTime, description="the citizen wrote something else"
    )


class HandoffSetting(SQLModel, table=True):
    """Console settings of the hand-off (e.g. the staff Telegram group); key -> value."""

    __tablename__ = "handoff_setting"

    key: str = Field(max_length=60, primary_key=True)
    value: str = Field(default="", max_length=200)
    updated_by: int | None = Field(default=None, sa_column=_staff_fk("updated_by"))
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
