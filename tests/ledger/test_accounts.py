"""Balances, statements and the records behind them."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlmodel import Session

from welfare.ledger.accounts import (
    balances,
    create_citizen,
    get_citizen,
    open_account,
    statement,
    upsert_source,
)
from welfare.ledger.codes import ALPHABET
from welfare.ledger.models import EntryKind, SourceKind
from welfare.ledger.payments import capture_hold, choose_sources, place_hold

from .conftest import NOW, Budget


def test_citizen_refs_are_opaque_and_unambiguous(session: Session):
    citizen = create_citizen(session, first_name="Leo", family_name="Prova", tax_code="abc")
    assert re.fullmatch(rf"CIT-[{ALPHABET}]{{6}}", citizen.public_ref)
    assert get_citizen(session, public_ref=citizen.public_ref.lower()) == citizen
    assert citizen.tax_code == "ABC" and citizen.created_at.tzinfo is not None


def test_sources_are_upserted_and_accounts_opened_once(session: Session):
    citizen = create_citizen(session, first_name="Leo", family_name="Prova")
    source = upsert_source(session, code="s", kind=SourceKind.public, name="Budget")
    again = upsert_source(
        session, code="s", kind=SourceKind.public, name="Budget", allowed_categories=["health"]
    )
    assert again.id == source.id and again.allowed_categories == ["health"]
    assert citizen.id and source.id
    a = open_account(session, citizen_id=citizen.id, source_id=source.id, expires_at=NOW)
    b = open_account(
        session, citizen_id=citizen.id, source_id=source.id, expires_at=NOW + timedelta(days=9)
    )
    assert a.id == b.id and b.expires_at == NOW


def test_balances_list_budgets_expiring_first_with_italian_labels(session: Session, budget: Budget):
    shown = balances(session, citizen_id=budget.citizen_id, now=NOW)
    assert [(b.label, b.source_kind, b.available_cents) for b in shown] == [
        ("Budget pubblico del Comune", SourceKind.public, 10_000),
        ("Welfare aziendale - Acme S.p.A.", SourceKind.employer, 5_000),
    ]
    assert all(b.expires_at.tzinfo is not None for b in shown)


def test_statement_is_newest_first_and_limited(session: Session, budget: Budget):
    plan = choose_sources(
        session, citizen_id=budget.citizen_id, category="childcare", amount_cents=1_200, now=NOW
    )
    hold = place_hold(
        session,
        plan=plan,
        idempotency_key="h",
        caused_by="citizen",
        now=NOW,
        service_code="SRV-1",
        memo="Ludoteca",
    )
    capture_hold(
        session,
        hold_ref=hold.hold_ref,
        idempotency_key="c",
        caused_by="provider",
        now=NOW + timedelta(hours=1),
    )
    lines = statement(session, citizen_id=budget.citizen_id)
    assert [line.kind for line in lines] == [
        EntryKind.capture,
        EntryKind.hold,
        EntryKind.credit,
        EntryKind.credit,
    ]
    assert lines[0].description == "Pagamento servizio"
    assert (lines[0].amount_cents, lines[0].held_cents) == (-1_200, -1_200)
    assert lines[1].service_code == "SRV-1" and lines[1].memo == "Ludoteca"
    assert len(statement(session, citizen_id=budget.citizen_id, limit=2)) == 2
    since = statement(session, citizen_id=budget.citizen_id, since=NOW, limit=None)
    assert len(since) == 2


def test_a_citizen_sees_only_their_own_entries(session: Session, budget: Budget):
    other = create_citizen(session, first_name="Altra", family_name="Persona")
    assert other.id is not None
    assert statement(session, citizen_id=other.id) == []
    assert balances(session, citizen_id=other.id, now=NOW) == []
