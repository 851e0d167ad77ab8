"""providers: adhesion applications and service drafts

Applications under the ethical code with their documents, messages, checklist and
decisions; one-time links for a provider account's first password; service drafts; and
``provider.adhesion_source`` (a decision taken in the console, kept by the YAML import).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

TS = sa.DateTime(timezone=True)

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _application_fk() -> sa.Column:
    return sa.Column(
        "application_id",
        sa.Integer(),
        sa.ForeignKey("adhesion_application.id", ondelete="CASCADE"),
        nullable=False,
    )


def upgrade() -> None:
    with op.batch_alter_table("provider") as batch:
        batch.add_column(
            sa.Column("adhesion_source", sa.String(10), nullable=False, server_default="yaml")
        )

    op.create_table(
        "adhesion_application",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("tracking_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("org_name", sa.String(200), nullable=False),
        sa.Column("legal_form", sa.String(20), nullable=False),
        sa.Column("tax_code", sa.String(16), nullable=False),
        sa.Column("seat", sa.String(300), nullable=False),
        sa.Column("contact_name", sa.String(120), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("phone", sa.String(50), nullable=False),
        sa.Column("website", sa.String(300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("quartieri", sa.JSON(), nullable=False),
        sa.Column("code_version", sa.String(20), nullable=False),
        sa.Column("accepted_points", sa.JSON(), nullable=False),
        sa.Column("provider_code", sa.String(64), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_index("ix_adhesion_application_status", "adhesion_application", ["status"])
    op.create_index(
        "ix_adhesion_application_provider_code", "adhesion_application", ["provider_code"]
    )
    op.create_index("ix_adhesion_application_created_at", "adhesion_application", ["created_at"])

    op.create_table(
        "adhesion_document",
        sa.Column("id", sa.Integer(), primary_key=True),
        _application_fk(),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("relative_path", sa.String(200), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_adhesion_document_application_id", "adhesion_document", ["application_id"])

    op.create_table(
        "adhesion_message",
        sa.Column("id", sa.Integer(), primary_key=True),
        _application_fk(),
        sa.Column("author", sa.String(20), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("staff_user_id", sa.Integer(), sa.ForeignKey("staff_user.id"), nullable=True),
        sa.Column(
            "document_id", sa.Integer(), sa.ForeignKey("adhesion_document.id"), nullable=True
        ),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_adhesion_message_application_id", "adhesion_message", ["application_id"])

    op.create_table(
        "adhesion_check",
        sa.Column("id", sa.Integer(), primary_key=True),
        _application_fk(),
        sa.Column("item", sa.String(60), nullable=False),
        sa.Column("verdict", sa.String(10), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("code_version", sa.String(20), nullable=False),
        sa.Column("staff_user_id", sa.Integer(), sa.ForeignKey("staff_user.id"), nullable=True),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("application_id", "item"),
    )
    op.create_index("ix_adhesion_check_application_id", "adhesion_check", ["application_id"])

    op.create_table(
        "adhesion_decision",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "application_id",
            sa.Integer(),
            sa.ForeignKey("adhesion_application.id", ondelete="CASCADE"),
            nullable=True,
        ),
        sa.Column("provider_code", sa.String(64), nullable=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("code_version", sa.String(20), nullable=False),
        sa.Column("proposed_by", sa.Integer(), sa.ForeignKey("staff_user.id"), nullable=False),
        sa.Column("proposed_at", TS, nullable=False),
        sa.Column("confirmed_by", sa.Integer(), sa.ForeignKey("staff_user.id"), nullable=True),
        sa.Column("applied_at", TS, nullable=True),
    )
    op.create_index("ix_adhesion_decision_application_id", "adhesion_decision", ["application_id"])
    op.create_index("ix_adhesion_decision_state", "adhesion_decision", ["application_id", "state"])
    op.create_index("ix_adhesion_decision_provider_code", "adhesion_decision", ["provider_code"])

    op.create_table(
        "provider_account_link",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column(
            "staff_user_id",
            sa.Integer(),
            sa.ForeignKey("staff_user.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("used_at", TS, nullable=True),
    )
    op.create_index(
        "ix_provider_account_link_staff_user_id", "provider_account_link", ["staff_user_id"]
    )

    op.create_table(
        "service_draft",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "application_id",
            sa.Integer(),
            sa.ForeignKey("adhesion_application.id", ondelete="CASCADE"),
            nullable=True,
        ),
        sa.Column("provider_code", sa.String(64), nullable=True),
        sa.Column("service_code", sa.String(64), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("centre_used", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("submitted_by", sa.Integer(), sa.ForeignKey("staff_user.id"), nullable=True),
        sa.Column("reviewed_by", sa.Integer(), sa.ForeignKey("staff_user.id"), nullable=True),
        sa.Column("review_note", sa.Text(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("reviewed_at", TS, nullable=True),
    )
    op.create_index("ix_service_draft_application_id", "service_draft", ["application_id"])
    op.create_index("ix_service_draft_provider_code", "service_draft", ["provider_code"])
    op.create_index("ix_service_draft_status", "service_draft", ["status"])


def downgrade() -> None:
    for table in (
        "service_draft",
        "provider_account_link",
        "adhesion_decision",
        "adhesion_check",
        "adhesion_message",
        "adhesion_document",
        "adhesion_application",
    ):
        op.drop_table(table)
    with op.batch_alter_table("provider") as batch:
        batch.drop_column("adhesion_source")
