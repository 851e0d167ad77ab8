"""Throw-away PostgreSQL databases for the benchmarks (created, then dropped WITH FORCE)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

DEFAULT_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


class PostgresUnavailable(RuntimeError):
    """The server at TEST_POSTGRES_URL cannot create a database."""


def postgres_admin_url() -> str:
    return os.environ.get("TEST_POSTGRES_URL", DEFAULT_ADMIN_URL)


@contextmanager
def temporary_postgres(prefix: str) -> Iterator[str]:
    """A new empty database on TEST_POSTGRES_URL's server; yields its SQLAlchemy URL.

    Raises PostgresUnavailable (with the reason) when the server cannot be reached.
    """
    admin_url = postgres_admin_url()
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:
        admin.dispose()
        raise PostgresUnavailable(
            f"PostgreSQL not reachable at {make_url(admin_url).render_as_string()} "
            f"({error.__class__.__name__})"
        ) from error
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def kept_postgres(name: str) -> Iterator[str]:
    """The database ``name`` on TEST_POSTGRES_URL's server, created when missing and kept
    (a benchmark's data generated once, reused by the next runs); yields its URL."""
    admin_url = postgres_admin_url()
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
            ).first()
            if exists is None:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:
        raise PostgresUnavailable(
            f"PostgreSQL not reachable at {make_url(admin_url).render_as_string()} "
            f"({error.__class__.__name__})"
        ) from error
    finally:
        admin.dispose()
    yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
