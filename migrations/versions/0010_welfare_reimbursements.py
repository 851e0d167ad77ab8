"""welfare: reimbursement requests

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "welfare_reimbursement",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("number", sa.String(16), nullable=False, unique=True),
        sa.Column("idempotency_key", sa.String(120), nullable=False, unique=True),
        sa.Column("citizen_id", sa.Integer(), sa.ForeignKey("citizen.id"), nullable=False),
        sa.Column("conversation_id", sa.String(64), nullable=False),
        sa.Column("attachment_id", sa.Integer(), nullable=True),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("provider_name", sa.String(120), nullable=False),
        sa.Column("beneficiary", sa.String(120), nullable=False),
        sa.Column("category", sa.String(40), nullable=True),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("approved_cents", sa.BigInteger(), nullable=True),
        sa.Column("reason", sa.String(300), nullable=False),
        sa.Column("reviewed_by", sa.String(80), nullable=True),
        sa.Column("reviewed_at", TS, nullable=True),
        sa.Column("created_at", TS, nullable=False),
    )
    for column in ("citizen_id", "conversation_id", "status"):
        op.create_index(f"ix_welfare_reimbursement_{column}", "welfare_reimbursement", [column])


def downgrade() -> None:
    op.drop_table("welfare_reimbursement")
