"""monitoring: indexes for the readings of a period (messages, ledger entries)

The «Monitoraggio» section reads a period of citizen messages by channel, day and hour
(direction, created_at, then channel and conversation_id so that PostgreSQL answers from
the index alone) and the ledger entries of a kind in a period. Measured by
bench/monitoring_bench.py on a year of data (2 million messages).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_conversation_message_monitoring",
        "conversation_message",
        ["direction", "created_at", "channel", "conversation_id"],
    )
    op.create_index("ix_ledger_entry_kind_created", "ledger_entry", ["kind", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_ledger_entry_kind_created", table_name="ledger_entry")
    op.drop_index("ix_conversation_message_monitoring", table_name="conversation_message")
