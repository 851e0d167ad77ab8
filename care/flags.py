"""Raise and read conversation flags (stored; the console shows them)."""

from __future__ import annotations

from sqlmodel import Session, col, select

from care.models import ConversationFlag, FlagKind, FlagPriority


def raise_flag(
    session: Session,
    *,
    conversation_id: str,
    kind: FlagKind,
    priority: FlagPriority,
    source: str,
    reason: str = "",
) -> ConversationFlag:
    """Store a flag, or return the open one of the same kind (raising twice is harmless)."""
    existing = session.exec(
        select(ConversationFlag).where(
            ConversationFlag.conversation_id == conversation_id,
            ConversationFlag.kind == kind,
            col(ConversationFlag.resolved_at).is_(None),
        )
    ).first()
    if existing is not None:
        return existing
    flag = ConversationFlag(
        conversation_id=conversation_id,
        kind=kind,
        priority=priority,
        source=source,
        reason=reason[:200],
    )
    session.add(flag)
    session.flush()
    return flag


def open_flags(session: Session, *, conversation_id: str | None = None) -> list[ConversationFlag]:
    """Unresolved flags, most urgent and oldest first."""
    query = select(ConversationFlag).where(col(ConversationFlag.resolved_at).is_(None))
    if conversation_id is not None:
        query = query.where(ConversationFlag.conversation_id == conversation_id)
    flags = list(session.exec(query))
    flags.sort(key=lambda f: (FlagPriority(f.priority).rank, f.created_at))
    return flags
