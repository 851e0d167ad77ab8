from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from core.db import make_engine
from tests.gateway.conftest import (  # noqa: F401  (the gateway tests' fixtures)
    fake_graph,
    fake_rasa,
    fake_telegram,
    start_gateway,
)


@pytest.fixture
def tracker(tmp_path: Path) -> Iterator[tuple[str, Engine]]:
    """A tracker store of Rasa's shape for the fake Rasa to write in (tracker_events)."""
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    engine = make_engine(url)
    yield url, engine
    engine.dispose()
