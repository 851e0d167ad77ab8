"""The models and the migrations describe one schema, on SQLite and on PostgreSQL.

A database migrated to head is compared with the models' metadata by Alembic's autogenerate:
any difference (a table, column, type, nullability, index, unique or foreign key that one
side has and the other has not) fails. Only the full-text index is left out, by name
(core.migrate.include_object). The metadata itself comes from core.migrate.model_modules,
found on disk; the second test proves it holds every table the code defines.
"""

from __future__ import annotations

import json
import subprocess
import sys

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Engine

from core.migrate import include_object, model_modules, target_metadata
from core.settings import PROJECT_ROOT

# Every module of these packages is imported to find the tables the code defines.
CODE_PACKAGES = ("actions", "bot", "broadcast", "care", "catalog", "console", "conversations",
                 "core", "privacy", "providers", "server", "staff", "welfare")  # fmt: skip

_TABLES_OF = """
import importlib, json, pkgutil, sys
from sqlmodel import SQLModel
if sys.argv[1] == "registry":
    from core.migrate import target_metadata
    target_metadata()
else:
    for name in sys.argv[2:]:
        package = importlib.import_module(name)
        for info in pkgutil.walk_packages(package.__path__, name + "."):
            if not info.name.endswith("__main__"):
                importlib.import_module(info.name)
print(json.dumps(sorted(SQLModel.metadata.tables)))
"""


def _tables(*args: str) -> list[str]:
    out = subprocess.run(
        [sys.executable, "-c", _TABLES_OF, *args],
        cwd=PROJECT_ROOT, capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def _flatten(diffs: list) -> list:
    return [d for item in diffs for d in (item if isinstance(item, list) else [item])]


def test_the_registry_holds_every_table_the_code_defines() -> None:
    registry = _tables("registry")
    everything = _tables("all", *CODE_PACKAGES)
    assert registry == everything, (
        f"tables outside a models module: {sorted(set(everything) - set(registry))}"
    )
    assert "welfare.models" in model_modules()  # the module the hand-written list forgot
    assert {"welfare_voucher", "welfare_appointment", "conversation_flag"} <= set(registry)


def test_models_and_migrations_agree(engine: Engine) -> None:
    """Autogenerate against a database migrated to head proposes nothing."""
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"include_object": include_object, "compare_type": True}
        )
        diffs = _flatten(compare_metadata(context, target_metadata()))
    assert diffs == [], "models and migrations differ:\n" + "\n".join(map(repr, diffs))


def test_the_comparison_sees_a_difference(engine: Engine) -> None:
    """The check above can fail: a table only the models have is reported."""
    from sqlalchemy import Column, Integer, MetaData, Table

    metadata = MetaData()
    for table in target_metadata().tables.values():
        table.to_metadata(metadata)
    Table("schema_probe", metadata, Column("id", Integer, primary_key=True))
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": include_object})
        diffs = _flatten(compare_metadata(context, metadata))
    assert [d[0] for d in diffs] == ["add_table"]
