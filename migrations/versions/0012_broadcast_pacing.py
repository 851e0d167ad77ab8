"""broadcast: pacing shared by every worker (per-chat gap, sliding-second tokens) and the
WhatsApp picture's media id

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("broadcast_subscription") as batch:
        batch.add_column(sa.Column("next_send_at", sa.Float(), nullable=False, server_default="0"))
    with op.batch_alter_table("broadcast") as batch:
        batch.add_column(sa.Column("whatsapp_media_id", sa.String(200), nullable=True))
    op.create_table(
        "broadcast_window",
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("token", sa.Integer(), nullable=False),
        sa.Column("free_at", sa.Float(), nullable=False),
        sa.Column("taken_free_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("channel", "token"),
    )
    # Subscriptions left active by a consent withdrawn before withdrawing stopped them:
    # stop them now (the engine never sent to them; a new consent must not revive them).
    op.execute(
        "UPDATE broadcast_subscription SET active = false, stopped_at = CURRENT_TIMESTAMP "
        "WHERE active AND conversation_id IN "
        "(SELECT conversation_id FROM conversation WHERE consent_at IS NULL)"
    )
    op.execute(
        "DELETE FROM broadcast_subscription_topic WHERE subscription_id IN "
        "(SELECT id FROM broadcast_subscription WHERE NOT active)"
    )


def downgrade() -> None:
    op.drop_table("broadcast_window")
    with op.batch_alter_table("broadcast") as batch:
        batch.drop_column("whatsapp_media_id")
    with op.batch_alter_table("broadcast_subscription") as batch:
        batch.drop_column("next_send_at")
