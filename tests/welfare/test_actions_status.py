"""Chat: the status of the citizen's vouchers, reimbursements and appointments, only their own."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session

from actions.welfare_status import NOTHING_TEXT, ActionRequestStatus
from tests.actions.action_helpers import NOW, OTHER_SENDER, SENDER, STRANGER, texts
from tests.welfare.conftest import tap
from welfare.appointments import book, publish_slots
from welfare.ledger.linking import citizen_for_conversation
from welfare.reimbursements import reject_reimbursement, submit_reimbursement
from welfare.vouchers import format_voucher_code, issue_voucher


def test_status_lists_only_own_requests(db: Engine) -> None:
    with Session(db, expire_on_commit=False) as s:
        anna = citizen_for_conversation(s, conversation_id=SENDER)
        assert anna is not None
        voucher, _ = issue_voucher(
            s,
            citizen=anna,
            conversation_id=SENDER,
            service_code="CE-GAV",
            nonce="n-777777",
            now=NOW,
        )
        request, _ = submit_reimbursement(
            s,
            citizen=anna,
            conversation_id=SENDER,
            amount_cents=4_550,
            paid_on=date(2026, 11, 20),
            provider_name="Ludoteca",
            beneficiary="me",
            idempotency_key="k1",
            now=NOW,
        )
        reject_reimbursement(
            s, request=request, reason="Ricevuta illeggibile", reviewer="s:1", now=NOW
        )
        slot = publish_slots(
            s,
            place_code="WP-RIF",
            first_start=NOW + timedelta(days=1),
            minutes=30,
            count=1,
            created_by="s:1",
            now=NOW,
        )[0]
        booking = book(s, slot_id=slot.id or 0, conversation_id=SENDER, now=NOW)
        s.commit()
    text = texts(tap(ActionRequestStatus(), "/request_status"))
    assert format_voucher_code(voucher.code) in text and "da usare" in text
    assert request.number in text and "respinta" in text and "Ricevuta illeggibile" in text
    assert booking.number in text and "Welcome Point Rifredi" in text
    assert texts(tap(ActionRequestStatus(), "/request_status", sender=OTHER_SENDER)) == NOTHING_TEXT
    assert texts(tap(ActionRequestStatus(), "/request_status", sender=STRANGER)) == NOTHING_TEXT
