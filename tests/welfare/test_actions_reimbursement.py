"""Chat: a reimbursement request, one question at a time (receipt, amount, date, provider, for
whom, summary), «annulla» at any point, polite refusals that change nothing, the request
numbered once however many times «Conferma» is tapped."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from actions import common
from actions.reimbursement import (
    AMOUNT,
    BENEFICIARY,
    DECISION,
    NONCE,
    PAID_ON,
    PROVIDER,
    PROVIDER_CODE,
    RECEIPT,
    ActionAskReimbursementDecision,
    ActionStartReimbursement,
    ActionSubmitReimbursement,
    ValidateReimbursementForm,
    is_cancel,
)
from conversations.models import Attachment, Author, Channel, Conversation, Direction, Kind, Message
from conversations.models import Status as MessageStatus
from tests.actions.action_helpers import (
    OTHER_SENDER,
    SENDER,
    STRANGER,
    button_payloads,
    make_tracker,
    run_action,
    slot_events,
    texts,
)
from welfare.intake import SELF
from welfare.models import Reimbursement, ReimbursementStatus

FORM = "reimbursement_form"


def _attachment(engine: Engine, conversation_id: str, mime: str = "image/jpeg") -> int:
    with Session(engine) as session:
        if (
            session.exec(
                select(Conversation).where(Conversation.conversation_id == conversation_id)
            ).first()
            is None
        ):
            session.add(
                Conversation(
                    conversation_id=conversation_id,
                    channel=Channel.telegram,
                    chat_key=conversation_id,
                )
            )
            session.flush()
        message = Message(
            conversation_id=conversation_id,
            channel=Channel.telegram,
            direction=Direction.inbound,
            author=Author.citizen,
            kind=Kind.attachment,
            status=MessageStatus.processed,
        )
        session.add(message)
        session.flush()
        assert message.id is not None
        attachment = Attachment(
            message_id=message.id,
            conversation_id=conversation_id,
            mime_type=mime,
            size_bytes=1000,
            sha256="0" * 64,
            path="2026/11/x.jpg",
        )
        session.add(attachment)
        session.commit()
        assert attachment.id is not None
        return attachment.id


def _photo(attachment_id: int) -> dict[str, Any]:
    return {"attachment": {"id": attachment_id, "mime_type": "image/jpeg", "size_bytes": 1000}}


def _answer(
    slots: dict[str, Any],
    text: str,
    *,
    intent: str = "inform",
    entities: tuple[dict[str, Any], ...] = (),
    metadata: dict[str, Any] | None = None,
    sender: str = SENDER,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    tracker = make_tracker(
        intent=intent,
        text=text,
        entities=entities,
        slots=slots,
        metadata=metadata,
        active_loop=FORM,
        sender=sender,
    )
    return run_action(ValidateReimbursementForm(), tracker)


FILLED = {
    RECEIPT: None,
    AMOUNT: "3550",
    PAID_ON: "2026-11-24",
    PROVIDER: "Cooperativa Ponte",
    PROVIDER_CODE: "ponte",
    BENEFICIARY: SELF,
    NONCE: "nonce-123456",
}


# --- starting ---------------------------------------------------------------------------------


def test_not_linked_is_told_how_to_link(db: Engine) -> None:
    messages, events = run_action(
        ActionStartReimbursement(),
        make_tracker(intent="request_reimbursement", text="voglio un rimborso", sender=STRANGER),
    )
    assert "Per chiedere un rimborso devo prima collegare" in texts(messages)
    assert "Welcome Point" in texts(messages)
    assert slot_events(events)["citizen_linked"] is False


def test_not_linked_photo_is_kept_for_later(db: Engine) -> None:
    photo = _attachment(db, STRANGER)
    messages, events = run_action(
        ActionStartReimbursement(),
        make_tracker(
            intent="request_reimbursement",
            text="/request_reimbursement",
            metadata=_photo(photo),
            sender=STRANGER,
        ),
    )
    assert "Ho tenuto la ricevuta" in texts(messages)
    assert slot_events(events)[RECEIPT] == str(photo)


def test_start_with_the_photo_keeps_it(db: Engine) -> None:
    photo = _attachment(db, SENDER)
    messages, events = run_action(
        ActionStartReimbursement(),
        make_tracker(
            intent="request_reimbursement", text="/request_reimbursement", metadata=_photo(photo)
        ),
    )
    slots = slot_events(events)
    assert slots[RECEIPT] == str(photo) and slots["citizen_linked"] is True
    assert slots[NONCE] and slots[AMOUNT] is None and slots[DECISION] is None
    assert "ho salvato la ricevuta" in texts(messages)


def test_start_with_words_asks_for_the_photo(db: Engine) -> None:
    _, events = run_action(
        ActionStartReimbursement(),
        make_tracker(intent="request_reimbursement", text="voglio il rimborso del nido"),
    )
    assert slot_events(events)[RECEIPT] is None


def test_another_conversations_file_is_never_taken(db: Engine) -> None:
    theirs = _attachment(db, OTHER_SENDER)
    _, events = run_action(
        ActionStartReimbursement(),
        make_tracker(intent="request_reimbursement", text="/x", metadata=_photo(theirs)),
    )
    assert slot_events(events)[RECEIPT] is None
    messages, events = _answer(
        {"requested_slot": RECEIPT}, "/request_reimbursement", metadata=_photo(theirs)
    )
    assert "Non trovo il file" in texts(messages)
    assert slot_events(events)[RECEIPT] is None


# --- the questions ------------------------------------------------------------------------------


def test_text_instead_of_the_receipt_asks_for_the_photo(db: Engine) -> None:
    messages, events = _answer({"requested_slot": RECEIPT}, "ce l'ho a casa", intent="inform")
    assert "mandami una foto" in texts(messages)
    assert slot_events(events)[RECEIPT] is None
    photo = _attachment(db, SENDER, mime="application/pdf")
    _, events = _answer(
        {"requested_slot": RECEIPT},
        "/request_reimbursement",
        intent="request_reimbursement",
        metadata=_photo(photo),
    )
    assert slot_events(events)[RECEIPT] == str(photo)


@pytest.mark.parametrize(
    ("slot", "text", "intent", "value"),
    [
        (AMOUNT, "35,50 €", "inform", "3550"),
        (AMOUNT, "€ 12", "check_budget", "1200"),  # whatever the NLU thinks, it is the answer
        (PAID_ON, "ieri", "inform", "2026-11-24"),
        (PAID_ON, "12 novembre", "book_appointment", "2026-11-12"),
        (PAID_ON, "12/11", "inform", "2026-11-12"),
        (BENEFICIARY, "per mia madre", "inform", "familiare (madre)"),
    ],
)
def test_answers(db: Engine, slot: str, text: str, intent: str, value: str) -> None:
    messages, events = _answer({"requested_slot": slot}, text, intent=intent)
    assert slot_events(events)[slot] == value
    assert not texts(messages)


@pytest.mark.parametrize(
    ("slot", "text", "says"),
    [
        (AMOUNT, "boh", "Non ho capito l'importo"),
        (AMOUNT, "0", "più di zero"),
        (PAID_ON, "26/11/2026", "nel futuro"),
        (PAID_ON, "3 marzo 2020", "in poi"),
        (PAID_ON, "non ricordo", "Non ho capito la data"),
        (PROVIDER, "?", "Scrivi il nome"),
        (BENEFICIARY, "boh", "Per chi era la spesa"),
    ],
)
def test_bad_answers_change_nothing(db: Engine, slot: str, text: str, says: str) -> None:
    slots = {**FILLED, slot: None, "requested_slot": slot}
    messages, events = _answer(slots, text)
    assert says in texts(messages)
    changed = slot_events(events)
    assert changed[slot] is None
    assert all(changed.get(s, slots[s]) == slots[s] for s in FILLED)


@pytest.mark.parametrize(
    ("slot", "text", "value"),
    [
        (PAID_ON, "yesterday", "2026-11-24"),
        (PAID_ON, "on 3 March", "2026-03-03"),
        (PAID_ON, "March 3rd", "2026-03-03"),
        (PAID_ON, "the 3rd of March", "2026-03-03"),
        (PAID_ON, "last Monday", "2026-11-23"),
        (BENEFICIARY, "for me", SELF),
        (BENEFICIARY, "for my son", "figlio o figlia"),
        (BENEFICIARY, "for my mother", "familiare (madre)"),
    ],
)
def test_answers_typed_in_english(db: Engine, slot: str, text: str, value: str) -> None:
    """An English conversation's answers are read (and recorded as the Italian ones)."""
    messages, events = _answer({"requested_slot": slot, "language": "en"}, text)
    assert slot_events(events)[slot] == value
    assert not texts(messages)


