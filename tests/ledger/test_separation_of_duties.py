"""Separation of duties on the budget (docs/security.md): the staff member who issues a
linking code cannot link with it a chat they write in from the console, nor approve a
reimbursement asked from a chat their code linked."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from sqlmodel import Session

from conversations.models import (
    Author,
    Channel,
    Conversation,
    Direction,
    Kind,
    Message,
    Status,
)
from core.settings import Settings
from welfare.ledger.linking import LinkOutcome, citizen_for_conversation, issue_link_code
from welfare.ledger.linking import redeem_link_code as redeem
from welfare.ledger.models import Citizen
from welfare.reimbursements import LinkedByReviewer, approve_reimbursement, submit_reimbursement

from .conftest import NOW, Budget

CONV = "c" * 32


@pytest.fixture(autouse=True)
def _settings(link_settings: Callable[..., Settings]) -> None:
    link_settings()


def staff_wrote(session: Session, staff_id: int, conversation_id: str = CONV) -> None:
    session.add(
        Conversation(conversation_id=conversation_id, channel=Channel.telegram, chat_key="4242")
    )
    session.flush()
    session.add(
        Message(
            conversation_id=conversation_id,
            channel=Channel.telegram,
            direction=Direction.outbound,
            author=Author.staff,
            staff_user_id=staff_id,
            kind=Kind.text,
            text="Ciao, sono Anna del Punto Welcome",
            data={},
            status=Status.sent,
            status_at=NOW,
            created_at=NOW,
        )
    )
    session.flush()


def test_the_issuer_cannot_link_a_chat_they_write_in(session: Session, budget: Budget) -> None:
    staff_wrote(session, 7)
    code = issue_link_code(session, citizen_id=budget.citizen_id, issued_by="staff:7", now=NOW)
    outcome = redeem(session, conversation_id=CONV, code=code, now=NOW)
    assert outcome is LinkOutcome.issuer_in_chat
    assert "altro operatore" in outcome.message
    assert citizen_for_conversation(session, conversation_id=CONV) is None
    # a colleague's code links the same chat
    other = issue_link_code(session, citizen_id=budget.citizen_id, issued_by="staff:8", now=NOW)
    assert redeem(session, conversation_id=CONV, code=other, now=NOW) is LinkOutcome.ok


def test_the_linker_cannot_approve_that_chats_reimbursement(
    session: Session, budget: Budget
) -> None:
    code = issue_link_code(session, citizen_id=budget.citizen_id, issued_by="staff:7", now=NOW)
    assert redeem(session, conversation_id=CONV, code=code, now=NOW) is LinkOutcome.ok
    citizen = session.get(Citizen, budget.citizen_id)
    assert citizen is not None
    request, _ = submit_reimbursement(
        session,
        citizen=citizen,
        conversation_id=CONV,
        amount_cents=2_000,
        paid_on=date(2026, 11, 20),
        provider_name="Ludoteca Il Girotondo",
        beneficiary="mia figlia",
        idempotency_key="chat:1",
        now=NOW,
        category="summer_camp",
    )
    with pytest.raises(LinkedByReviewer) as refused:
        approve_reimbursement(
            session, request=request, amount_cents=None, reviewer="staff:7", now=NOW
        )
    assert "un altro collega" in refused.value.message
    approved = approve_reimbursement(
        session, request=request, amount_cents=None, reviewer="staff:8", now=NOW
    )
    assert approved.status == "approved"
