"""Nothing that cannot be undone or costs something happens on one unconfirmed message.

``test_no_action_acts_on_a_single_unconfirmed_message`` finds every action in actions/
(so a new one is covered), runs it on single messages (its own requests from rules.yml,
a typed «sì» and «no», every object entity filled in, a forged or stale confirmation) and
compares the whole database before and after; a stop of the announcements (the gateway's
custom payload) counts as a change too. Only the actions listed in ``WRITES_ON_ONE_MESSAGE``,
each with the reason, may change anything; every other change fails the test.
"""

from __future__ import annotations

import importlib
import inspect
import itertools
import pkgutil
from datetime import timedelta
from typing import Any

import pytest
import yaml
from action_helpers import (
    NOW,
    Seeded,
    confirm_with_button,
    customs,
    make_tracker,
    run_action,
    slot_events,
    texts,
    yes_payload,
)
from rasa_sdk import Action
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import text as sql
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

import actions
from actions.appointments import ActionCancelAppointment
from actions.confirmation import SLOT
from actions.privacy import (
    ActionForgetMe,
    ActionKeepEverything,
    ActionRequestDataCopy,
    ActionUnsubscribeNews,
)
from actions.vouchers import ActionCancelVoucher
from broadcast import subscriptions as subs
from core.settings import PROJECT_ROOT
from privacy import data_copy
from privacy.erasure import open_requests
from tests.broadcast.helpers import add_subscriber
from welfare.appointments import book, publish_slots
from welfare.ledger.linking import issue_link_code, redeem_link_code
from welfare.ledger.models import Citizen
from welfare.models import Appointment, Voucher, VoucherStatus
from welfare.vouchers import issue_voucher

# Actions that may change stored data on one message, and why that is right.
WRITES_ON_ONE_MESSAGE: dict[str, str] = {
    "action_emergency": "an emergency flags the conversation at once: a person must never wait",
    "action_handoff": "asking for a person puts the conversation in the queue at once",
    "action_default_fallback": "two misses flag the conversation for the team (a person helps)",
    "action_search_services": "a search that finds nothing records the unmet need (statistics)",
    "action_more_results": "same as the search",
    "action_service_details": "«quanto costa un centro estivo?» searches: same as the search",
    "action_book_service": "without a service in context it searches: same as the search",
    "action_link_account": "a one-time code from a Welcome Point links the budget; attempts "
    "are counted against guessing; staff can unlink",
    "validate_link_account_form": "same as action_link_account",
    "action_confirm_payment": "is itself the confirmation: the «Conferma e paga» button of the "
    "quote (price, what the budget covers) shown by action_pay_with_budget; citizens cannot "
    "type payloads (the gateway drops typed «/...»); the same nonce never charges twice",
    "action_book_slot": "the tap on a free time the citizen chose; free of charge, can be "
    "moved or cancelled",
    "action_submit_reimbursement": "is itself the «Conferma» of the request's summary "
    "(reimbursement_form); asks the officer for money, pays nothing",
    "validate_reimbursement_form": "stores the receipt the citizen sent for the request",
}

SAMPLE_TEXTS = {
    "forget_me": "cancella i miei dati",
    "request_data_copy": "voglio una copia dei miei dati",
    "unsubscribe_news": "basta avvisi",
    "cancel_voucher": "annulla voucher",
    "cancel_appointment": "annulla appuntamento",
    "affirm": "sì",
    "deny": "annulla",
}
STOP = {"type": "subscriptions", "action": "stop"}


def every_action() -> list[Action]:
    """One instance of each Action subclass defined in the actions package."""
    for module in pkgutil.iter_modules(actions.__path__):
        importlib.import_module(f"actions.{module.name}")
    found: dict[str, Action] = {}
    stack = list(Action.__subclasses__())
    while stack:
        cls = stack.pop()
        stack += cls.__subclasses__()
        if not cls.__module__.startswith("actions.") or inspect.isabstract(cls):
            continue
        try:
            instance = cls()
            name = instance.name()
        except Exception:  # a base class without a name of its own
            continue
        found[name] = instance
    return [found[name] for name in sorted(found)]


