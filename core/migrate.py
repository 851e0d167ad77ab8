"""Schema migrations (Alembic), run by the set-up before anything starts.

``python -m core.migrate`` upgrades the configured database to the newest
revision; ``python -m core.migrate revision -m "message"`` autogenerates a
new revision from the SQLModel models.
"""

from __future__ import annotations

import importlib
import sys

from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from core.settings import PROJECT_ROOT, get_settings

MIGRATIONS_DIR = PROJECT_ROOT / "migrations"


# Every module that defines tables; importing them registers the tables in SQLModel.metadata.
MODEL_MODULES = (
    "care.models",
    "catalog.models",
    "welfare.ledger.models",
    "staff.models",
    "conversations.models",
    "broadcast.models",
)


def target_metadata() -> MetaData:
    """SQLModel's metadata with every table of the project registered."""
    for module in MODEL_MODULES:
        importlib.import_module(module)
    return SQLModel.metadata


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
