"""Migration 0006 creates exactly the tables staff.models describes."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Engine

from core.migrate import target_metadata

TABLES = {"staff_user", "staff_role", "staff_session", "staff_login_attempt", "audit_log"}


def _table_of(diff: object) -> str | None:
    item = diff[0] if isinstance(diff, list) else diff
    for part in item[1:] if isinstance(item, tuple) else ():
        name = getattr(part, "name", None) if not isinstance(part, str) else None
        table = getattr(part, "table", None)
        if table is not None and getattr(table, "name", None):
            return table.name
        if name in TABLES:
            return name
        if isinstance(part, str) and part in TABLES:
            return part
    return None


def test_migration_matches_the_models(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = compare_metadata(context, target_metadata())
    ours = [d for d in diffs if _table_of(d) in TABLES]
    assert ours == []
