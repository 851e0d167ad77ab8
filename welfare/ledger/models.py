"""Tables of the budget ledger: citizens, funding sources, accounts, entries, linking.

Sign convention of ``LedgerEntry`` (every figure in integer euro cents)
----------------------------------------------------------------------

Each entry carries two signed numbers: ``amount_cents``, its effect on the balance,
and ``held_cents``, its effect on the money set aside by open holds::

    kind           amount_cents   held_cents
    credit         +X             0        money assigned to the citizen
    hold           0              +X       money set aside for a service (voucher issued)
    capture        -Y             -X       the provider redeemed the voucher: Y <= X is
                                           spent, the rest of the hold (X - Y) is freed
    release        0              -X       the hold was cancelled, X is free again
    reimbursement  -X             0        paid back to the citizen for a receipt
    expiry         -A             0        A = what was still available at expiry
    adjustment     +/-X           0        a correction by staff

so that, for an account, with plain sums over its entries::

    balance   = SUM(amount_cents)      (money still belonging to the account)
    held      = SUM(held_cents)        (open holds: placed, not yet captured/released)
    available = balance - held         (what can still be spent)

and ``available >= 0`` always: every write that lowers it checks it while holding the
account's lock (see ``welfare.ledger.locking``). Entries are never updated or deleted
(triggers refuse it on both databases); a mistake is corrected by an adjustment.

Every write is one *operation* with a caller-chosen ``idempotency_key``; an operation
may write several entries (a hold split over two sources), numbered by ``seq``, and
``(idempotency_key, seq)`` is unique, so a retried or raced operation never writes twice.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import JSON, Column, Field, SQLModel

from core.timeutil import UTCDateTime, utcnow

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _enum(enum: type[StrEnum], length: int) -> sa.Enum:
    """A StrEnum stored as plain text (no database enum type, no CHECK)."""
    return sa.Enum(
        enum,
        native_enum=False,
        create_constraint=False,
        length=length,
        values_callable=lambda e: [m.value for m in e],
    )


class SourceKind(StrEnum):
    public = "public"  # the municipality's welfare budget
    employer = "employer"  # corporate welfare credit from the citizen's employer


class EntryKind(StrEnum):
    credit = "credit"
    hold = "hold"
    capture = "capture"
    release = "release"
    reimbursement = "reimbursement"
    expiry = "expiry"
    adjustment = "adjustment"


class Citizen(SQLModel, table=True):
    """A citizen with a welfare budget. Known to chat only through ConversationLink."""

    __tablename__ = "citizen"

    id: int | None = Field(default=None, primary_key=True)
    public_ref: str = Field(
        max_length=16, unique=True, description='opaque reference, e.g. "CIT-7F3K9Q"'
    )
    first_name: str = Field(max_length=80)
    family_name: str = Field(max_length=80)
    tax_code: str | None = Field(default=None, max_length=16, unique=True)
    quartiere: str | None = Field(default=None, max_length=4, description='"Q1".."Q5"')
    employer: str | None = Field(default=None, max_length=120, description="company name")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class FundingSource(SQLModel, table=True):
    """Where money comes from, with its rules: the Comune's budget or an employer's plan."""

    __tablename__ = "funding_source"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=60, unique=True, description='stable key, e.g. "comune-2026"')
    kind: SourceKind = Field(sa_type=_enum(SourceKind, 10))
    name: str = Field(max_length=120, description='e.g. "Budget pubblico del Comune"')
    employer_name: str | None = Field(default=None, max_length=120)
    allowed_categories: list[str] = Field(
        default_factory=list,
        sa_column=Column(JSON, nullable=False),
        description="catalogue category slugs this money may pay for; empty = every category",
    )
    max_per_service_cents: int | None = Field(
        default=None, sa_type=sa.BigInteger, description="most this source pays for one service"
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    def allows(self, category: str | None) -> bool:
        return not self.allowed_categories or category in self.allowed_categories

    @property
    def label(self) -> str:
        """What a citizen reads."""
        if self.kind == SourceKind.employer and self.employer_name:
            return f"Welfare aziendale - {self.employer_name}"
        return self.name


class BudgetAccount(SQLModel, table=True):
    """One citizen's money from one funding source. Its balance is the sum of its entries."""

    __tablename__ = "budget_account"
    __table_args__ = (sa.UniqueConstraint("citizen_id", "source_id", name="uq_budget_account"),)

    id: int | None = Field(default=None, primary_key=True)
    citizen_id: int = Field(foreign_key="citizen.id", index=True)
    source_id: int = Field(foreign_key="funding_source.id")
    expires_at: datetime = Field(sa_type=UTCDateTime)
    currency: str = Field(default="EUR", max_length=3)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    def is_expired(self, now: datetime) -> bool:
        return now >= self.expires_at


