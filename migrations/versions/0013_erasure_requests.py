"""care: erasure requests get their own flag kind (erasure_request)

Before, action_forget_me stored a `handoff` flag with reason "forget_me", or appended
"+forget_me" to the reason of an open `handoff` flag, so a request could hide inside a
hand-off and be resolved with it. The open ones become `erasure_request` flags (the
column is a VARCHAR(20): no schema change): a "forget_me" flag changes kind; a merged one
keeps its hand-off reason and a new erasure_request flag (same conversation, same time, so
the legal deadline is never later than the real one) carries the request. Resolved flags
are history and stay as they are.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

flag = sa.table(
    "conversation_flag",
    sa.column("id", sa.Integer()),
    sa.column("conversation_id", sa.String(64)),
    sa.column("kind", sa.String(20)),
    sa.column("priority", sa.String(10)),
    sa.column("source", sa.String(40)),
    sa.column("reason", sa.String(200)),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("resolved_at", sa.DateTime(timezone=True)),
)
SUFFIX = "+forget_me"


def upgrade() -> None:
    bind = op.get_bind()
    open_handoff = sa.and_(flag.c.kind == "handoff", flag.c.resolved_at.is_(None))
    bind.execute(
        flag.update()
        .where(open_handoff, flag.c.reason == "forget_me")
        .values(kind="erasure_request")
    )
    merged = bind.execute(
        sa.select(
            flag.c.id, flag.c.conversation_id, flag.c.source, flag.c.reason, flag.c.created_at
        )
        .where(open_handoff, flag.c.reason.like(f"%{SUFFIX}%"))
        .order_by(flag.c.id)
    ).all()
    done = set(
        bind.execute(
            sa.select(flag.c.conversation_id).where(
                flag.c.kind == "erasure_request", flag.c.resolved_at.is_(None)
            )
        ).scalars()
    )
    for row in merged:
        if row.conversation_id not in done:
            done.add(row.conversation_id)
            bind.execute(
                flag.insert().values(
                    conversation_id=row.conversation_id,
                    kind="erasure_request",
                    priority="normal",
                    source=row.source,
                    reason="forget_me",
                    created_at=row.created_at,
                    resolved_at=None,
                )
            )
        bind.execute(
            flag.update()
            .where(flag.c.id == row.id)
            .values(reason=row.reason.replace(SUFFIX, "") or "requested")
        )


def downgrade() -> None:
    # the old code knew no erasure_request kind: back to normal-priority hand-off flags
    op.get_bind().execute(
        flag.update().where(flag.c.kind == "erasure_request").values(kind="handoff")
    )
