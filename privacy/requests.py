"""A citizen's request about their data, kept as a conversation flag of its own kind.

The erasure requests (GDPR art. 17, privacy.erasure) and the requests for a copy of one's
data (art. 15 and 20, privacy.data_copy) share this shape: the request is a
``ConversationFlag`` of its kind (care.flags), asking again while one is open returns the
open one, the team answers within one month (art. 12(3)), and marking it done is atomic
(exactly one of several concurrent callers wins). Only flags of the given kind are ever read
or touched.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from care.flags import raise_flag
from care.models import ConversationFlag, FlagKind, FlagPriority

#: the law's answer time (one month, GDPR art. 12(3)), shown as a deadline in the console
ANSWER_WITHIN = timedelta(days=30)


@dataclass(frozen=True)
class PrivacyRequest:
    id: int
    conversation_id: str
    requested_at: datetime
    due_at: datetime

    def overdue(self, now: datetime) -> bool:
        return self.due_at <= now


def _view(flag: ConversationFlag) -> PrivacyRequest:
    assert flag.id is not None
    return PrivacyRequest(
        id=flag.id,
        conversation_id=flag.conversation_id,
        requested_at=flag.created_at,
        due_at=flag.created_at + ANSWER_WITHIN,
    )


def store_request(
    session: Session, *, kind: FlagKind, conversation_id: str, source: str, reason: str
) -> PrivacyRequest:
    """Store the request (asking again while one is open returns the open one)."""
    flag = raise_flag(
        session,
        conversation_id=conversation_id,
        kind=kind,
        priority=FlagPriority.normal,
        source=source,
        reason=reason,
    )
    return _view(flag)


def open_requests(session: Session, *, kind: FlagKind, limit: int = 200) -> list[PrivacyRequest]:
    """The requests nobody has marked done yet, oldest (closest to the deadline) first."""
    flags = session.exec(
        select(ConversationFlag)
        .where(
            ConversationFlag.kind == kind.value,
            col(ConversationFlag.resolved_at).is_(None),
        )
        .order_by(col(ConversationFlag.created_at), col(ConversationFlag.id))
        .limit(limit)
    )
    return [_view(flag) for flag in flags]


def open_request_of(
    session: Session, *, kind: FlagKind, conversation_id: str
) -> PrivacyRequest | None:
    """The conversation's open request of ``kind``, if any."""
    flag = session.exec(
        select(ConversationFlag).where(
            ConversationFlag.conversation_id == conversation_id,
            ConversationFlag.kind == kind.value,
            col(ConversationFlag.resolved_at).is_(None),
        )
    ).first()
    return _view(flag) if flag is not None else None


def get_open_request(session: Session, *, kind: FlagKind, request_id: int) -> PrivacyRequest | None:
    flag = session.get(ConversationFlag, request_id)
    if flag is None or flag.kind != kind or flag.resolved_at is not None:
        return None
    return _view(flag)


def mark_done(session: Session, *, kind: FlagKind, request_id: int, now: datetime) -> bool:
    """Close one request. True for exactly one of several concurrent callers; only a request
    of ``kind`` is ever touched (never the conversation's other flags)."""
    result = session.execute(
        update(ConversationFlag)
        .where(
            col(ConversationFlag.id) == request_id,
            col(ConversationFlag.kind) == kind.value,
            col(ConversationFlag.resolved_at).is_(None),
        )
        .values(resolved_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]
