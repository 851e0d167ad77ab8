"""broadcasts: subscriptions and their topics, broadcasts, per-recipient deliveries, pacers

Revision ID: 0007
Revises: 0004, 0008
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = ("0004", "0008")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "broadcast_subscription",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("conversation_id", sa.String(32), nullable=False, unique=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("stopped_at", TS, nullable=True),
    )
    op.create_table(
        "broadcast_subscription_topic",
        sa.Column(
            "subscription_id",
            sa.Integer(),
            sa.ForeignKey("broadcast_subscription.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("kind", sa.String(12), primary_key=True),
        sa.Column("value", sa.String(40), primary_key=True),
    )
    op.create_index(
        "ix_broadcast_topic_kind_value", "broadcast_subscription_topic", ["kind", "value"]
    )
    op.create_table(
        "broadcast",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("title", sa.String(120), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("image_path", sa.String(200), nullable=True),
        sa.Column("image_mime", sa.String(40), nullable=True),
        sa.Column("telegram_file_id", sa.String(200), nullable=True),
        sa.Column("link_url", sa.String(500), nullable=True),
        sa.Column("link_label", sa.String(40), nullable=True),
        sa.Column("quartieri", sa.JSON(), nullable=False),
        sa.Column("interests", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("scheduled_at", TS, nullable=False),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("started_at", TS, nullable=True),
        sa.Column("finished_at", TS, nullable=True),
        sa.Column("cancelled_at", TS, nullable=True),
        sa.Column("cancelled_by", sa.Integer(), nullable=True),
    )
    op.create_index("ix_broadcast_status_scheduled", "broadcast", ["status", "scheduled_at"])
    op.create_table(
        "broadcast_delivery",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "broadcast_id",
            sa.Integer(),
            sa.ForeignKey("broadcast.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("conversation_id", sa.String(32), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", TS, nullable=True),
        sa.Column("claim_token", sa.String(32), nullable=True),
        sa.Column("lease_until", TS, nullable=True),
        sa.Column("in_flight_at", TS, nullable=True),
        sa.Column("uncertain", sa.Boolean(), nullable=False),
        sa.Column("last_error", sa.String(200), nullable=False),
        sa.Column("provider_message_id", sa.String(160), nullable=True),
        sa.Column("sent_at", TS, nullable=True),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("broadcast_id", "conversation_id", name="uq_broadcast_delivery"),
    )
    op.create_index(
        "ix_broadcast_delivery_due", "broadcast_delivery", ["status", "next_attempt_at"]
    )
    op.create_index(
        "ix_broadcast_delivery_broadcast", "broadcast_delivery", ["broadcast_id", "status"]
    )
    op.create_index("ix_broadcast_delivery_claim", "broadcast_delivery", ["claim_token"])
    op.create_index("ix_broadcast_delivery_conversation", "broadcast_delivery", ["conversation_id"])
    pacer = op.create_table(
        "broadcast_pacer",
        sa.Column("channel", sa.String(16), primary_key=True),
        sa.Column("next_slot", sa.Float(), nullable=False),
        sa.Column("paused_until", sa.Float(), nullable=False),
    )
    op.bulk_insert(
        pacer,
        [
            {"channel": channel, "next_slot": 0.0, "paused_until": 0.0}
            for channel in ("telegram", "whatsapp", "webchat")
        ],
    )


def downgrade() -> None:
    op.drop_table("broadcast_pacer")
    op.drop_table("broadcast_delivery")
    op.drop_table("broadcast")
    op.drop_table("broadcast_subscription_topic")
    op.drop_table("broadcast_subscription")
