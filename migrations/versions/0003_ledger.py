"""budget ledger: citizens, funding sources, accounts, append-only entries, linking

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)

APPEND_ONLY_MESSAGE = "ledger_entry is append-only: entries are never updated or deleted"


def upgrade() -> None:
    op.create_table(
        "citizen",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("public_ref", sa.String(16), nullable=False),
        sa.Column("first_name", sa.String(80), nullable=False),
        sa.Column("family_name", sa.String(80), nullable=False),
        sa.Column("tax_code", sa.String(16), nullable=True),
        sa.Column("quartiere", sa.String(4), nullable=True),
        sa.Column("employer", sa.String(120), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("public_ref"),
        sa.UniqueConstraint("tax_code"),
    )
    op.create_table(
        "funding_source",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code", sa.String(60), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("employer_name", sa.String(120), nullable=True),
        sa.Column("allowed_categories", sa.JSON(), nullable=False),
        sa.Column("max_per_service_cents", sa.BigInteger(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("code"),
    )
    op.create_table(
        "budget_account",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("citizen_id", sa.Integer(), sa.ForeignKey("citizen.id"), nullable=False),
        sa.Column("source_id", sa.Integer(), sa.ForeignKey("funding_source.id"), nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("citizen_id", "source_id", name="uq_budget_account"),
    )
    op.create_index("ix_budget_account_citizen_id", "budget_account", ["citizen_id"])

    op.create_table(
        "ledger_entry",
        sa.Column("id", ID, primary_key=True),
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("budget_account.id"), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("held_cents", sa.BigInteger(), nullable=False),
        sa.Column("hold_ref", sa.String(32), nullable=True),
        sa.Column("idempotency_key", sa.String(120), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("caused_by", sa.String(80), nullable=False),
        sa.Column("memo", sa.String(200), nullable=False),
        sa.Column("service_code", sa.String(40), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("idempotency_key", "seq", name="uq_ledger_entry_idempotency"),
    )
    op.create_index(
        "ix_ledger_entry_balance", "ledger_entry", ["account_id", "amount_cents", "held_cents"]
    )
    op.create_index(
        "ix_ledger_entry_account_created", "ledger_entry", ["account_id", "created_at", "id"]
    )
    op.create_index("ix_ledger_entry_hold_ref", "ledger_entry", ["hold_ref"])
    op.create_index(
        "uq_ledger_entry_hold_part",
        "ledger_entry",
        ["hold_ref", "account_id"],
        unique=True,
        sqlite_where=sa.text("kind = 'hold'"),
        postgresql_where=sa.text("kind = 'hold'"),
    )
    op.create_index(
        "uq_ledger_entry_hold_close",
        "ledger_entry",
        ["hold_ref", "account_id"],
        unique=True,
        sqlite_where=sa.text("kind IN ('capture', 'release')"),
        postgresql_where=sa.text("kind IN ('capture', 'release')"),
    )
    _append_only_triggers()

    op.create_table(
        "link_code",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("citizen_id", sa.Integer(), sa.ForeignKey("citizen.id"), nullable=False),
        sa.Column("issued_by", sa.String(80), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("used_at", TS, nullable=True),
        sa.Column("used_by_conversation", sa.String(64), nullable=True),
        sa.Column("revoked_at", TS, nullable=True),
        sa.UniqueConstraint("code_hash"),
    )
    op.create_index("ix_link_code_citizen_id", "link_code", ["citizen_id"])
    op.create_table(
        "link_attempt",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("conversation_id", sa.String(64), nullable=False),
        sa.Column("attempted_at", TS, nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
    )
    op.create_index(
        "ix_link_attempt_conversation", "link_attempt", ["conversation_id", "attempted_at"]
    )
    op.create_table(
        "conversation_link",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("conversation_id", sa.String(64), nullable=False),
        sa.Column("citizen_id", sa.Integer(), sa.ForeignKey("citizen.id"), nullable=False),
        sa.Column("linked_at", TS, nullable=False),
        sa.Column("unlinked_at", TS, nullable=True),
    )
    op.create_index("ix_conversation_link_citizen_id", "conversation_link", ["citizen_id"])
    op.create_index(
        "uq_conversation_link_active",
        "conversation_link",
        ["conversation_id"],
        unique=True,
        sqlite_where=sa.text("unlinked_at IS NULL"),
        postgresql_where=sa.text("unlinked_at IS NULL"),
    )


def _append_only_triggers() -> None:
    """Refuse UPDATE and DELETE on ledger_entry in the database itself."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"""
            CREATE FUNCTION ledger_entry_append_only() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION '{APPEND_ONLY_MESSAGE}'
                    USING ERRCODE = 'integrity_constraint_violation';
            END;
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            "CREATE TRIGGER ledger_entry_append_only BEFORE UPDATE OR DELETE ON ledger_entry "
            "FOR EACH ROW EXECUTE FUNCTION ledger_entry_append_only()"
        )
        op.execute(
            "CREATE TRIGGER ledger_entry_no_truncate BEFORE TRUNCATE ON ledger_entry "
            "FOR EACH STATEMENT EXECUTE FUNCTION ledger_entry_append_only()"
        )
    elif op.get_bind().dialect.name == "sqlite":
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER ledger_entry_no_{event.lower()} BEFORE {event} ON ledger_entry "
                f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS ledger_entry_no_truncate ON ledger_entry")
        op.execute("DROP TRIGGER IF EXISTS ledger_entry_append_only ON ledger_entry")
        op.execute("DROP FUNCTION IF EXISTS ledger_entry_append_only()")
    for table in ("conversation_link", "link_attempt", "link_code", "ledger_entry"):
        op.drop_table(table)
    op.drop_table("budget_account")
    op.drop_table("funding_source")
    op.drop_table("citizen")