@pytest.mark.parametrize(
    ("slot", "text", "says"),
    [
        (PAID_ON, "tomorrow", "This date is in the future. Write the day you already paid"),
        (PAID_ON, "next Monday", "This date is in the future."),
        (PAID_ON, "no idea", "I did not understand the date. Write the day you paid, for "
         "example «yesterday», «12 November» or «12/11» (day/month)."),
        (PAID_ON, "February 30", "This day is not in the calendar."),
        (BENEFICIARY, "no idea", "Who was the cost for? Tap a button below, or write, for "
         "example, «for me» or «for my son»."),
    ],
)  # fmt: skip
def test_bad_answers_in_english_are_explained_in_english(
    db: Engine, slot: str, text: str, says: str
) -> None:
    slots = {**FILLED, slot: None, "requested_slot": slot, "language": "en"}
    messages, events = _answer(slots, text)
    assert says in texts(messages)
    changed = slot_events(events)
    assert changed[slot] is None
    assert all(changed.get(s, slots[s]) == slots[s] for s in FILLED)


def test_the_day_is_the_calendar_day_in_florence(
    db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At 00:30 in Florence (23:30 UTC the day before), «today» is Florence's day."""
    monkeypatch.setattr(common, "clock", lambda: datetime(2026, 11, 24, 23, 30, tzinfo=UTC))
    for text, value in (("today", "2026-11-25"), ("yesterday", "2026-11-24"),
                        ("oggi", "2026-11-25")):  # fmt: skip
        _, events = _answer({"requested_slot": PAID_ON, "language": "en"}, text)
        assert slot_events(events)[PAID_ON] == value, text
    messages, events = _answer({"requested_slot": PAID_ON, "language": "en"}, "26/11/2026")
    assert slot_events(events)[PAID_ON] is None and "in the future" in texts(messages)


def test_provider_matched_to_the_catalogue_or_kept_as_written(db: Engine) -> None:
    _, events = _answer({"requested_slot": PROVIDER}, "alla cooperativa ponte")
    assert slot_events(events)[PROVIDER] == "Cooperativa Ponte"
    assert slot_events(events)[PROVIDER_CODE] == "ponte"
    _, events = _answer({"requested_slot": PROVIDER}, "Farmacia Comunale 5")
    assert slot_events(events)[PROVIDER] == "Farmacia Comunale 5"
    assert slot_events(events)[PROVIDER_CODE] is None


def test_beneficiary_buttons(db: Engine) -> None:
    _, events = _answer(
        {"requested_slot": BENEFICIARY},
        '/inform{"beneficiary":"child"}',
        entities=({"entity": "beneficiary", "value": "child"},),
    )
    assert slot_events(events)[BENEFICIARY] == "figlio o figlia"


def test_a_new_photo_at_any_question_replaces_the_receipt(db: Engine) -> None:
    first, second = _attachment(db, SENDER), _attachment(db, SENDER)
    slots = {RECEIPT: str(first), "requested_slot": AMOUNT}
    messages, events = _answer(
        slots, "/request_reimbursement", intent="request_reimbursement", metadata=_photo(second)
    )
    assert slot_events(events)[RECEIPT] == str(second)
    assert AMOUNT not in slot_events(events)
    assert "Ho sostituito la ricevuta" in texts(messages)


@pytest.mark.parametrize("text", ["annulla", "Annulla!", "lascia stare", "basta così", "stop"])
def test_annulla_at_any_question(db: Engine, text: str) -> None:
    for requested in (RECEIPT, AMOUNT, PAID_ON, PROVIDER, BENEFICIARY, DECISION):
        _, events = _answer({**FILLED, "requested_slot": requested}, text, intent="cancel_voucher")
        assert slot_events(events) == {DECISION: "cancel", "requested_slot": None}


def test_is_cancel_only_for_short_stop_words() -> None:
    assert is_cancel("annulla la richiesta")
    assert not is_cancel("Cooperativa Il Ponte")
    assert not is_cancel("ho pagato 35 euro, annullate la multa del nido per favore adesso grazie")


def test_emergency_and_a_person_are_let_through(db: Engine) -> None:
    for intent in ("emergency", "human_handoff"):
        messages, events = _answer({"requested_slot": AMOUNT}, "aiuto", intent=intent)
        assert events == [] and messages == []  # the form rejects: the rules answer


def test_summary_then_confirm(db: Engine) -> None:
    photo = _attachment(db, SENDER)
    slots = {**FILLED, RECEIPT: str(photo)}
    messages, _ = run_action(
        ActionAskReimbursementDecision(),
        make_tracker(intent="inform", text="per me", slots=slots, active_loop=FORM),
    )
    text = texts(messages)
    for part in ("35,50 €", "24 novembre 2026", "Cooperativa Ponte", "Per chi: te", "foto"):
        assert part in text
    confirm = '/confirm_reimbursement{"reimbursement_nonce":"nonce-123456"}'
    assert button_payloads(messages) == [confirm, "/deny"]

    asked = {**slots, "requested_slot": DECISION}
    entity = ({"entity": "reimbursement_nonce", "value": "nonce-123456"},)
    _, events = _answer(asked, confirm, intent="confirm_reimbursement", entities=entity)
    assert slot_events(events)[DECISION] == "confirm"
    _, events = _answer(asked, "/deny", intent="deny")
    assert slot_events(events) == {DECISION: "cancel", "requested_slot": None}
    stale = ({"entity": "reimbursement_nonce", "value": "older-nonce"},)
    messages, events = _answer(asked, confirm, intent="confirm_reimbursement", entities=stale)
    assert slot_events(events)[DECISION] is None and "precedente" in texts(messages)
    messages, events = _answer(asked, "forse", intent="inform")
    assert slot_events(events)[DECISION] is None and "Premi «Conferma»" in texts(messages)


def test_the_summary_names_a_relative_in_the_citizens_language(db: Engine) -> None:
    photo = _attachment(db, SENDER)
    slots = {**FILLED, RECEIPT: str(photo), BENEFICIARY: "familiare (suocera)"}
    messages, _ = run_action(
        ActionAskReimbursementDecision(),
        make_tracker(intent="inform", text="x", slots={**slots, "language": "en"}),
    )
    assert "- For whom: family member (mother-in-law)" in texts(messages).splitlines()
    assert "suocera" not in texts(messages) and "24 November 2026" in texts(messages)
    messages, _ = run_action(
        ActionAskReimbursementDecision(), make_tracker(intent="inform", text="x", slots=slots)
    )
    assert "- Per chi: familiare (suocera)" in texts(messages).splitlines()


# --- submitting ---------------------------------------------------------------------------------


def _requests(engine: Engine) -> list[Reimbursement]:
    with Session(engine) as session:
        return list(session.exec(select(Reimbursement)).all())


def test_confirm_twice_makes_one_request(db: Engine) -> None:
    photo = _attachment(db, SENDER)
    slots = {**FILLED, RECEIPT: str(photo), DECISION: "confirm"}
    tap = '/confirm_reimbursement{"reimbursement_nonce":"nonce-123456"}'
    entity = ({"entity": "reimbursement_nonce", "value": "nonce-123456"},)
    messages, events = run_action(
        ActionSubmitReimbursement(),
        make_tracker(intent="confirm_reimbursement", text=tap, entities=entity, slots=slots),
    )
    (request,) = _requests(db)
    assert request.number in texts(messages) and "Ho inviato" in texts(messages)
    assert request.amount_cents == 3550 and request.attachment_id == photo
    assert request.paid_on.isoformat() == "2026-11-24" and request.beneficiary == SELF
    assert request.provider_name == "Cooperativa Ponte"
    assert request.status == ReimbursementStatus.submitted
    assert all(v is None for v in slot_events(events).values())

    # the second tap arrives after the form: the slots are empty, the nonce finds the request
    again, _ = run_action(
        ActionSubmitReimbursement(),
        make_tracker(intent="confirm_reimbursement", text=tap, entities=entity),
    )
    assert "Hai già inviato questa richiesta" in texts(again) and request.number in texts(again)
    assert len(_requests(db)) == 1


def test_cancelled_sends_nothing(db: Engine) -> None:
    slots = {**FILLED, RECEIPT: str(_attachment(db, SENDER)), DECISION: "cancel"}
    messages, events = run_action(
        ActionSubmitReimbursement(), make_tracker(intent="deny", text="/deny", slots=slots)
    )
    assert "ho annullato" in texts(messages)
    assert _requests(db) == []
    assert all(v is None for v in slot_events(events).values())


def test_an_old_conferma_changes_nothing(db: Engine) -> None:
    entity = ({"entity": "reimbursement_nonce", "value": "never-submitted"},)
    messages, events = run_action(
        ActionSubmitReimbursement(),
        make_tracker(intent="confirm_reimbursement", text="/x", entities=entity),
    )
    assert "non è più attiva" in texts(messages)
    assert events == [] and _requests(db) == []
