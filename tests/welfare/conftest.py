"""Fixtures of the welfare tests: the console mounted at /console on the parametrized
``engine`` (SQLite and PostgreSQL), staff members, a citizen with budgets."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

import actions.common as common
from console import security
from console.app import build_console
from console.staff import StaffView, create_staff
from core.db import get_engine, session_scope
from core.settings import Settings, get_settings
from staff.roles import Role
from tests.actions.action_helpers import NOW as ACTIONS_NOW
from tests.actions.action_helpers import make_tracker, run_action, seed_catalog, seed_citizens
from tests.ledger.conftest import Budget, make_budget
from welfare.ledger import linking

CONSOLE = "/console"
PASSWORD = "cavolo nero e ribollita"
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(autouse=True)
def _cheap_hashing() -> Iterator[None]:
    previous = security._hasher
    security.use_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    yield
    security.use_hasher(previous)


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    value = Settings(var_dir=tmp_path / "var", secret_key="test-secret-key-" + "x" * 32)
    monkeypatch.setattr(linking, "get_settings", lambda: value)
    return value


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as s:
        yield s


@pytest.fixture
def budget(session: Session) -> Budget:
    return make_budget(session)


@pytest.fixture
def app(engine: Engine, settings: Settings) -> FastAPI:
    gateway = FastAPI()
    gateway.mount(CONSOLE, build_console(settings, engine=engine))
    return gateway


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, follow_redirects=False) as test_client:
        yield test_client


@dataclass(frozen=True)
class Member:
    view: StaffView
    password: str = PASSWORD

    @property
    def email(self) -> str:
        return self.view.email


MakeStaff = Callable[..., Member]


@pytest.fixture
def make_staff(engine: Engine) -> MakeStaff:
    counter = iter(range(1, 10_000))

    def make(*roles: Role, provider_code: str | None = None) -> Member:
        n = next(counter)
        with session_scope(engine) as db:
            view = create_staff(
                db,
                email=f"welfare{n}@comune.example.it",
                full_name=f"Persona {n}",
                roles=roles,
                password=PASSWORD,
                provider_code=provider_code or ("ENTE01" if Role.provider_staff in roles else None),
            )
        return Member(view)

    return make


def form_token(html: str) -> str:
    match = _TOKEN.search(html)
    assert match, "no csrf_token in the page"
    return match.group(1)


def sign_in(client: TestClient, member: Member) -> str:
    """Log ``member`` in; returns the session's CSRF token."""
    page = client.get(f"{CONSOLE}/accesso")
    response = client.post(
        f"{CONSOLE}/accesso",
        data={"email": member.email, "password": PASSWORD, "csrf_token": form_token(page.text)},
    )
    assert response.status_code == 303, response.text
    return form_token(client.get(f"{CONSOLE}/").text)


# --- a payable service and its provider ----------------------------------------------------


@dataclass(frozen=True)
class Shop:
    service_code: str
    provider_code: str
    other_provider_code: str


def make_shop(s: Session, *, price_cents: int = 12_000, category: str = "summer_camp") -> Shop:
    from catalog.models import AdhesionStatus, CostMode, Provider, ProviderKind, Service
    from catalog.repository import save_service

    providers = []
    for code in ("ENTE01", "ENTE02"):
        provider = Provider(
            code=code,
            name=f"Cooperativa {code}",
            kind=ProviderKind.cooperative,
            adhesion_status=AdhesionStatus.approved,
        )
        s.add(provider)
        s.flush()
        providers.append(provider)
    assert providers[0].id is not None
    save_service(
        s,
        service=Service(
            provider_id=providers[0].id,
            code="CE-TEST",
            title="Centro estivo di prova",
            description="",
            category=category,
            target_groups=["children"],
            quartiere="Q3",
            address="Viale Europa 5",
            lat=43.753,
            lon=11.278,
            cost_mode=CostMode.paid,
            price_cents=price_cents,
            budget_payable=True,
            how_to_access="",
            contacts="",
        ),
    )
    s.commit()
    return Shop("CE-TEST", "ENTE01", "ENTE02")


@pytest.fixture
def shop(session: Session) -> Shop:
    return make_shop(session)


# --- the actions' database (DATABASE_URL) with the actions' seed data --------------------


@pytest.fixture
def db(sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    monkeypatch.setenv("VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("LINK_CODE_PEPPER", "pepper-for-tests")
    monkeypatch.setenv("WELFARE_PUBLIC_URL", "https://welcome.example.org")
    get_settings.cache_clear()
    get_engine.cache_clear()
    monkeypatch.setattr(common, "clock", lambda: ACTIONS_NOW)
    engine = get_engine()
    with Session(engine, expire_on_commit=False) as session:
        seed_catalog(session)
        seed_citizens(session)
        session.commit()
    yield engine
    engine.dispose()
    get_engine.cache_clear()
    get_settings.cache_clear()


def payload_of(payload: str) -> tuple[str, list[dict[str, Any]]]:
    intent, _, data = payload[1:].partition("{")
    values = json.loads("{" + data) if data else {}
    return intent, [{"entity": k, "value": v} for k, v in values.items()]


def tap(action: Any, payload: str, sender: str | None = None) -> list[dict[str, Any]]:
    intent, entities = payload_of(payload)
    extra = {"sender": sender} if sender else {}
    messages, _ = run_action(
        action, make_tracker(intent=intent, text=payload, entities=entities, **extra)
    )
    return messages


def tap_and_confirm(action: Any, payload: str, sender: str | None = None) -> list[dict[str, Any]]:
    """A request that asks «Sei sicuro?» first (cancelling a voucher or an appointment),
    then the «Sì» button of the question; the messages of both turns."""
    from tests.actions.action_helpers import confirm_with_button

    intent, entities = payload_of(payload)
    extra = {"sender": sender} if sender else {}
    asked = run_action(
        action, make_tracker(intent=intent, text=payload, entities=entities, **extra)
    )
    if not any("confirm_nonce" in b["payload"] for m in asked[0] for b in m.get("buttons") or []):
        return asked[0]  # nothing to confirm (no voucher, a list to choose from...)
    done, _ = confirm_with_button(action, asked, **extra)
    return [*asked[0], *done]
