"""service catalogue and its full-text index

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25

The full-text index covers ``service.search_title`` and ``service.search_body``, which hold
terms already normalised in Python (catalog.text), so both backends index the same terms,
and ``service.search_tags``, the filters as tokens (catalog.tags):

- SQLite: an external-content FTS5 table ``service_fts`` kept in sync by triggers.
  A later batch migration that recreates ``service`` must recreate these triggers.
- PostgreSQL: a stored generated ``search_vector`` tsvector ('simple' configuration:
  no further stemming or stopwords; title weight A, body weight B, tags weight D) with a
  GIN index.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)

SQLITE_FTS = [
    """CREATE VIRTUAL TABLE service_fts USING fts5(
        search_title, search_body, search_tags, content='service', content_rowid='id'
    )""",
    """CREATE TRIGGER service_fts_ai AFTER INSERT ON service BEGIN
        INSERT INTO service_fts(rowid, search_title, search_body, search_tags)
        VALUES (new.id, new.search_title, new.search_body, new.search_tags);
    END""",
    """CREATE TRIGGER service_fts_ad AFTER DELETE ON service BEGIN
        INSERT INTO service_fts(service_fts, rowid, search_title, search_body, search_tags)
        VALUES ('delete', old.id, old.search_title, old.search_body, old.search_tags);
    END""",
    """CREATE TRIGGER service_fts_au AFTER UPDATE OF search_title, search_body, search_tags
    ON service BEGIN
        INSERT INTO service_fts(service_fts, rowid, search_title, search_body, search_tags)
        VALUES ('delete', old.id, old.search_title, old.search_body, old.search_tags);
        INSERT INTO service_fts(rowid, search_title, search_body, search_tags)
        VALUES (new.id, new.search_title, new.search_body, new.search_tags);
    END""",
]

POSTGRES_FTS = [
    """ALTER TABLE service ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple'::regconfig, search_title), 'A')
        || setweight(to_tsvector('simple'::regconfig, search_body), 'B')
        || setweight(to_tsvector('simple'::regconfig, search_tags), 'D')
    ) STORED""",
    "CREATE INDEX ix_service_search_vector ON service USING gin (search_vector)",
]


def _timestamps() -> list[sa.Column]:
    return [
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "provider",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("adhesion_status", sa.String(20), nullable=False),
        sa.Column("adhesion_date", sa.Date(), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("email", sa.String(200), nullable=False),
        sa.Column("phone", sa.String(50), nullable=False),
        sa.Column("website", sa.String(300), nullable=False),
        *_timestamps(),
    )
    op.create_index("ix_provider_code", "provider", ["code"], unique=True)
    op.create_index("ix_provider_adhesion_status", "provider", ["adhesion_status"])

    op.create_table(
        "service",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("provider_id", sa.Integer(), sa.ForeignKey("provider.id"), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("category", sa.String(40), nullable=False),
        sa.Column("target_groups", sa.JSON(), nullable=False),
        sa.Column("age_min", sa.Integer(), nullable=True),
        sa.Column("age_max", sa.Integer(), nullable=True),
        sa.Column("quartiere", sa.String(2), nullable=False),
        sa.Column("address", sa.String(300), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("opening_hours", sa.String(300), nullable=False),
        sa.Column("cost_mode", sa.String(20), nullable=False),
        sa.Column("price_cents", sa.Integer(), nullable=False),
        sa.Column("price_unit", sa.String(40), nullable=False),
        sa.Column("budget_payable", sa.Boolean(), nullable=False),
        sa.Column("how_to_access", sa.Text(), nullable=False),
        sa.Column("contacts", sa.Text(), nullable=False),
        sa.Column("keywords", sa.JSON(), nullable=False),
        sa.Column("search_title", sa.Text(), nullable=False),
        sa.Column("search_body", sa.Text(), nullable=False),
        sa.Column("search_tags", sa.Text(), nullable=False),
        *_timestamps(),
    )
    op.create_index("ix_service_code", "service", ["code"], unique=True)
    op.create_index("ix_service_provider_id", "service", ["provider_id"])
    op.create_index("ix_service_category", "service", ["category"])
    op.create_index("ix_service_cost_mode", "service", ["cost_mode"])
    op.create_index("ix_service_quartiere_category", "service", ["quartiere", "category"])
    op.create_index("ix_service_lat_lon", "service", ["lat", "lon"])

    op.create_table(
        "service_target_group",
        sa.Column(
            "service_id",
            sa.Integer(),
            sa.ForeignKey("service.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("target_group", sa.String(40), primary_key=True),
    )
    op.create_index(
        "ix_service_target_group_target_group",
        "service_target_group",
        ["target_group", "service_id"],
    )

    op.create_table(
        "welcome_place",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("quartiere", sa.String(2), nullable=False),
        sa.Column("address", sa.String(300), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("opening_hours", sa.String(300), nullable=False),
        sa.Column("staff_roles", sa.JSON(), nullable=False),
        sa.Column("phone", sa.String(50), nullable=False),
        sa.Column("email", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        *_timestamps(),
    )
    op.create_index("ix_welcome_place_code", "welcome_place", ["code"], unique=True)
    op.create_index("ix_welcome_place_kind", "welcome_place", ["kind"])
    op.create_index("ix_welcome_place_quartiere", "welcome_place", ["quartiere"])

    op.create_table(
        "unmet_need",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("conversation_id", sa.String(64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("category", sa.String(40), nullable=True),
        sa.Column("quartiere", sa.String(2), nullable=True),
        sa.Column("filters", sa.JSON(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
    )
    op.create_index("ix_unmet_need_conversation_id", "unmet_need", ["conversation_id"])
    op.create_index("ix_unmet_need_category", "unmet_need", ["category"])
    op.create_index("ix_unmet_need_quartiere", "unmet_need", ["quartiere"])
    op.create_index("ix_unmet_need_created_at", "unmet_need", ["created_at"])

    op.create_table(
        "catalog_state",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("revision", sa.String(32), nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
    )

    dialect = op.get_bind().dialect.name
    statements = {"sqlite": SQLITE_FTS, "postgresql": POSTGRES_FTS}.get(dialect)
    if statements is None:
        raise NotImplementedError(f"no full-text index for the {dialect} backend")
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("service_fts_ai", "service_fts_ad", "service_fts_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS service_fts")
    op.drop_table("catalog_state")
    op.drop_table("unmet_need")
    op.drop_table("welcome_place")
    op.drop_table("service_target_group")
    op.drop_table("service")
    op.drop_table("provider")
