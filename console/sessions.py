"""Server-side staff sessions and the login itself (with its rate limits).

The browser holds a random token; the database holds its SHA-256 hash, the owner,
the absolute expiry and the time of the last request (for the idle expiry).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from console.config import ConsoleConfig
from console.security import (
    burn_verification_time,
    hash_password,
    needs_rehash,
    new_token,
    normalize_email,
    token_hash,
    verify_password,
)
from staff.models import LoginAttempt, StaffSession, StaffUser

LAST_SEEN_GRANULARITY = timedelta(seconds=60)  # fewer writes; far below the idle expiry
KEEP_LOGIN_ATTEMPTS = timedelta(days=1)


class LoginStatus(StrEnum):
    ok = "ok"
    wrong_credentials = "wrong_credentials"  # also: unknown email, deactivated account
    rate_limited = "rate_limited"


@dataclass(frozen=True)
class LoginOutcome:
    status: LoginStatus
    user: StaffUser | None = None


def _failures_by_email(db: Session, *, email: str, ip: str, since: datetime) -> int:
    """Failures for ``email`` from ``ip``: counted per address, so that failures from
    elsewhere never lock a staff member out (the per-address limit caps a spread attack)."""
    last_success = db.exec(
        select(func.max(LoginAttempt.attempted_at))
        .where(LoginAttempt.email == email)
        .where(col(LoginAttempt.succeeded).is_(True))
    ).one()
    if last_success is not None and last_success > since:
        since = last_success
    return db.exec(
        select(func.count())
        .select_from(LoginAttempt)
        .where(LoginAttempt.email == email)
        .where(LoginAttempt.ip == ip)
        .where(col(LoginAttempt.succeeded).is_(False))
        .where(LoginAttempt.attempted_at > since)
    ).one()


def _failures_by_ip(db: Session, *, ip: str, since: datetime) -> int:
    return db.exec(
        select(func.count())
        .select_from(LoginAttempt)
        .where(LoginAttempt.ip == ip)
        .where(col(LoginAttempt.succeeded).is_(False))
        .where(LoginAttempt.attempted_at > since)
    ).one()


def authenticate(
    db: Session,
    *,
    email: str,
    password: str,
    ip: str,
    now: datetime,
    config: ConsoleConfig,
    is_login: bool = True,
) -> LoginOutcome:
    """Check a login (or, with ``is_login=False``, the current password before a change: the
    same limits apply). The attempt is recorded (and committed) before the check, so parallel
    attempts count against each other; it becomes a success only when the password matches.
    The answer never tells whether the email exists."""
    email = normalize_email(email)[:254]
    attempt = LoginAttempt(email=email, ip=ip[:45], attempted_at=now, succeeded=False)
    db.add(attempt)
    db.commit()

    since = now - config.login_window
    if (
        _failures_by_email(db, email=email, ip=attempt.ip, since=since)
        > config.max_failures_per_email
        or _failures_by_ip(db, ip=attempt.ip, since=since) > config.max_failures_per_ip
    ):
        return LoginOutcome(LoginStatus.rate_limited)

    user = db.exec(select(StaffUser).where(StaffUser.email == email)).first()
    if user is None or not user.active:
        burn_verification_time(password)
        return LoginOutcome(LoginStatus.wrong_credentials)
    if not verify_password(user.password_hash, password):
        return LoginOutcome(LoginStatus.wrong_credentials)

    attempt.succeeded = True
    db.add(attempt)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    if is_login:
        user.last_login_at = now
    db.add(user)
    db.exec(delete(LoginAttempt).where(col(LoginAttempt.attempted_at) < now - KEEP_LOGIN_ATTEMPTS))
    db.commit()
    return LoginOutcome(LoginStatus.ok, user)


def start_session(
    db: Session,
    *,
    staff_id: int,
    ip: str,
    user_agent: str,
    now: datetime,
    config: ConsoleConfig,
) -> tuple[str, StaffSession]:
    """A new session (a fresh token at every login: no session fixation). Returns the raw token,
    which only the cookie keeps."""
    token = new_token()
    row = StaffSession(
        token_hash=token_hash(token),
        staff_user_id=staff_id,
        created_at=now,
        expires_at=now + config.session_max_age,
        last_seen_at=now,
        ip=ip[:45],
        user_agent=user_agent[:200],
    )
    db.add(row)
    db.flush()
    return token, row


def is_live(row: StaffSession, *, now: datetime, config: ConsoleConfig) -> bool:
    return (
        row.revoked_at is None
        and now < row.expires_at
        and now < row.last_seen_at + config.session_idle
    )


def load_session(
    db: Session, *, token: str, now: datetime, config: ConsoleConfig
) -> tuple[StaffSession, StaffUser] | None:
    """The live session behind ``token`` and its (active) owner, touching last_seen; else None."""
    if not token or len(token) > 100:
        return None
    found = db.exec(
        select(StaffSession, StaffUser)
        .join(StaffUser, col(StaffUser.id) == col(StaffSession.staff_user_id))
        .where(StaffSession.token_hash == token_hash(token))
    ).first()
    if found is None:
        return None
    row, user = found
    if not user.active or not is_live(row, now=now, config=config):
        return None
    if now - row.last_seen_at >= LAST_SEEN_GRANULARITY:
        row.last_seen_at = now
        db.add(row)
        db.flush()
    return row, user


def end_session(db: Session, *, session_id: int, now: datetime) -> None:
    row = db.get(StaffSession, session_id)
    if row is not None and row.revoked_at is None:
        row.revoked_at = now
        db.add(row)
        db.flush()
