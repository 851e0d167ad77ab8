"""Requests to erase a citizen's data: their own flag kind, their own item for the team.

A citizen asks in the chat («cancellate i miei dati», intent ``forget_me``): the action
stores an ``erasure_request`` flag (care.flags). It is not a hand-off: it neither starts one
nor changes the priority of a running one, and closing a hand-off does not resolve it
(care.handoff.resolve_flags touches only the hand-off's kinds). A Care Manager or an admin
sees the open requests in the console (queue page and /cancellazioni) and marks each one
done once the data are erased; the law gives one month to answer (GDPR art. 12(3)).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from care.flags import raise_flag
from care.models import ConversationFlag, FlagKind, FlagPriority

#: the law's answer time (one month), shown as a deadline in the console
ANSWER_WITHIN = timedelta(days=30)
REASON = "forget_me"


@dataclass(frozen=True)
class ErasureRequest:
    id: int
    conversation_id: str
    requested_at: datetime
    due_at: datetime


def _view(flag: ConversationFlag) -> ErasureRequest:
    assert flag.id is not None
    return ErasureRequest(
        id=flag.id,
        conversation_id=flag.conversation_id,
        requested_at=flag.created_at,
        due_at=flag.created_at + ANSWER_WITHIN,
    )


def request_erasure(session: Session, *, conversation_id: str, source: str) -> ErasureRequest:
    """Store the request (asking again while one is open returns the open one)."""
    flag = raise_flag(
        session,
        conversation_id=conversation_id,
        kind=FlagKind.erasure_request,
        priority=FlagPriority.normal,
        source=source,
        reason=REASON,
    )
    return _view(flag)


def open_requests(session: Session, *, limit: int = 200) -> list[ErasureRequest]:
    """The requests nobody has marked done yet, oldest (closest to the deadline) first."""
    flags = session.exec(
        select(ConversationFlag)
        .where(
            ConversationFlag.kind == FlagKind.erasure_request.value,
            col(ConversationFlag.resolved_at).is_(None),
        )
        .order_by(col(ConversationFlag.created_at), col(ConversationFlag.id))
        .limit(limit)
    )
    return [_view(flag) for flag in flags]


def get_open_request(session: Session, *, request_id: int) -> ErasureRequest | None:
    flag = session.get(ConversationFlag, request_id)
    if flag is None or flag.kind != FlagKind.erasure_request or flag.resolved_at is not None:
        return None
    return _view(flag)


def mark_done(session: Session, *, request_id: int, now: datetime) -> bool:
    """Close one request. True for exactly one of several concurrent callers; only an
    erasure request is ever touched (never the conversation's other flags)."""
    result = session.execute(
        update(ConversationFlag)
        .where(
            col(ConversationFlag.id) == request_id,
            col(ConversationFlag.kind) == FlagKind.erasure_request.value,
            col(ConversationFlag.resolved_at).is_(None),
        )
        .values(resolved_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]
