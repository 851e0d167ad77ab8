"""Migration 0003 matches the models (no drift in the ledger's tables)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Engine

from core.migrate import target_metadata

LEDGER_TABLES = {
    "citizen",
    "funding_source",
    "budget_account",
    "ledger_entry",
    "link_code",
    "link_attempt",
    "conversation_link",
}


def _table_of(diff: object) -> str | None:
    """The table a diff item of compare_metadata is about."""
    item = diff[0] if isinstance(diff, list) else diff
    assert isinstance(item, tuple)
    for part in item[1:]:
        name = getattr(part, "name", None)
        table = getattr(part, "table", None)
        if table is not None and getattr(table, "name", None):
            return str(table.name)
        if isinstance(part, str) and part in LEDGER_TABLES:
            return part
        if name in LEDGER_TABLES:
            return str(name)
    return None


def test_no_drift_between_models_and_migration(engine: Engine):
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diffs = compare_metadata(context, target_metadata())
    ours = [d for d in diffs if _table_of(d) in LEDGER_TABLES]
    assert ours == []
