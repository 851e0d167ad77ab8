"""welfare: vouchers paid from the budget

Revision ID: 0009
Revises: 0007
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "welfare_voucher",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code", sa.String(12), nullable=False, unique=True),
        sa.Column("hold_ref", sa.String(32), nullable=False, unique=True),
        sa.Column("idempotency_key", sa.String(120), nullable=False, unique=True),
        sa.Column("qr_token", sa.String(40), nullable=False, unique=True),
        sa.Column("citizen_id", sa.Integer(), sa.ForeignKey("citizen.id"), nullable=False),
        sa.Column("conversation_id", sa.String(64), nullable=False),
        sa.Column("service_code", sa.String(64), nullable=False),
        sa.Column("provider_code", sa.String(64), nullable=False),
        sa.Column("category", sa.String(40), nullable=True),
        sa.Column("price_cents", sa.BigInteger(), nullable=False),
        sa.Column("covered_cents", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("closed_at", TS, nullable=True),
        sa.Column("closed_by", sa.String(80), nullable=True),
    )
    op.create_index("ix_welfare_voucher_citizen_id", "welfare_voucher", ["citizen_id"])
    op.create_index("ix_welfare_voucher_conversation_id", "welfare_voucher", ["conversation_id"])
    op.create_index("ix_welfare_voucher_provider_code", "welfare_voucher", ["provider_code"])


def downgrade() -> None:
    op.drop_table("welfare_voucher")
