"""Tables of the welfare flows: vouchers (a budget hold a provider redeems)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from core.timeutil import UTCDateTime, utcnow
from welfare.ledger.models import _enum


class VoucherStatus(StrEnum):
    issued = "issued"  # the hold is open: the provider may redeem it
    redeemed = "redeemed"  # captured
    cancelled = "cancelled"  # released


VOUCHER_STATUS_LABELS = {
    VoucherStatus.issued: "da usare",
    VoucherStatus.redeemed: "usato",
    VoucherStatus.cancelled: "annullato",
}


class Voucher(SQLModel, table=True):
    """A service paid (in part or in full) by the budget: one ledger hold, one short code."""

    __tablename__ = "welfare_voucher"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=12, unique=True, description="8 symbols, no 0/O/1/I")
    hold_ref: str = Field(max_length=32, unique=True)
    idempotency_key: str = Field(max_length=120, unique=True)
    qr_token: str = Field(max_length=40, unique=True, description="unguessable image URL part")
    citizen_id: int = Field(foreign_key="citizen.id", index=True)
    conversation_id: str = Field(max_length=64, index=True)
    service_code: str = Field(max_length=64)
    provider_code: str = Field(max_length=64, index=True)
    category: str | None = Field(default=None, max_length=40)
    price_cents: int = Field(sa_type=sa.BigInteger)
    covered_cents: int = Field(sa_type=sa.BigInteger, description="what the budget pays")
    status: VoucherStatus = Field(default=VoucherStatus.issued, sa_type=_enum(VoucherStatus, 12))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_by: str | None = Field(default=None, max_length=80)

    @property
    def uncovered_cents(self) -> int:
        return self.price_cents - self.covered_cents


class ReimbursementStatus(StrEnum):
    submitted = "submitted"  # waiting for a welfare officer
    approved = "approved"  # paid back (possibly a part of the amount)
    rejected = "rejected"


REIMBURSEMENT_STATUS_LABELS = {
    ReimbursementStatus.submitted: "in esame",
    ReimbursementStatus.approved: "approvata",
    ReimbursementStatus.rejected: "respinta",
}


class Reimbursement(SQLModel, table=True):
    """A citizen's request to be paid back from the budget for a receipt they already paid."""

    __tablename__ = "welfare_reimbursement"

    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(max_length=16, unique=True, description='"RIM-XXXXXX", told the citizen')
    idempotency_key: str = Field(max_length=120, unique=True)
    citizen_id: int = Field(foreign_key="citizen.id", index=True)
    conversation_id: str = Field(max_length=64, index=True)
    attachment_id: int | None = Field(default=None, description="message_attachment.id")
    amount_cents: int = Field(sa_type=sa.BigInteger)
    paid_on: date
    provider_name: str = Field(max_length=120)
    beneficiary: str = Field(max_length=120)
    category: str | None = Field(default=None, max_length=40)
    status: ReimbursementStatus = Field(
        default=ReimbursementStatus.submitted, sa_type=_enum(ReimbursementStatus, 12), index=True
    )
    approved_cents: int | None = Field(default=None, sa_type=sa.BigInteger)
    reason: str = Field(default="", max_length=300)
    reviewed_by: str | None = Field(default=None, max_length=80)
    reviewed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AppointmentSlot(SQLModel, table=True):
    """A Care Manager's free time at a Welcome Point, published in the console."""

    __tablename__ = "welfare_slot"
    __table_args__ = (
        sa.UniqueConstraint("place_code", "starts_at", name="uq_welfare_slot_place_start"),
    )

    id: int | None = Field(default=None, primary_key=True)
    place_code: str = Field(max_length=64, index=True, description="WelcomePlace.code")
    starts_at: datetime = Field(sa_type=UTCDateTime, index=True)
    ends_at: datetime = Field(sa_type=UTCDateTime)
    created_by: str = Field(max_length=80)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    withdrawn_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Appointment(SQLModel, table=True):
    """A citizen's booking of a slot. At most one active booking per slot (partial UNIQUE)."""

    __tablename__ = "welfare_appointment"
    __table_args__ = (
        sa.Index(
            "uq_welfare_appointment_active_slot",
            "slot_id",
            unique=True,
            sqlite_where=sa.text("cancelled_at IS NULL"),
            postgresql_where=sa.text("cancelled_at IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(max_length=16, unique=True, description='"APP-XXXXXX"')
    slot_id: int = Field(foreign_key="welfare_slot.id")
    conversation_id: str = Field(max_length=64, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    cancelled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reminded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
