"""Fixtures for the custom actions: a migrated SQLite file (DATABASE_URL) with a small
catalogue and three citizens, and a frozen clock."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from action_helpers import NOW, Seeded, seed_catalog, seed_citizens
from sqlalchemy.engine import Engine
from sqlmodel import Session

import actions.common as common
from catalog.importer import import_catalog
from core.db import get_engine
from core.settings import PROJECT_ROOT, get_settings


@pytest.fixture
def db(sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """The actions' database (DATABASE_URL) on a fresh migrated SQLite file; clock frozen."""
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    monkeypatch.setenv("VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("LINK_CODE_PEPPER", "pepper-for-tests")
    get_settings.cache_clear()
    get_engine.cache_clear()
    monkeypatch.setattr(common, "clock", lambda: NOW)
    engine = get_engine()
    yield engine
    engine.dispose()
    get_engine.cache_clear()
    get_settings.cache_clear()


@pytest.fixture
def seeded(db: Engine) -> Seeded:
    with Session(db, expire_on_commit=False) as session:
        seed_catalog(session)
        result = seed_citizens(session)
        session.commit()
    return result


@pytest.fixture
def catalogue(db: Engine) -> Iterator[Engine]:
    """The actions' database with the real seed catalogue (data/catalog/) imported."""
    with Session(db) as session:
        report = import_catalog(session, PROJECT_ROOT / "data" / "catalog")
        assert report.ok, report.summary()
        session.commit()
    yield db
