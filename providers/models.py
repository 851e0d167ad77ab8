"""Tables of the adhesion process: applications, their documents and messages, the
commission's checklist and decisions, one-time links for the first password, service drafts.

Enumerations are plain strings, timestamps aware UTC. No ``from __future__ import
annotations`` here: SQLModel reads the annotations at class creation.
"""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from core.timeutil import UTCDateTime, utcnow


def _application_id() -> Any:
    """The column of a row that belongs to an application (deleted with it)."""
    return Field(
        sa_column=Column(
            Integer,
            ForeignKey("adhesion_application.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        )
    )


class ApplicationStatus(StrEnum):
    submitted = "submitted"  # waiting for the commission
    changes_requested = "changes_requested"  # the commission asked the applicant something
    approved = "approved"
    rejected = "rejected"


class DecisionKind(StrEnum):
    approve = "approve"
    request_changes = "request_changes"
    reject = "reject"
    suspend = "suspend"
    reinstate = "reinstate"


class DecisionState(StrEnum):
    awaiting_second = "awaiting_second"  # ADHESION_TWO_MEMBERS: one member proposed it
    applied = "applied"
    withdrawn = "withdrawn"


class DraftStatus(StrEnum):
    pending = "pending"  # waiting for the commission
    published = "published"  # the commission published it
    published_trusted = "published_trusted"  # a small edit, published at once, seen afterwards
    rejected = "rejected"


class AdhesionApplication(SQLModel, table=True):
    """An organisation's request to join. The tracking code is stored only as a hash."""

    __tablename__ = "adhesion_application"

    id: int | None = Field(default=None, primary_key=True)
    tracking_hash: str = Field(max_length=64, unique=True, description="sha256 hex")
    status: ApplicationStatus = Field(sa_type=String(20), index=True)
    org_name: str = Field(max_length=200)
    legal_form: str = Field(max_length=20, description="catalog.models.ProviderKind")
    tax_code: str = Field(max_length=16, description="codice fiscale or partita IVA")
    seat: str = Field(max_length=300)
    contact_name: str = Field(max_length=120)
    email: str = Field(max_length=254)
    phone: str = Field(default="", max_length=50)
    website: str = Field(default="", max_length=300)
    description: str = Field(default="", sa_type=Text)
    quartieri: list[str] = Field(default_factory=list, sa_type=JSON)
    code_version: str = Field(max_length=20, description="the ethical code's accepted version")
    accepted_points: list[str] = Field(default_factory=list, sa_type=JSON)
    provider_code: str | None = Field(default=None, max_length=64, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AdhesionDocument(SQLModel, table=True):
    """A PDF sent with an application or an answer; the file lives under VAR_DIR."""

    __tablename__ = "adhesion_document"

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = _application_id()
    kind: str = Field(max_length=20, description="statute | insurance | other")
    relative_path: str = Field(max_length=200)
    size_bytes: int
    sha256: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AdhesionMessage(SQLModel, table=True):
    """What the commission asked the applicant and what the applicant answered."""

    __tablename__ = "adhesion_message"

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = _application_id()
    author: str = Field(max_length=20, description="commission | applicant")
    text: str = Field(sa_type=Text)
    staff_user_id: int | None = Field(default=None, foreign_key="staff_user.id")
    document_id: int | None = Field(default=None, foreign_key="adhesion_document.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AdhesionCheck(SQLModel, table=True):
    """One line of the commission's checklist: a point of the code or a document."""

    __tablename__ = "adhesion_check"
    __table_args__ = (UniqueConstraint("application_id", "item"),)

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = _application_id()
    item: str = Field(max_length=60, description="code:<point id> | doc:<kind>")
    verdict: str = Field(default="", max_length=10, description="'' | ok | ko")
    note: str = Field(default="", sa_type=Text)
    code_version: str = Field(max_length=20)
    staff_user_id: int | None = Field(default=None, foreign_key="staff_user.id")
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AdhesionDecision(SQLModel, table=True):
    """A decision on an application or on a provider (suspend, reinstate); applied at once,
    or when a second member confirms it (ADHESION_TWO_MEMBERS)."""

    __tablename__ = "adhesion_decision"
    __table_args__ = (Index("ix_adhesion_decision_state", "application_id", "state"),)

    id: int | None = Field(default=None, primary_key=True)
    # None for a provider that never applied here (loaded from the YAML catalogue)
    application_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey("adhesion_application.id", ondelete="CASCADE"), index=True
        ),
    )
    provider_code: str | None = Field(
        default=None, max_length=64, index=True, description="suspend and reinstate"
    )
    kind: DecisionKind = Field(sa_type=String(20))
    state: DecisionState = Field(sa_type=String(20))
    reasons: str = Field(default="", sa_type=Text)
    code_version: str = Field(max_length=20)
    proposed_by: int = Field(foreign_key="staff_user.id")
    proposed_at: datetime = Field(sa_type=UTCDateTime)
    confirmed_by: int | None = Field(default=None, foreign_key="staff_user.id")
    applied_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class AccountLink(SQLModel, table=True):
    """A one-time link to set the first password of a provider_staff account."""

    __tablename__ = "provider_account_link"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True, description="sha256 hex")
    staff_user_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("staff_user.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ServiceDraft(SQLModel, table=True):
    """A service proposed by an applicant or by a provider's staff, or an edit of one:
    the catalogue's fields in ``data``, published into ``service`` by the commission."""

    __tablename__ = "service_draft"

    id: int | None = Field(default=None, primary_key=True)
    application_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey("adhesion_application.id", ondelete="CASCADE"), index=True
        ),
    )
    provider_code: str | None = Field(default=None, max_length=64, index=True)
    service_code: str | None = Field(default=None, max_length=64, description="an edit of it")
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    centre_used: bool = Field(default=False, description="no coordinates: quartiere's centre")
    status: DraftStatus = Field(sa_type=String(20), index=True)
    submitted_by: int | None = Field(default=None, foreign_key="staff_user.id")
    reviewed_by: int | None = Field(default=None, foreign_key="staff_user.id")
    review_note: str = Field(default="", sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    reviewed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
