"""gateway: conversations, messages in and out, attachments, delivery events

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "conversation",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("conversation_id", sa.String(32), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("chat_key", sa.String(128), nullable=False),
        sa.Column("is_group", sa.Boolean(), nullable=False),
        sa.Column("mode", sa.String(8), nullable=False),
        sa.Column("mode_reason", sa.String(40), nullable=False),
        sa.Column("mode_changed_at", TS, nullable=True),
        sa.Column("notice_sent_at", TS, nullable=True),
        sa.Column("consent_version", sa.String(20), nullable=True),
        sa.Column("consent_at", TS, nullable=True),
        sa.Column("consent_declined_at", TS, nullable=True),
        sa.Column("last_inbound_at", TS, nullable=True),
        sa.Column("template_sent_at", TS, nullable=True),
        sa.Column("blocked_at", TS, nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("conversation_id"),
        sa.UniqueConstraint("channel", "chat_key", name="uq_conversation_chat"),
    )
    op.create_table(
        "conversation_message",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "conversation_id",
            sa.String(32),
            sa.ForeignKey("conversation.conversation_id"),
            nullable=False,
        ),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("direction", sa.String(8), nullable=False),
        sa.Column("author", sa.String(10), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("dedupe_key", sa.String(160), nullable=True),
        sa.Column("external_id", sa.String(160), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("status_at", TS, nullable=True),
        sa.Column("error", sa.String(200), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", TS, nullable=True),
        sa.Column("reply_to_id", sa.Integer(), nullable=True),
        sa.Column("staff_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("dedupe_key"),
    )
    op.create_index(
        "ix_conversation_message_conv", "conversation_message", ["conversation_id", "id"]
    )
    op.create_index(
        "ix_conversation_message_outbox", "conversation_message", ["status", "next_attempt_at"]
    )
    op.create_index(
        "ix_conversation_message_external", "conversation_message", ["channel", "external_id"]
    )
    op.create_table(
        "message_attachment",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "message_id", sa.Integer(), sa.ForeignKey("conversation_message.id"), nullable=False
        ),
        sa.Column("conversation_id", sa.String(32), nullable=False),
        sa.Column("mime_type", sa.String(40), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("path", sa.String(200), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_message_attachment_message_id", "message_attachment", ["message_id"])
    op.create_index(
        "ix_message_attachment_conversation_id", "message_attachment", ["conversation_id"]
    )
    op.create_table(
        "delivery_event",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "message_id", sa.Integer(), sa.ForeignKey("conversation_message.id"), nullable=False
        ),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error", sa.String(200), nullable=False),
        sa.Column("at", TS, nullable=False),
    )
    op.create_index("ix_delivery_event_message_id", "delivery_event", ["message_id"])


def downgrade() -> None:
    op.drop_index("ix_delivery_event_message_id", table_name="delivery_event")
    op.drop_table("delivery_event")
    op.drop_index("ix_message_attachment_conversation_id", table_name="message_attachment")
    op.drop_index("ix_message_attachment_message_id", table_name="message_attachment")
    op.drop_table("message_attachment")
    op.drop_index("ix_conversation_message_external", table_name="conversation_message")
    op.drop_index("ix_conversation_message_outbox", table_name="conversation_message")
    op.drop_index("ix_conversation_message_conv", table_name="conversation_message")
    op.drop_table("conversation_message")
    op.drop_table("conversation")
