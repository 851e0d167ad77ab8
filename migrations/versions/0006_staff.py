"""staff accounts, sessions, login attempts, audit log

Revision ID: 0006
Revises: 0003
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ts(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "staff_user",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("email", sa.String(254), nullable=False, unique=True),
        sa.Column("full_name", sa.String(120), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("welcome_place_code", sa.String(40), nullable=True),
        sa.Column("provider_code", sa.String(40), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("must_change_password", sa.Boolean(), nullable=False),
        _ts("created_at"),
        _ts("last_login_at", nullable=True),
    )
    op.create_table(
        "staff_role",
        sa.Column(
            "staff_user_id",
            sa.Integer(),
            sa.ForeignKey("staff_user.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("role", sa.String(30), primary_key=True),
    )
    op.create_index("ix_staff_role_role", "staff_role", ["role"])
    op.create_table(
        "staff_session",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column(
            "staff_user_id",
            sa.Integer(),
            sa.ForeignKey("staff_user.id", ondelete="CASCADE"),
            nullable=False,
        ),
        _ts("created_at"),
        _ts("expires_at"),
        _ts("last_seen_at"),
        sa.Column("ip", sa.String(45), nullable=False),
        sa.Column("user_agent", sa.String(200), nullable=False),
        _ts("revoked_at", nullable=True),
    )
    op.create_index("ix_staff_session_staff_user_id", "staff_session", ["staff_user_id"])
    op.create_table(
        "staff_login_attempt",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("ip", sa.String(45), nullable=False),
        _ts("attempted_at"),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
    )
    op.create_index(
        "ix_staff_login_attempt_email_at", "staff_login_attempt", ["email", "attempted_at"]
    )
    op.create_index("ix_staff_login_attempt_ip_at", "staff_login_attempt", ["ip", "attempted_at"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), primary_key=True),
        _ts("at"),
        sa.Column("actor_id", sa.Integer(), sa.ForeignKey("staff_user.id"), nullable=True),
        sa.Column("action", sa.String(60), nullable=False),
        sa.Column("object_type", sa.String(40), nullable=False),
        sa.Column("object_id", sa.String(64), nullable=False),
        sa.Column("detail", sa.String(200), nullable=False),
        sa.Column("ip", sa.String(45), nullable=False),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_actor_id", "audit_log", ["actor_id"])
    op.create_index("ix_audit_log_object", "audit_log", ["object_type", "object_id"])


def downgrade() -> None:
    op.drop_table("audit_log")
    op.drop_table("staff_login_attempt")
    op.drop_table("staff_session")
    op.drop_table("staff_role")
    op.drop_table("staff_user")
