"""welfare: Welcome Point slots and appointments

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "welfare_slot",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("place_code", sa.String(64), nullable=False),
        sa.Column("starts_at", TS, nullable=False),
        sa.Column("ends_at", TS, nullable=False),
        sa.Column("created_by", sa.String(80), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("withdrawn_at", TS, nullable=True),
        sa.UniqueConstraint("place_code", "starts_at", name="uq_welfare_slot_place_start"),
    )
    op.create_index("ix_welfare_slot_place_code", "welfare_slot", ["place_code"])
    op.create_index("ix_welfare_slot_starts_at", "welfare_slot", ["starts_at"])
    op.create_table(
        "welfare_appointment",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("number", sa.String(16), nullable=False, unique=True),
        sa.Column("slot_id", sa.Integer(), sa.ForeignKey("welfare_slot.id"), nullable=False),
        sa.Column("conversation_id", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("cancelled_at", TS, nullable=True),
        sa.Column("reminded_at", TS, nullable=True),
    )
    op.create_index(
        "ix_welfare_appointment_conversation_id", "welfare_appointment", ["conversation_id"]
    )
    op.create_index(
        "uq_welfare_appointment_active_slot",
        "welfare_appointment",
        ["slot_id"],
        unique=True,
        sqlite_where=sa.text("cancelled_at IS NULL"),
        postgresql_where=sa.text("cancelled_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_table("welfare_appointment")
    op.drop_table("welfare_slot")