def triggering_intents() -> dict[str, set[str]]:
    """action name -> the intents that lead to it in data/rules.yml."""
    rules = yaml.safe_load((PROJECT_ROOT / "data" / "rules.yml").read_text())["rules"]
    found: dict[str, set[str]] = {}
    for rule in rules:
        steps = rule.get("steps") or []
        for step, following in itertools.pairwise(steps):
            if "intent" in step and "action" in following:
                found.setdefault(following["action"], set()).add(step["intent"])
    return found


def snapshot(engine: Engine) -> dict[str, list[str]]:
    with engine.connect() as conn:
        tables = sa_inspect(conn).get_table_names()
        return {
            t: sorted(repr(tuple(r)) for r in conn.execute(sql(f'SELECT * FROM "{t}"')))
            for t in tables
            if t != "alembic_version"
        }


def changed_tables(before: dict[str, list[str]], after: dict[str, list[str]]) -> list[str]:
    return [t for t in sorted(after) if before.get(t) != after[t]]


@pytest.fixture
def world(db: Engine, seeded: Seeded) -> dict[str, Any]:
    """A conversation with consent, announcements, a linked budget, a voucher and an
    appointment: everything an action could erase, stop or cancel."""
    with Session(db, expire_on_commit=False) as session:
        conversation = add_subscriber(session, quartieri=["Q5"], interests=["after_school"])
        code = issue_link_code(session, citizen_id=seeded.anna_id, issued_by="test", now=NOW)
        redeem_link_code(session, conversation_id=conversation, code=code, now=NOW)
        anna = session.get(Citizen, seeded.anna_id)
        assert anna is not None
        voucher, _ = issue_voucher(
            session,
            citizen=anna,
            conversation_id=conversation,
            service_code="CE-GAV",
            nonce="seed01",
            now=NOW,
        )
        slots = publish_slots(
            session,
            place_code="WP-RIF",
            first_start=NOW + timedelta(days=2),
            minutes=30,
            count=3,
            created_by="staff:1",
            now=NOW,
        )
        booking = book(session, slot_id=slots[0].id or 0, conversation_id=conversation, now=NOW)
        session.commit()
        return {
            "conversation": conversation,
            "voucher_code": voucher.code,
            "appointment_number": booking.number,
            "free_slot": str(slots[1].id),
            "link_code": seeded.fresh_code,
        }


def messages_for(action: str, world: dict[str, Any], intents: set[str]) -> list[dict[str, Any]]:
    """Single messages: each as typed, and as a payload with every object entity."""
    objects = {
        "voucher_code": world["voucher_code"],
        "appointment_number": world["appointment_number"],
        "service_code": "CE-GAV",
        "place_code": "WP-RIF",
        "confirm_nonce": "f0f0f0f0f0f0",  # forged: no question asked it
    }
    cases = []
    for intent in sorted(intents | {"affirm", "deny"}):
        cases.append({"intent": intent, "text": SAMPLE_TEXTS.get(intent, intent.replace("_", " "))})
        entities = [{"entity": k, "value": v} for k, v in objects.items()]
        cases.append({"intent": intent, "text": f"/{intent}", "entities": entities})
    # a stale question: the yes comes later, or with another nonce
    for kind, target in (
        ("forget_me", None),
        ("data_copy", None),
        ("unsubscribe", None),
        ("cancel_voucher", world["voucher_code"]),
        ("cancel_appointment", world["appointment_number"]),
    ):
        stale = {"kind": kind, "nonce": "a1b2c3d4e5f6", "turn": -3, "target": target}
        cases.append({"intent": "affirm", "text": "sì", "slots": {SLOT: stale}})
        forged = [{"entity": "confirm_nonce", "value": "000000000000"}]
        cases.append(
            {"intent": "affirm", "text": "/affirm", "entities": forged, "slots": {SLOT: stale}}
        )
    return cases


def test_every_action_is_found() -> None:
    names = {a.name() for a in every_action()}
    assert {"action_forget_me", "action_cancel_voucher", "action_cancel_appointment"} <= names
    assert "action_request_data_copy" in names
    assert "action_unsubscribe_news" in names and len(names) >= 30