class LedgerEntry(SQLModel, table=True):
    """One append-only movement (see the module docstring for the sign convention)."""

    __tablename__ = "ledger_entry"
    __table_args__ = (
        sa.UniqueConstraint("idempotency_key", "seq", name="uq_ledger_entry_idempotency"),
        # the balance query reads only this index (index-only on both databases)
        sa.Index("ix_ledger_entry_balance", "account_id", "amount_cents", "held_cents"),
        sa.Index("ix_ledger_entry_account_created", "account_id", "created_at", "id"),
        sa.Index("ix_ledger_entry_kind_created", "kind", "created_at"),  # monitoring
        # a hold has one part per account, and each part is closed at most once
        sa.Index(
            "uq_ledger_entry_hold_part",
            "hold_ref",
            "account_id",
            unique=True,
            sqlite_where=sa.text("kind = 'hold'"),
            postgresql_where=sa.text("kind = 'hold'"),
        ),
        sa.Index(
            "uq_ledger_entry_hold_close",
            "hold_ref",
            "account_id",
            unique=True,
            sqlite_where=sa.text("kind IN ('capture', 'release')"),
            postgresql_where=sa.text("kind IN ('capture', 'release')"),
        ),
    )

    id: int | None = Field(default=None, sa_column=Column(ID, primary_key=True))
    account_id: int = Field(foreign_key="budget_account.id")
    kind: EntryKind = Field(sa_type=_enum(EntryKind, 20))
    amount_cents: int = Field(sa_type=sa.BigInteger, description="effect on the balance")
    held_cents: int = Field(default=0, sa_type=sa.BigInteger, description="effect on held")
    hold_ref: str | None = Field(default=None, max_length=32, index=True)
    idempotency_key: str = Field(max_length=120)
    seq: int = Field(default=1, description="entry number within the operation")
    caused_by: str = Field(max_length=80, description='"staff:<user>", "system:expiry", ...')
    memo: str = Field(default="", max_length=200)
    service_code: str | None = Field(default=None, max_length=40)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AppendOnlyError(RuntimeError):
    """Something tried to change or delete a ledger entry."""


@event.listens_for(OrmSession, "before_flush")
def _refuse_entry_changes(session: OrmSession, _context: object, _instances: object) -> None:
    """Entries are written once (the database triggers refuse it too)."""
    for obj in (*session.deleted, *session.dirty):
        if isinstance(obj, LedgerEntry) and (
            obj in session.deleted or session.is_modified(obj, include_collections=False)
        ):
            raise AppendOnlyError("ledger entries are never updated or deleted")


class LinkCode(SQLModel, table=True):
    """A one-time code that links a chat to a citizen. Only its keyed hash is stored."""

    __tablename__ = "link_code"

    id: int | None = Field(default=None, primary_key=True)
    code_hash: str = Field(max_length=64, unique=True)
    citizen_id: int = Field(foreign_key="citizen.id", index=True)
    issued_by: str = Field(max_length=80)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    used_by_conversation: str | None = Field(default=None, max_length=64)
    revoked_at: datetime | None = Field(
        default=None, sa_type=UTCDateTime, description="a newer code was issued"
    )


class LinkAttempt(SQLModel, table=True):
    """A failed redemption, counted to rate-limit guessing per conversation."""

    __tablename__ = "link_attempt"
    __table_args__ = (sa.Index("ix_link_attempt_conversation", "conversation_id", "attempted_at"),)

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: str = Field(max_length=64)
    attempted_at: datetime = Field(sa_type=UTCDateTime)
    outcome: str = Field(max_length=20)


class ConversationLink(SQLModel, table=True):
    """Which citizen a conversation speaks for; at most one active link per conversation."""

    __tablename__ = "conversation_link"
    __table_args__ = (
        sa.Index(
            "uq_conversation_link_active",
            "conversation_id",
            unique=True,
            sqlite_where=sa.text("unlinked_at IS NULL"),
            postgresql_where=sa.text("unlinked_at IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: str = Field(max_length=64)
    citizen_id: int = Field(foreign_key="citizen.id", index=True)
    linked_at: datetime = Field(sa_type=UTCDateTime)
    unlinked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
