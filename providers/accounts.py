"""One-time links to set the first password of a provider_staff account the commission's
approval opened. The token is shown once (to the commission) and stored as a SHA-256."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from providers.models import AccountLink


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_link(session: Session, *, staff_id: int, hours: int, now: datetime) -> str:
    """A new token for ``staff_id``; earlier unused ones stop working."""
    for old in session.exec(
        select(AccountLink).where(
            AccountLink.staff_user_id == staff_id, col(AccountLink.used_at).is_(None)
        )
    ):
        old.used_at = now
        session.add(old)
    token = secrets.token_urlsafe(32)
    session.add(
        AccountLink(
            token_hash=_hash(token),
            staff_user_id=staff_id,
            created_at=now,
            expires_at=now + timedelta(hours=hours),
        )
    )
    session.flush()
    return token


def valid_link(session: Session, *, token: str, now: datetime) -> AccountLink | None:
    if not 20 <= len(token) <= 64:
        return None
    link = session.exec(select(AccountLink).where(AccountLink.token_hash == _hash(token))).first()
    if link is None or link.used_at is not None or link.expires_at <= now:
        return None
    return link


def use_link(session: Session, *, token: str, now: datetime) -> int | None:
    """Mark the link used; the staff id it was for, or None when it is not valid."""
    link = valid_link(session, token=token, now=now)
    if link is None:
        return None
    link.used_at = now
    session.add(link)
    session.flush()
    return link.staff_user_id
