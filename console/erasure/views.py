"""What the erasure pages show (no web framework here): one row per open request; the data
copy requests (console/data_copy/, the queue page) use the same rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from care import handoff as core
from care.handoff_models import HandoffStatus
from console.auth import CurrentStaff
from console.scope import can_see_conversation
from conversations.models import Conversation
from privacy import data_copy
from privacy.erasure import ErasureRequest, open_requests
from welfare.ledger.linking import citizen_for_conversation

CHANNELS = {"telegram": "Telegram", "whatsapp": "WhatsApp", "webchat": "Web chat"}


@dataclass(frozen=True)
class ErasureRow:
    request: ErasureRequest
    channel: str
    citizen_ref: str  # "CIT-…" when the chat is linked to a citizen, else ""
    handoff_id: int | None  # an open hand-off of the same conversation this staff may open
    handoff_open: bool
    overdue: bool


def request_row(
    session: Session, staff: CurrentStaff, request: ErasureRequest, *, now: datetime
) -> ErasureRow:
    channel = session.exec(
        select(Conversation.channel).where(
            col(Conversation.conversation_id) == request.conversation_id
        )
    ).first()
    citizen = citizen_for_conversation(session, conversation_id=request.conversation_id)
    handoff = core.open_handoff(session, conversation_id=request.conversation_id)
    visible = handoff is not None and can_see_conversation(
        staff,
        assignee_id=handoff.assigned_to,
        in_queue=handoff.status == HandoffStatus.waiting,
    )
    name = str(channel or "")
    return ErasureRow(
        request=request,
        channel=CHANNELS.get(name, name or "—"),
        citizen_ref=citizen.public_ref if citizen is not None else "",
        handoff_id=handoff.id if handoff is not None and visible else None,
        handoff_open=handoff is not None,
        overdue=request.due_at <= now,
    )


def erasure_rows(session: Session, staff: CurrentStaff, *, now: datetime) -> list[ErasureRow]:
    return [request_row(session, staff, r, now=now) for r in open_requests(session)]


def data_copy_rows(session: Session, staff: CurrentStaff, *, now: datetime) -> list[ErasureRow]:
    """The open requests for a copy of one's data (privacy.data_copy), in the same rows."""
    return [request_row(session, staff, r, now=now) for r in data_copy.open_requests(session)]
