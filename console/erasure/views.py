"""What the erasure pages show (no web framework here): one row per open request."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from bot.store.models import Conversation
from care import handoff as core
from care.erasure import ErasureRequest, open_requests
from care.handoff_models import HandoffStatus
from catalog.ledger.linking import citizen_for_conversation
from console.auth import CurrentStaff
from console.scope import can_see_conversation

CHANNELS = {"telegram": "Telegram", "whatsapp": "WhatsApp", "webchat": "Web chat"}


@dataclass(frozen=True)
class ErasureRow:
    request: ErasureRequest
    channel: str
    citizen_ref: str  # "CIT-…" when the chat is linked to a citizen, else ""
    handoff_id: int | None  # an open hand-off of the same conversation this staff may open
    handoff_open: bool
    overdue: bool


def erasure_rows(session: Session, staff: CurrentStaff, *, now: datetime) -> list[ErasureRow]:
    requests = open_requests(session)
    ids = [r.conversation_id for r in requests]
    channels = dict(
        session.exec(
            select(Conversation.conversation_id, Conversation.channel).where(
                col(Conversation.conversation_id).in_(ids)
            )
        ).all()
    )
    rows = []
    for request in requests:
        citizen = citizen_for_conversation(session, conversation_id=request.conversation_id)
        handoff = core.open_handoff(session, conversation_id=request.conversation_id)
        visible = handoff is not None and can_see_conversation(
            staff,
            assignee_id=handoff.assigned_to,
            in_queue=handoff.status == HandoffStatus.waiting,
        )
        channel = str(channels.get(request.conversation_id, ""))
        rows.append(
            ErasureRow(
                request=request,
                channel=CHANNELS.get(channel, channel or "—"),
                citizen_ref=citizen.public_ref if citizen is not None else "",
                handoff_id=handoff.id if handoff is not None and visible else None,
                handoff_open=handoff is not None,
                overdue=request.due_at <= now,
            )
        )
    return rows
