"""hand-off to Care Managers: hand-offs, notes, transfers, canned replies, labels, CSAT, settings

Revision ID: 0008
Revises: 0006
Create Date: 2026-11-26
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CANNED = [
    (
        "saluto",
        "Saluto",
        "Buongiorno, sono un Care Manager del Comune di Firenze. Ho letto la conversazione "
        "con l'assistente: come posso aiutarti?",
    ),
    (
        "attesa",
        "Un momento",
        "Grazie, sto verificando: ti rispondo qui tra pochi minuti.",
    ),
    (
        "orari",
        "Orari dei Welcome Point",
        "I Welcome Point ricevono su appuntamento e negli orari di apertura. Per sapere "
        "quello più vicino a te e i suoi orari scrivi «Welcome Point vicino a me» quando "
        "torni a parlare con l'assistente, oppure chiedimelo qui.",
    ),
    (
        "documenti",
        "Documenti da portare",
        "Porta con te un documento d'identità, la tessera sanitaria e, se ce l'hai, "
        "l'attestazione ISEE in corso di validità.",
    ),
    (
        "emergenza",
        "Numeri di emergenza",
        "Se sei in pericolo chiama subito il 112. Se subisci violenza o stalking puoi "
        "chiamare il 1522: è gratuito, anonimo e risponde 24 ore su 24.",
    ),
    (
        "chiusura",
        "Chiusura",
        "Grazie per averci scritto. Chiudo la conversazione: se ti serve altro, scrivi "
        "pure all'assistente oppure /operatore per parlare di nuovo con una persona.",
    ),
]


def _ts(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _staff(name: str) -> sa.Column:
    return sa.Column(
        name, sa.Integer(), sa.ForeignKey("staff_user.id", ondelete="SET NULL"), nullable=True
    )


def upgrade() -> None:
    op.create_table(
        "handoff",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("conversation_id", sa.String(32), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("priority", sa.String(10), nullable=False),
        sa.Column("priority_rank", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(60), nullable=False),
        _ts("requested_at", nullable=False),
        _ts("sla_due_at"),
        sa.Column("office_open", sa.Boolean(), nullable=False),
        _staff("assigned_to"),
        _ts("claimed_at"),
        _ts("first_reply_at"),
        _ts("closed_at"),
        _staff("closed_by"),
        sa.Column("outcome", sa.String(30), nullable=True),
        _ts("citizen_told_at"),
        _ts("rasa_paused_at"),
        _ts("rasa_resumed_at"),
        _ts("returned_at"),
        _ts("notified_at"),
    )
    op.create_index("ix_handoff_queue", "handoff", ["status", "priority_rank", "requested_at"])
    op.create_index("ix_handoff_assigned_to", "handoff", ["assigned_to", "status"])
    op.create_index("ix_handoff_conversation", "handoff", ["conversation_id", "id"])
    op.create_index(
        "uq_handoff_open_conversation",
        "handoff",
        ["conversation_id"],
        unique=True,
        sqlite_where=sa.text("status != 'closed'"),
        postgresql_where=sa.text("status != 'closed'"),
    )
    op.create_table(
        "handoff_note",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("handoff_id", sa.Integer(), sa.ForeignKey("handoff.id"), nullable=False),
        sa.Column("conversation_id", sa.String(32), nullable=False),
        _staff("author_id"),
        sa.Column("text", sa.Text(), nullable=False),
        _ts("created_at", nullable=False),
    )
    op.create_index("ix_handoff_note_handoff_id", "handoff_note", ["handoff_id"])
    op.create_index("ix_handoff_note_conversation_id", "handoff_note", ["conversation_id"])
    op.create_table(
        "handoff_transfer",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("handoff_id", sa.Integer(), sa.ForeignKey("handoff.id"), nullable=False),
        _staff("from_staff_id"),
        _staff("to_staff_id"),
        _staff("by_staff_id"),
        sa.Column("kind", sa.String(12), nullable=False),
        _ts("at", nullable=False),
    )
    op.create_index("ix_handoff_transfer_handoff_id", "handoff_transfer", ["handoff_id"])
    canned = op.create_table(
        "canned_reply",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code", sa.String(30), nullable=False, unique=True),
        sa.Column("title", sa.String(80), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        _staff("updated_by"),
        _ts("updated_at", nullable=False),
    )
    op.create_table(
        "handoff_label",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(40), nullable=False, unique=True),
    )
    op.create_table(
        "handoff_label_link",
        sa.Column(
            "handoff_id",
            sa.Integer(),
            sa.ForeignKey("handoff.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "label_id",
            sa.Integer(),
            sa.ForeignKey("handoff_label.id", ondelete="CASCADE"),
            primary_key=True,
        ),
    )
    op.create_table(
        "handoff_csat",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "handoff_id", sa.Integer(), sa.ForeignKey("handoff.id"), nullable=False, unique=True
        ),
        sa.Column("conversation_id", sa.String(32), nullable=False),
        _ts("asked_at", nullable=False),
        sa.Column("question_message_id", sa.Integer(), nullable=True),
        sa.Column("score", sa.Integer(), nullable=True),
        _ts("answered_at"),
        _ts("skipped_at"),
    )
    op.create_index("ix_handoff_csat_conversation_id", "handoff_csat", ["conversation_id"])
    op.create_table(
        "handoff_setting",
        sa.Column("key", sa.String(60), primary_key=True),
        sa.Column("value", sa.String(200), nullable=False),
        _staff("updated_by"),
        _ts("updated_at", nullable=False),
    )
    now = datetime.now(UTC)
    op.bulk_insert(
        canned,
        [
            {"code": c, "title": t, "text": x, "active": True, "updated_at": now}
            for c, t, x in CANNED
        ],
    )


def downgrade() -> None:
    op.drop_table("handoff_setting")
    op.drop_table("handoff_csat")
    op.drop_table("handoff_label_link")
    op.drop_table("handoff_label")
    op.drop_table("canned_reply")
    op.drop_table("handoff_transfer")
    op.drop_table("handoff_note")
    op.drop_table("handoff")
