"""Migration 0008 creates exactly the tables care.handoff_models describes."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Engine

from care import handoff_models
from core.migrate import target_metadata

TABLES = {
    t.name
    for t in handoff_models.SQLModel.metadata.sorted_tables
    if t.name.startswith(("handoff", "canned_reply"))
}


def _tables(diff: object) -> set[str]:
    """The table names a diff of compare_metadata is about."""
    found: set[str] = set()
    for item in diff if isinstance(diff, list) else [diff]:
        for part in item[1:] if isinstance(item, tuple) else ():
            if isinstance(part, str):
                found.add(part)
            table = getattr(part, "table", None)
            name = getattr(table, "name", None) or getattr(part, "name", None)
            if isinstance(name, str):
                found.add(name)
    return found


def _touches_ours(diff: object) -> bool:
    return bool(_tables(diff) & TABLES)


def test_migration_matches_the_models(engine: Engine) -> None:
    assert {"handoff", "handoff_note", "handoff_csat", "canned_reply"} <= TABLES
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = compare_metadata(context, target_metadata())
        assert [d for d in diffs if _touches_ours(d)] == []
        indexes = {i["name"]: i for i in inspect(conn).get_indexes("handoff")}
        assert indexes["uq_handoff_open_conversation"]["unique"]
