"""Ledger fixtures: a citizen with budgets, built through the public API."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from core.settings import Settings
from welfare.ledger import linking
from welfare.ledger.accounts import create_citizen, open_account, upsert_source
from welfare.ledger.models import SourceKind
from welfare.ledger.payments import credit

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


@dataclass
class Budget:
    citizen_id: int
    public_id: int  # account ids
    employer_id: int


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as s:
        yield s


def make_budget(
    s: Session,
    *,
    public_cents: int = 10_000,
    employer_cents: int = 5_000,
    public_expires: datetime = NOW + timedelta(days=30),
    employer_expires: datetime = NOW + timedelta(days=200),
    public_categories: tuple[str, ...] = ("childcare", "summer_camp"),
    employer_categories: tuple[str, ...] = (),
    public_max: int | None = None,
    suffix: str = "",
) -> Budget:
    """A citizen with a public budget (for childcare and summer camps) and an employer one
    (any category), credited, committed."""
    citizen = create_citizen(s, first_name="Anna", family_name="Prova", now=NOW)
    public = upsert_source(
        s,
        code=f"comune{suffix}",
        kind=SourceKind.public,
        name="Budget pubblico del Comune",
        allowed_categories=public_categories,
        max_per_service_cents=public_max,
    )
    employer = upsert_source(
        s,
        code=f"acme{suffix}",
        kind=SourceKind.employer,
        name="Piano welfare Acme",
        employer_name="Acme S.p.A.",
        allowed_categories=employer_categories,
    )
    assert citizen.id and public.id and employer.id
    a = open_account(s, citizen_id=citizen.id, source_id=public.id, expires_at=public_expires)
    b = open_account(s, citizen_id=citizen.id, source_id=employer.id, expires_at=employer_expires)
    assert a.id and b.id
    for account_id, cents in ((a.id, public_cents), (b.id, employer_cents)):
        if cents:
            credit(
                s,
                account_id=account_id,
                amount_cents=cents,
                idempotency_key=f"seed:{account_id}",
                caused_by="test",
                now=NOW - timedelta(days=1),
            )
    s.commit()
    return Budget(citizen_id=citizen.id, public_id=a.id, employer_id=b.id)


@pytest.fixture
def budget(session: Session) -> Budget:
    return make_budget(session)


@pytest.fixture
def link_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Settings]:
    """Point the linking module at settings with a temporary VAR_DIR (generated pepper)."""

    def apply(**overrides: object) -> Settings:
        settings = Settings(var_dir=tmp_path / "var", **overrides)  # type: ignore[arg-type]
        monkeypatch.setattr(linking, "get_settings", lambda: settings)
        return settings

    apply()
    return apply
