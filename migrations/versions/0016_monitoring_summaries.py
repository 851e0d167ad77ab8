"""monitoring: summary tables kept current, filled from the existing rows

``monitoring_daily`` holds anonymous counts per day, metric, scope, key and gap (see
``monitoring.models``); ``monitoring_summary_state`` how far each metric is complete. The
upgrade fills them from the rows already in the database (``backfill``), so that the
«Monitoraggio» pages read summaries from the first start; the gateway's job keeps them
current from then on.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "monitoring_daily",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("metric", sa.String(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("day_number", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=4), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("gap", sa.Integer(), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("people", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_monitoring_daily_read",
        "monitoring_daily",
        ["metric", "scope", "day_number", "key"],
    )
    op.create_table(
        "monitoring_summary_state",
        sa.Column("metric", sa.String(length=32), nullable=False),
        sa.Column("complete_through", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("metric"),
    )
    _backfill()


def _backfill() -> None:
    """The summaries of every row already there, in this migration's transaction."""
    from sqlmodel import Session

    from core.timeutil import utcnow
    from monitoring.period import ROME
    from monitoring.summaries.refresh import backfill

    session = Session(bind=op.get_bind())
    backfill(session, utcnow().astimezone(ROME).date())
    session.flush()


def downgrade() -> None:
    op.drop_table("monitoring_summary_state")
    op.drop_index("ix_monitoring_daily_read", table_name="monitoring_daily")
    op.drop_table("monitoring_daily")
