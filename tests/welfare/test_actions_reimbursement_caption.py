"""The reimbursement actions with what the gateway sends for a file with a caption: the intent
``/request_reimbursement``, ``metadata.attachment`` and ``metadata.caption``. The file is kept as
the receipt; the caption («35 euro») is never taken as an answer: the form asks as usual."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Engine

from actions.reimbursement import (
    AMOUNT,
    DECISION,
    NONCE,
    RECEIPT,
    ActionStartReimbursement,
    ValidateReimbursementForm,
)
from tests.actions.action_helpers import SENDER, make_tracker, run_action, slot_events, texts
from tests.welfare.test_actions_reimbursement import _attachment

FORM = "reimbursement_form"


def _captioned(attachment_id: int, caption: str) -> dict[str, Any]:
    return {
        "channel": "telegram",
        "message_id": 7,
        "attachment": {"id": attachment_id, "mime_type": "image/jpeg", "size_bytes": 1000},
        "caption": caption,
    }


def test_a_captioned_photo_starts_the_form_with_the_file(db: Engine) -> None:
    photo = _attachment(db, SENDER)
    messages, events = run_action(
        ActionStartReimbursement(),
        make_tracker(
            intent="request_reimbursement",
            text="/request_reimbursement",
            metadata=_captioned(photo, "35 euro"),
        ),
    )
    slots = slot_events(events)
    assert slots[RECEIPT] == str(photo) and slots["citizen_linked"] is True
    assert slots[NONCE] and slots[AMOUNT] is None  # the caption is left to the form's question
    assert "ho salvato la ricevuta" in texts(messages)


def test_a_captioned_photo_mid_form_replaces_the_receipt_and_answers_nothing_else(
    db: Engine,
) -> None:
    first, second = _attachment(db, SENDER), _attachment(db, SENDER)
    for asked in (AMOUNT, DECISION):
        tracker = make_tracker(
            intent="request_reimbursement",
            text="/request_reimbursement",
            slots={RECEIPT: str(first), "requested_slot": asked, NONCE: "nonce-1"},
            metadata=_captioned(second, "35 euro, confermo"),
            active_loop=FORM,
        )
        messages, events = run_action(ValidateReimbursementForm(), tracker)
        slots = slot_events(events)
        assert slots[RECEIPT] == str(second)
        assert AMOUNT not in slots and DECISION not in slots
        assert "Ho sostituito la ricevuta" in texts(messages)
