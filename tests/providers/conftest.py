"""Fixtures of the adhesion tests: a session on the parametrized ``engine`` (SQLite and
PostgreSQL), commission members, cheap password hashing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher
from sqlalchemy.engine import Engine
from sqlmodel import Session

from console import security
from tests.providers.adhesion_helpers import commission_member


@pytest.fixture(autouse=True)
def _cheap_hashing() -> Iterator[None]:
    previous = security._hasher
    security.use_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    yield
    security.use_hasher(previous)


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as s:
        yield s


@pytest.fixture
def members(session: Session) -> tuple[int, int]:
    """Two commission members' staff ids."""
    return commission_member(session, 1), commission_member(session, 2)
