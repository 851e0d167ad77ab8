"""review: the NLU review inbox

The citizen messages the assistant may have misunderstood (review.models.ReviewItem), each
with what the model understood and, once reviewed, the masked and corrected example.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "review_item",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("conversation_id", sa.String(32), nullable=False),
        sa.Column(
            "message_id", sa.Integer(), sa.ForeignKey("conversation_message.id"), nullable=False
        ),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("intent", sa.String(80), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("entities", sa.JSON(), nullable=False),
        sa.Column("ranking", sa.JSON(), nullable=False),
        sa.Column("fallback_choice", sa.String(80), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("masked_text", sa.Text(), nullable=False),
        sa.Column("corrected_intent", sa.String(80), nullable=False),
        sa.Column("corrected_entities", sa.JSON(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=True),
        sa.Column("reviewed_at", TS, nullable=True),
        sa.Column("exported_at", TS, nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("message_id", name="uq_review_item_message"),
    )
    for column in ("conversation_id", "status"):
        op.create_index(f"ix_review_item_{column}", "review_item", [column])


def downgrade() -> None:
    op.drop_table("review_item")