def test_no_action_acts_on_a_single_unconfirmed_message(db: Engine, world: dict[str, Any]) -> None:
    triggers = triggering_intents()
    offenders: list[str] = []
    for action in every_action():
        name = action.name()
        for case in messages_for(name, world, triggers.get(name, set())):
            before = snapshot(db)
            tracker = make_tracker(
                intent=case["intent"],
                text=case["text"],
                entities=case.get("entities", ()),
                slots=case.get("slots"),
                sender=world["conversation"],
            )
            messages, _ = run_action(action, tracker)
            changed = changed_tables(before, snapshot(db))
            if STOP in customs(messages):
                changed.append("announcements (stop payload)")
            if changed and name not in WRITES_ON_ONE_MESSAGE:
                offenders.append(f"{name} on {case['intent']} «{case['text']}»: {changed}")
    assert offenders == [], "\n".join(offenders)
    # and the things that must be asked are all still there
    with Session(db) as session:
        assert open_requests(session) == []
        assert data_copy.open_requests(session) == []
        assert subs.choices(session, conversation_id=world["conversation"]).active
        voucher = session.exec(select(Voucher).where(Voucher.code == world["voucher_code"])).one()
        assert voucher.status == VoucherStatus.issued
        number = world["appointment_number"]
        appointment = session.exec(select(Appointment).where(Appointment.number == number)).one()
        assert appointment.cancelled_at is None


def _ask(action: Action, intent: str, world: dict[str, Any], **kw: Any) -> Any:
    tracker = make_tracker(
        intent=intent, text=SAMPLE_TEXTS[intent], sender=world["conversation"], **kw
    )
    return run_action(action, tracker)


@pytest.mark.parametrize(
    ("action", "intent"),
    [
        (ActionForgetMe(), "forget_me"),
        (ActionRequestDataCopy(), "request_data_copy"),
        (ActionUnsubscribeNews(), "unsubscribe_news"),
        (ActionCancelVoucher(), "cancel_voucher"),
        (ActionCancelAppointment(), "cancel_appointment"),
    ],
)
def test_each_asks_with_buttons_then_acts_on_the_yes(
    db: Engine, world: dict[str, Any], action: Action, intent: str
) -> None:
    before = snapshot(db)
    asked = _ask(action, intent, world)
    assert snapshot(db) == before and STOP not in customs(asked[0])
    titles = [b["title"] for m in asked[0] for b in m.get("buttons") or []]
    assert titles[0].startswith("Sì") and titles[1].startswith("No"), titles
    assert "?" in texts(asked[0])
    done, events = confirm_with_button(action, asked, sender=world["conversation"])
    assert snapshot(db) != before or STOP in customs(done), texts(done)
    assert slot_events(events)[SLOT] is None  # the question is over


def test_a_typed_yes_right_after_the_question_confirms(db: Engine, world: dict[str, Any]) -> None:
    _messages, events = _ask(ActionForgetMe(), "forget_me", world)
    pending = slot_events(events)[SLOT]
    question = {"event": "user", "text": "cancella i miei dati", "parse_data": {}}
    right_after = make_tracker(
        intent="affirm",
        text="sì, confermo",
        slots={SLOT: pending},
        events=[question],
        sender=world["conversation"],
    )
    done, _ = run_action(ActionForgetMe(), right_after)
    assert "Ho passato la tua richiesta" in texts(done)
    with Session(db) as session:
        assert len(open_requests(session)) == 1


def test_a_yes_after_another_request_does_not_confirm(db: Engine, world: dict[str, Any]) -> None:
    _, events = _ask(ActionForgetMe(), "forget_me", world)
    pending = slot_events(events)[SLOT]
    earlier = [{"event": "user", "text": t, "parse_data": {}} for t in ("cancella", "ciao")]
    later = make_tracker(
        intent="affirm",
        text="sì",
        slots={SLOT: pending},
        events=earlier,
        sender=world["conversation"],
    )
    messages, _ = run_action(ActionForgetMe(), later)
    assert "Vuoi davvero" in texts(messages)  # asked again
    with Session(db) as session:
        assert open_requests(session) == []


def test_no_keeps_everything(db: Engine, world: dict[str, Any]) -> None:
    asked = _ask(ActionCancelVoucher(), "cancel_voucher", world)
    assert yes_payload(asked[0]).startswith("/cancel_voucher")
    pending = slot_events(asked[1])[SLOT]
    before = snapshot(db)
    tracker = make_tracker(intent="deny", text="annulla", slots={SLOT: pending})
    kept, events = run_action(ActionKeepEverything(), tracker)
    assert "non ho cambiato nulla" in texts(kept) and slot_events(events)[SLOT] is None
    assert snapshot(db) == before
