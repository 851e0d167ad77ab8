"""Paths and helpers shared by the catalogue tests (imported as a top-level module)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Engine

from catalog.importer import import_catalog
from core.db import session_scope

FIXTURES = Path(__file__).parent / "fixtures"
GOOD = FIXTURES / "good"
BAD = FIXTURES / "bad"


def load_catalog(engine: Engine, directory: Path = GOOD) -> None:
    """Import ``directory`` into ``engine``'s database; the import must succeed."""
    with session_scope(engine) as session:
        report = import_catalog(session, directory)
    assert report.ok, report.summary()
