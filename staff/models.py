"""Staff accounts, their server-side sessions, login attempts and the audit log.

Passwords are stored only as argon2id hashes; session tokens only as SHA-256
hashes (the raw token lives in the browser's cookie). The audit log records who
did what to which object, never the content of a citizen's message.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, Integer
from sqlmodel import Field, SQLModel

from core.timeutil import UTCDateTime, utcnow


class StaffUser(SQLModel, table=True):
    __tablename__ = "staff_user"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True, description="always lower-case")
    full_name: str = Field(max_length=120)
    password_hash: str = Field(max_length=255, description="argon2id, PHC string")
    welcome_place_code: str | None = Field(default=None, max_length=40)
    provider_code: str | None = Field(default=None, max_length=40, description="provider_staff")
    active: bool = Field(default=True)
    must_change_password: bool = Field(
        default=False, description="set when an administrator chose a temporary password"
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_login_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class StaffRole(SQLModel, table=True):
    """One row per role of a member of staff (a person may hold several)."""

    __tablename__ = "staff_role"

    staff_user_id: int = Field(
        sa_column=Column(Integer, ForeignKey("staff_user.id", ondelete="CASCADE"), primary_key=True)
    )
    role: str = Field(max_length=30, primary_key=True, index=True)


class StaffSession(SQLModel, table=True):
    __tablename__ = "staff_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True, description="sha256 hex of the token")
    staff_user_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("staff_user.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime, description="absolute end")
    last_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    ip: str = Field(default="", max_length=45)
    user_agent: str = Field(default="", max_length=200)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class LoginAttempt(SQLModel, table=True):
    """Every login attempt, for the rate limits by email and by client address."""

    __tablename__ = "staff_login_attempt"
    __table_args__ = (
        Index("ix_staff_login_attempt_email_at", "email", "attempted_at"),
        Index("ix_staff_login_attempt_ip_at", "ip", "attempted_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, description="as typed, lower-cased")
    ip: str = Field(max_length=45)
    attempted_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    succeeded: bool = Field(default=False)


class AuditLog(SQLModel, table=True):
    """Who did what, when, to which object. Never message content or passwords."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_object", "object_type", "object_id"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    actor_id: int | None = Field(default=None, foreign_key="staff_user.id", index=True)
    action: str = Field(max_length=60, description="e.g. login, staff.create, handoff.claim")
    object_type: str = Field(default="", max_length=40)
    object_id: str = Field(default="", max_length=64)
    detail: str = Field(default="", max_length=200, description="short, no personal content")
    ip: str = Field(default="", max_length=45)
