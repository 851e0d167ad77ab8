"""Fixtures of the console tests: a console mounted at /console like the gateway will, on the
parametrized ``engine`` (SQLite and PostgreSQL), with cheap password hashing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher
from console_helpers import PASSWORD, MakeStaff, Member, mount_console
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from console import security
from console.staff import create_staff
from core.db import session_scope
from core.settings import Settings
from staff.roles import Role


@pytest.fixture(autouse=True)
def _cheap_hashing() -> Iterator[None]:
    """argon2id with tiny costs: the tests are about the logic, not about burning CPU."""
    previous = security._hasher
    security.use_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    yield
    security.use_hasher(previous)


@pytest.fixture
def console_settings(tmp_path) -> Settings:
    return Settings(var_dir=tmp_path, secret_key="test-secret-key-" + "x" * 32)


@pytest.fixture
def gateway(engine: Engine, console_settings: Settings) -> FastAPI:
    return mount_console(engine, console_settings)


@pytest.fixture
def client(gateway: FastAPI) -> Iterator[TestClient]:
    with TestClient(gateway, follow_redirects=False) as test_client:
        yield test_client


@pytest.fixture
def make_staff(engine: Engine) -> MakeStaff:
    counter = iter(range(1, 10_000))

    def make(
        *roles: Role,
        email: str | None = None,
        password: str = PASSWORD,
        must_change_password: bool = False,
        provider_code: str | None = None,
    ) -> Member:
        n = next(counter)
        with session_scope(engine) as db:
            view = create_staff(
                db,
                email=email or f"persona{n}@comune.example.it",
                full_name=f"Persona {n}",
                roles=roles or (Role.care_manager,),
                password=password,
                must_change_password=must_change_password,
                provider_code=provider_code or ("ENTE01" if Role.provider_staff in roles else None),
            )
        return Member(view, password)

    return make
