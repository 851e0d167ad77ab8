"""Alembic environment: one schema for the catalogue, the ledger and the gateway."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from core.migrate import include_object, target_metadata

config = context.config


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata(),
        include_object=include_object,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is None:
    from core.db import make_engine

    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.begin() as conn:
        run_migrations(conn)
    engine.dispose()
else:
    run_migrations(connection)
