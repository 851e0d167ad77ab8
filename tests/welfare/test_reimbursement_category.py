"""A reimbursement whose provider was not matched to the catalogue has no category, so budgets
kept for some categories cannot pay it: the reviewer chooses (or corrects) the category in the
console, audited, then approves under the normal rules. SQLite and PostgreSQL, CSRF, roles."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from conversations.uploads import UploadStore
from staff.models import AuditLog
from staff.roles import Role
from tests.ledger.conftest import NOW, Budget
from tests.welfare.conftest import CONSOLE, MakeStaff, form_token, sign_in
from tests.welfare.test_reimbursements import FakeGateway, FakeService, _submit
from welfare.ledger.models import LedgerEntry
from welfare.models import Reimbursement, ReimbursementStatus
from welfare.reimbursements import (
    AlreadyDecided,
    UnknownCategory,
    reject_reimbursement,
    set_category,
)


@pytest.fixture
def gateway(app: FastAPI, tmp_path: Path) -> FakeGateway:
    fake = FakeGateway(UploadStore(tmp_path / "uploads", 10_000_000))
    console_app = next(r for r in app.routes if getattr(r, "path", "") == CONSOLE).app
    console_app.state.handoff = FakeService(fake)
    return fake


def _audits(session: Session, number: str) -> list[AuditLog]:
    session.expire_all()
    return list(
        session.exec(
            select(AuditLog)
            .where(AuditLog.object_type == "reimbursement", AuditLog.object_id == number)
            .order_by(col(AuditLog.id))
        )
    )


def _reimbursed(session: Session) -> dict[int, int]:
    session.expire_all()
    entries = session.exec(select(LedgerEntry).where(LedgerEntry.kind == "reimbursement"))
    return {e.account_id: -e.amount_cents for e in entries}


def test_the_reviewer_chooses_the_category_then_approves(
    client: TestClient,
    make_staff: MakeStaff,
    session: Session,
    budget: Budget,
    gateway: FakeGateway,
) -> None:
    # 120 €, no category: only the employer budget (50 €, any category) may pay
    item = _submit(session, budget, amount=12_000)
    assert item.category is None
    officer = make_staff(Role.welfare_officer)
    token = sign_in(client, officer)
    page = client.get(f"{CONSOLE}/rimborsi/{item.id}")
    assert page.status_code == 200 and "non indicata" in page.text
    assert "copre 50,00 € di 120,00 €" in page.text and "Scegli una categoria" in page.text
    refused = client.post(
        f"{CONSOLE}/rimborsi/{item.id}/approva", data={"amount": "", "csrf_token": token}
    )
    assert refused.status_code == 409 and "non copre" in refused.text

    for bad in ("astrologia", "", "childcare' OR 1=1"):
        answer = client.post(
            f"{CONSOLE}/rimborsi/{item.id}/categoria", data={"category": bad, "csrf_token": token}
        )
        assert answer.status_code == 409 and "Categoria non valida" in answer.text
    session.refresh(item)
    assert item.category is None and _audits(session, item.number) == []

    chosen = client.post(
        f"{CONSOLE}/rimborsi/{item.id}/categoria",
        data={"category": "childcare", "csrf_token": token},
    )
    assert chosen.status_code == 303 and chosen.headers["location"].endswith("?msg=category")
    session.refresh(item)
    assert item.category == "childcare" and item.status == ReimbursementStatus.submitted
    (entry,) = _audits(session, item.number)
    assert entry.action == "reimbursement.category" and entry.actor_id == officer.view.id
    assert entry.detail == "categoria: nessuna -> childcare"
    page = client.get(f"{CONSOLE}/rimborsi/{item.id}?msg=category")
    assert "Categoria salvata" in page.text and "Nidi e servizi per la prima infanzia" in page.text
    assert "copre tutto l'importo richiesto" in page.text

    approved = client.post(
        f"{CONSOLE}/rimborsi/{item.id}/approva", data={"amount": "", "csrf_token": token}
    )
    assert approved.status_code == 303
    session.refresh(item)
    assert item.status == ReimbursementStatus.approved and item.approved_cents == 12_000
    # the normal rules: the public budget (expiring first, childcare allowed) pays first
    assert _reimbursed(session) == {budget.public_id: 10_000, budget.employer_id: 2_000}
    assert len(gateway.sent) == 1 and item.number in gateway.sent[0][1]

    late = client.post(
        f"{CONSOLE}/rimborsi/{item.id}/categoria",
        data={"category": "summer_camp", "csrf_token": token},
    )
    assert late.status_code == 409 and "già stata decisa" in late.text
    session.refresh(item)
    assert item.category == "childcare"
    assert [a.action for a in _audits(session, item.number)] == [
        "reimbursement.category",
        "reimbursement.approve",
    ]


def test_a_wrong_category_is_corrected_and_audited(
    client: TestClient, make_staff: MakeStaff, session: Session, budget: Budget
) -> None:
    item = _submit(session, budget, amount=6_000, category="sport_leisure")
    token = sign_in(client, make_staff(Role.welfare_officer))
    page = client.get(f"{CONSOLE}/rimborsi/{item.id}")
    assert "copre 50,00 € di 60,00 €" in page.text and "Correggi la categoria" in page.text
    assert 'value="sport_leisure" selected' in page.text
    fixed = client.post(
        f"{CONSOLE}/rimborsi/{item.id}/categoria",
        data={"category": "summer_camp", "csrf_token": token},
    )
    assert fixed.status_code == 303
    (entry,) = _audits(session, item.number)
    assert entry.detail == "categoria: sport_leisure -> summer_camp"
    session.refresh(item)
    assert item.category == "summer_camp"


def test_only_welfare_officers_with_the_csrf_token_choose_it(
    client: TestClient, make_staff: MakeStaff, session: Session, budget: Budget
) -> None:
    item = _submit(session, budget)
    token = sign_in(client, make_staff(Role.care_manager, Role.provider_staff, Role.hub_staff))
    refused = client.post(
        f"{CONSOLE}/rimborsi/{item.id}/categoria",
        data={"category": "childcare", "csrf_token": token},
    )
    assert refused.status_code == 403
    client.cookies.clear()
    sign_in(client, make_staff(Role.welfare_officer))
    for data in ({"category": "childcare", "csrf_token": "x"}, {"category": "childcare"}):
        assert client.post(f"{CONSOLE}/rimborsi/{item.id}/categoria", data=data).status_code == 403
    missing = client.post(
        f"{CONSOLE}/rimborsi/{item.id + 1000}/categoria",
        data={"category": "childcare", "csrf_token": form_token_of(client, item.id)},
    )
    assert missing.status_code == 404
    session.refresh(item)
    assert item.category is None and _audits(session, item.number) == []


def form_token_of(client: TestClient, request_id: int) -> str:
    return form_token(client.get(f"{CONSOLE}/rimborsi/{request_id}").text)


def test_set_category_refuses_unknown_slugs_and_decided_requests(
    engine: Engine, session: Session, budget: Budget
) -> None:
    item = _submit(session, budget)
    with pytest.raises(UnknownCategory):
        set_category(session, request=item, category="astrologia")
    assert set_category(session, request=item, category="health") is None
    assert set_category(session, request=item, category="childcare") == "health"
    session.commit()
    with Session(engine) as other:  # another officer decides it meanwhile
        found = other.get(Reimbursement, item.id)
        assert found is not None
        reject_reimbursement(other, request=found, reason="doppia", reviewer="staff:9", now=NOW)
        other.commit()
    assert item.status == ReimbursementStatus.submitted  # this copy has not seen it
    with pytest.raises(AlreadyDecided):
        set_category(session, request=item, category="housing")
    session.rollback()
    session.expire_all()
    fresh = session.get(Reimbursement, item.id)
    assert fresh is not None and fresh.category == "childcare"
    assert fresh.status == ReimbursementStatus.rejected
