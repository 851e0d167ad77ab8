"""Fixtures of the catalogue tests: the small test catalogue imported into real databases.

``session`` gives a session on a catalogue shared by all tests of the run (imported once
per backend: it is read-only, don't write through it); it is parametrized like the root
``engine`` fixture, so those tests run once on SQLite and once on PostgreSQL. Tests that
write use ``engine`` (a fresh database each) and ``load_catalog``.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from catalog_test_helpers import load_catalog
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session

from core.db import make_engine

POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


@pytest.fixture(scope="session")
def _shared_sqlite_catalog(
    _sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    path = tmp_path_factory.mktemp("catalog") / "core.db"
    shutil.copyfile(_sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    load_catalog(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def _shared_postgres_catalog(
    _postgres_template: tuple[Engine, str] | None,
) -> Iterator[Engine | None]:
    if _postgres_template is None:
        yield None
        return
    admin, template = _postgres_template
    name = f"welcome_cat_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    url = make_url(POSTGRES_ADMIN_URL).set(database=name)
    engine = make_engine(url.render_as_string(hide_password=False))
    load_catalog(engine)
    yield engine
    engine.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", "postgres"])
def catalog_engine(request: pytest.FixtureRequest) -> Engine:
    """The shared, read-only test catalogue: once on SQLite, once on PostgreSQL."""
    if request.param == "sqlite":
        return request.getfixturevalue("_shared_sqlite_catalog")
    request.applymarker(pytest.mark.postgres)
    engine = request.getfixturevalue("_shared_postgres_catalog")
    if engine is None:
        reason = f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL}"
        if os.environ.get("WELCOME_REQUIRE_SERVICES") == "1":
            pytest.fail(f"{reason} (WELCOME_REQUIRE_SERVICES=1)")
        pytest.skip(reason)
    return engine


@pytest.fixture
def session(catalog_engine: Engine) -> Iterator[Session]:
    with Session(catalog_engine, expire_on_commit=False) as s:
        yield s
        s.rollback()
