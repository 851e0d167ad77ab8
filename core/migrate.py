"""Schema migrations (Alembic), run by the set-up before anything starts.

``python -m core.migrate`` upgrades the configured database to the newest
revision; ``python -m core.migrate revision -m "message"`` autogenerates a
new revision from the SQLModel models.
"""

from __future__ import annotations

import importlib
import re
import sys
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from core.settings import PROJECT_ROOT, get_settings

MIGRATIONS_DIR = PROJECT_ROOT / "migrations"
FTS_TABLE_PREFIX = "service_fts"
SEARCH_VECTOR = "search_vector"


# Tables live in modules named ``models`` or ``*_models`` inside the project's packages
# (``conversations/models.py``, ``care/handoff_models.py``, ``welfare/ledger/models.py``...).
# The registry is found on disk, so a package that adds tables needs no list edited here;
# tests/test_schema.py checks that every table the code defines is in it.
MODEL_MODULE_NAMES = re.compile(r"^(?:models|\w+_models)\.py$")
NOT_PACKAGES = frozenset({"tests", "migrations", "bench", "devtools"})


def model_modules(root: Path = PROJECT_ROOT) -> list[str]:
    """The dotted names of every module that defines tables, sorted."""
    found = []
    for package in sorted(root.iterdir()):
        if package.name in NOT_PACKAGES or not (package / "__init__.py").is_file():
            continue
        for path in sorted(package.rglob("*.py")):
            if MODEL_MODULE_NAMES.match(path.name) and all(
                (parent / "__init__.py").is_file()
                for parent in path.relative_to(root).parents
                if parent != Path(".")
            ):
                found.append(".".join(path.relative_to(root).with_suffix("").parts))
    return found


def target_metadata() -> MetaData:
    """SQLModel's metadata with every table of the project registered."""
    for module in model_modules():
        importlib.import_module(module)
    return SQLModel.metadata


def include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    """What autogenerate and the schema test compare: everything but the full-text index,
    which the models cannot describe (SQLite's FTS5 virtual table ``service_fts`` and its
    shadow tables; PostgreSQL's generated ``search_vector`` column, which exists on one
    dialect only, and its GIN index). Both live in migration 0002 and have tests of their own
    (tests/catalog/test_catalog_migration.py)."""
    if type_ == "table" and name is not None and name.startswith(FTS_TABLE_PREFIX):
        return False
    if type_ == "column" and name == SEARCH_VECTOR:
        return False
    return not (type_ == "index" and name == f"ix_service_{SEARCH_VECTOR}")


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database behind ``engine`` to ``revision``.

    "head", not "heads": the history has one head, so two revisions branching from the same
    parent fail here (and in tests/test_migrations.py) until a merge revision joins them.
    """
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def main(argv: list[str]) -> int:
    url = get_settings().effective_database_url
    config = alembic_config(url)
    if argv[:1] == ["revision"]:
        message = argv[argv.index("-m") + 1] if "-m" in argv else "change"
        command.revision(config, message=message, autogenerate=True)
        return 0
    from core.db import get_engine

    upgrade(get_engine())
    print("database schema up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
