"""Reimbursements: submit (numbered, idempotent), review in the console (receipt, approve all
or part -> reimburse(), reject with a reason, decided once), the citizen told, roles."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from conversations.models import Author, Channel, Direction, Kind, Message, Status
from conversations.repository import add_attachment, get_or_create_conversation
from conversations.uploads import UploadStore
from staff.roles import Role
from tests.ledger.conftest import NOW, Budget
from tests.welfare.conftest import CONSOLE, MakeStaff, sign_in
from welfare.ledger.accounts import balances
from welfare.ledger.models import Citizen, LedgerEntry
from welfare.models import Reimbursement, ReimbursementStatus
from welfare.reimbursements import (
    AlreadyDecided,
    NotCovered,
    approve_reimbursement,
    submit_reimbursement,
)

CONV = "a" * 32
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@dataclass
class FakeGateway:
    uploads: UploadStore
    sent: list[tuple[str, str, Any]] = field(default_factory=list)

    async def send_text(self, conversation_id: str, text: str, *, author: Any) -> None:
        self.sent.append((conversation_id, text, author))


@dataclass
class FakeService:
    gateway: FakeGateway


def _submit(
    session: Session, budget: Budget, amount: int = 4_000, conversation_id: str = CONV, **extra: Any
) -> Reimbursement:
    citizen = session.get(Citizen, budget.citizen_id)
    assert citizen is not None
    request, _ = submit_reimbursement(
        session,
        citizen=citizen,
        conversation_id=conversation_id,
        amount_cents=amount,
        paid_on=date(2026, 11, 20),
        provider_name="Ludoteca Il Girotondo",
        beneficiary="mia figlia",
        idempotency_key=extra.pop("key", "chat:1"),
        now=NOW,
        **extra,
    )
    session.commit()
    return request


@pytest.fixture
def fake_gateway(app: FastAPI, tmp_path: Path) -> FakeGateway:
    gateway = FakeGateway(UploadStore(tmp_path / "uploads", 10_000_000))
    console_app = next(r for r in app.routes if getattr(r, "path", "") == CONSOLE).app
    console_app.state.handoff = FakeService(gateway)
    return gateway


def test_submit_is_numbered_and_idempotent(session: Session, budget: Budget) -> None:
    first = _submit(session, budget)
    again = _submit(session, budget)
    assert first.id == again.id and first.number.startswith("RIM-")
    other = _submit(session, budget, key="chat:2")
    assert other.number != first.number


def test_approve_partial_pays_once(session: Session, budget: Budget) -> None:
    item = _submit(session, budget, category="summer_camp")
    approve_reimbursement(session, request=item, amount_cents=2_500, reviewer="staff:1", now=NOW)
    session.commit()
    with pytest.raises(AlreadyDecided):
        approve_reimbursement(session, request=item, amount_cents=None, reviewer="s:2", now=NOW)
    paid = session.exec(select(LedgerEntry).where(LedgerEntry.kind == "reimbursement")).all()
    assert -sum(e.amount_cents for e in paid) == 2_500
    left = sum(b.available_cents for b in balances(session, citizen_id=budget.citizen_id, now=NOW))
    assert left == 15_000 - 2_500


def test_not_covered_refused(session: Session, budget: Budget) -> None:
    item = _submit(session, budget, amount=90_000)
    with pytest.raises(NotCovered):
        approve_reimbursement(session, request=item, amount_cents=None, reviewer="s:1", now=NOW)
    session.rollback()
    session.refresh(item)
    assert item.status == ReimbursementStatus.submitted


def test_console_review_approve_and_notify(
    client: TestClient,
    make_staff: MakeStaff,
    session: Session,
    budget: Budget,
    fake_gateway: FakeGateway,
) -> None:
    saved = fake_gateway.uploads.save(PNG, now=NOW)
    conversation = get_or_create_conversation(session, channel=Channel.webchat, chat_key="k1")
    message = Message(
        conversation_id=conversation.conversation_id,
        channel=Channel.webchat,
        direction=Direction.inbound,
        author=Author.citizen,
        kind=Kind.attachment,
        status=Status.received,
    )
    session.add(message)
    session.flush()
    assert message.id is not None
    attachment = add_attachment(
        session,
        message_id=message.id,
        conversation_id=conversation.conversation_id,
        mime_type=saved.mime_type,
        size_bytes=saved.size_bytes,
        sha256=saved.sha256,
        path=saved.relative_path,
        now=NOW,
    )
    session.commit()
    attachment_id = attachment.id
    item = _submit(
        session, budget, attachment_id=attachment_id, conversation_id=conversation.conversation_id
    )
    token = sign_in(client, make_staff(Role.welfare_officer))
    queue = client.get(f"{CONSOLE}/rimborsi")
    assert queue.status_code == 200 and item.number in queue.text
    page = client.get(f"{CONSOLE}/rimborsi/{item.id}")
    assert "Ludoteca Il Girotondo" in page.text and "40,00 €" in page.text
    receipt = client.get(f"{CONSOLE}/rimborsi/{item.id}/ricevuta")
    assert receipt.status_code == 200 and receipt.content == PNG
    bad = client.post(
        f"{CONSOLE}/rimborsi/{item.id}/approva", data={"amount": "abc", "csrf_token": token}
    )
    assert bad.status_code == 409 and "Importo non valido" in bad.text
    done = client.post(
        f"{CONSOLE}/rimborsi/{item.id}/approva", data={"amount": "30,50", "csrf_token": token}
    )
    assert done.status_code == 303
    session.refresh(item)
    assert item.status == ReimbursementStatus.approved and item.approved_cents == 3_050
    assert len(fake_gateway.sent) == 1
    conversation, text, author = fake_gateway.sent[0]
    assert conversation == item.conversation_id and item.number in text and "30,50 €" in text
    assert author == Author.gateway
    twice = client.post(
        f"{CONSOLE}/rimborsi/{item.id}/approva", data={"amount": "", "csrf_token": token}
    )
    assert twice.status_code == 409 and "già stata decisa" in twice.text
    assert len(fake_gateway.sent) == 1


def test_console_reject_with_reason(
    client: TestClient,
    make_staff: MakeStaff,
    session: Session,
    budget: Budget,
    fake_gateway: FakeGateway,
) -> None:
    item = _submit(session, budget)
    token = sign_in(client, make_staff(Role.welfare_officer))
    empty = client.post(
        f"{CONSOLE}/rimborsi/{item.id}/respingi", data={"reason": " ", "csrf_token": token}
    )
    assert empty.status_code == 409
    done = client.post(
        f"{CONSOLE}/rimborsi/{item.id}/respingi",
        data={"reason": "Ricevuta illeggibile", "csrf_token": token},
    )
    assert done.status_code == 303
    session.refresh(item)
    assert item.status == ReimbursementStatus.rejected and item.reason == "Ricevuta illeggibile"
    assert "Ricevuta illeggibile" in fake_gateway.sent[0][1]
    assert session.exec(select(LedgerEntry).where(LedgerEntry.kind == "reimbursement")).all() == []


def test_roles(client: TestClient, make_staff: MakeStaff, session: Session, budget: Budget) -> None:
    item = _submit(session, budget)
    token = sign_in(client, make_staff(Role.care_manager, Role.provider_staff))
    assert client.get(f"{CONSOLE}/rimborsi").status_code == 403
    refused = client.post(f"{CONSOLE}/rimborsi/{item.id}/approva", data={"csrf_token": token})
    assert refused.status_code == 403
    client.cookies.clear()
    sign_in(client, make_staff(Role.welfare_officer))
    no_csrf = client.post(f"{CONSOLE}/rimborsi/{item.id}/approva", data={"csrf_token": "x"})
    assert no_csrf.status_code == 403
    session.refresh(item)
    assert item.status == ReimbursementStatus.submitted
