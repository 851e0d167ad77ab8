"""conversation language (issue 17)

The language of a conversation (``conversation.language``, ``it`` by default), how it was
decided (``language_source``: empty until decided, ``detected`` or ``chosen``), and the
other language seen in the last consecutive confident messages with their count
(``language_pending``, ``language_streak``), so that one ambiguous message never flips it
(docs/languages.md). Broadcasts get their versions in other languages
(``broadcast.translations``: {code: {title, body}}).

Revision ID: 0020
Revises: 0018
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("conversation") as batch:
        batch.add_column(sa.Column("language", sa.String(8), nullable=False, server_default="it"))
        batch.add_column(
            sa.Column("language_source", sa.String(12), nullable=False, server_default="")
        )
        batch.add_column(
            sa.Column("language_pending", sa.String(8), nullable=False, server_default="")
        )
        batch.add_column(
            sa.Column("language_streak", sa.Integer(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("broadcast") as batch:
        batch.add_column(
            sa.Column("translations", sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
        )


def downgrade() -> None:
    with op.batch_alter_table("broadcast") as batch:
        batch.drop_column("translations")
    with op.batch_alter_table("conversation") as batch:
        for column in ("language_streak", "language_pending", "language_source", "language"):
            batch.drop_column(column)
