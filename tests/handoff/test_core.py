"""The hand-off's data layer on SQLite and PostgreSQL: one open hand-off per conversation,
claims and transfers only by the holder, notes, labels, canned replies, CSAT."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from care import handoff as core
from care.flags import open_flags, raise_flag
from care.handoff_models import HandoffStatus, Outcome
from care.models import FlagKind, FlagPriority
from care.sla import OfficeHours
from core.db import session_scope
from core.timeutil import utcnow
from tests.handoff.conftest import make_care_manager

OPEN = OfficeHours.parse("tutti i giorni 00:00-24:00")
CID = "a" * 32


def test_one_open_handoff_per_conversation_and_escalation(engine: Engine) -> None:
    now = utcnow()
    with session_scope(engine) as session:
        first = core.request_handoff(session, conversation_id=CID, now=now, office=OPEN)
        again = core.request_handoff(session, conversation_id=CID, now=now, office=OPEN)
        assert first.created and not again.created and not again.escalated
        assert again.handoff.id == first.handoff.id
        assert first.handoff.sla_due_at == now + timedelta(minutes=30)
        urgent = core.request_handoff(
            session, conversation_id=CID, priority="top", reason="emergency", now=now, office=OPEN
        )
        assert urgent.escalated and urgent.handoff.priority == "top"
        assert urgent.handoff.priority_rank == 0
        assert urgent.handoff.sla_due_at == now + timedelta(minutes=5)
        odd = core.request_handoff(
            session, conversation_id="b" * 32, priority="subito", now=now, office=OPEN
        )
        assert odd.handoff.priority == "normal"


def test_claim_transfer_close(engine: Engine) -> None:
    anna, bruno = make_care_manager(engine), make_care_manager(engine)
    now = utcnow()
    with session_scope(engine) as session:
        hid = core.request_handoff(session, conversation_id=CID, now=now, office=OPEN).handoff.id
        raise_flag(
            session,
            conversation_id=CID,
            kind=FlagKind.handoff,
            priority=FlagPriority.normal,
            source="test",
        )
    with session_scope(engine) as session:
        assert not core.close(
            session, handoff_id=hid, staff_id=anna.id, outcome=Outcome.resolved, now=now
        )
        assert core.claim(session, handoff_id=hid, staff_id=anna.id, now=now)
        assert not core.claim(session, handoff_id=hid, staff_id=bruno.id, now=now)
        assert not core.transfer(
            session, handoff_id=hid, from_staff_id=bruno.id, to_staff_id=anna.id, now=now
        )
        with pytest.raises(core.HandoffError):
            core.transfer(
                session, handoff_id=hid, from_staff_id=anna.id, to_staff_id=anna.id, now=now
            )
        assert core.transfer(
            session, handoff_id=hid, from_staff_id=anna.id, to_staff_id=bruno.id, now=now
        )
    with session_scope(engine) as session:
        handoff = core.get_handoff(session, handoff_id=hid)
        assert handoff.assigned_to == bruno.id and handoff.status == HandoffStatus.assigned
        assert core.transfer(
            session, handoff_id=hid, from_staff_id=bruno.id, to_staff_id=None, now=now
        )
    with session_scope(engine) as session:
        handoff = core.get_handoff(session, handoff_id=hid)
        assert handoff.status == HandoffStatus.waiting and handoff.assigned_to is None
        assert core.claim(session, handoff_id=hid, staff_id=anna.id, now=now)
        assert core.close(
            session, handoff_id=hid, staff_id=anna.id, outcome=Outcome.referred, now=now
        )
        assert not core.close(
            session, handoff_id=hid, staff_id=anna.id, outcome=Outcome.resolved, now=now
        )
    with session_scope(engine) as session:
        handoff = core.get_handoff(session, handoff_id=hid)
        assert handoff.status == HandoffStatus.closed and handoff.outcome == "referred"
        assert handoff.closed_by == anna.id
        assert open_flags(session, conversation_id=CID) == []
        kinds = [t.kind for t in core.transfers_of(session, handoff_id=hid)]
        assert kinds == ["claim", "transfer", "release", "claim"]
        # a new request after closing is a new hand-off
        assert core.request_handoff(session, conversation_id=CID, now=now, office=OPEN).created


def test_notes_labels_canned(engine: Engine) -> None:
    anna = make_care_manager(engine)
    now = utcnow()
    with session_scope(engine) as session:
        hid = core.request_handoff(session, conversation_id=CID, now=now, office=OPEN).handoff.id
        note = core.add_note(
            session, handoff_id=hid, author_id=anna.id, text="  chiamare lunedì ", now=now
        )
        assert note.text == "chiamare lunedì"
        with pytest.raises(core.HandoffError):
            core.add_note(session, handoff_id=hid, author_id=anna.id, text="  ", now=now)
        core.add_label(session, handoff_id=hid, name="casa")
        core.add_label(session, handoff_id=hid, name=" casa ")
        label = core.add_label(session, handoff_id=hid, name="lavoro")
    with session_scope(engine) as session:
        assert [n.text for n in core.notes_of(session, conversation_id=CID)] == ["chiamare lunedì"]
        assert [x.name for x in core.labels_of(session, handoff_ids=[hid])[hid]] == [
            "casa",
            "lavoro",
        ]
        assert core.remove_label(session, handoff_id=hid, label_id=label.id)
        assert not core.remove_label(session, handoff_id=hid, label_id=label.id)
        # the migration's canned replies, expanded from /code
        assert "Welcome Point" in core.expand_canned(session, "/orari")
        assert core.expand_canned(session, "/Orari ") == core.expand_canned(session, "/orari")
        assert core.expand_canned(session, "ciao /orari") == "ciao /orari"
        with pytest.raises(core.HandoffError):
            core.expand_canned(session, "/boh")
        reply = core.save_canned(
            session, code="/Bus", title="Autobus", text="Linea 14.", staff_id=anna.id, now=now
        )
        assert reply.code == "bus" and core.expand_canned(session, "/bus") == "Linea 14."
        core.set_canned_active(session, reply_id=reply.id, active=False, staff_id=anna.id, now=now)
        with pytest.raises(core.HandoffError):
            core.expand_canned(session, "/bus")
        with pytest.raises(core.HandoffError):
            core.save_canned(
                session, code="con spazi", title="x", text="y", staff_id=anna.id, now=now
            )


def test_csat(engine: Engine) -> None:
    anna = make_care_manager(engine)
    now = utcnow()
    with session_scope(engine) as session:
        hid = core.request_handoff(session, conversation_id=CID, now=now, office=OPEN).handoff.id
        core.claim(session, handoff_id=hid, staff_id=anna.id, now=now)
        assert core.pending_csat(session, conversation_id=CID) is None
        core.close(session, handoff_id=hid, staff_id=anna.id, outcome=Outcome.resolved, now=now)
        core.ask_csat(session, handoff_id=hid, conversation_id=CID, now=now)
    assert core.parse_csat_payload(core.csat_payload(hid, 2)) == (hid, 2)
    assert core.parse_csat_payload("csat:1:9") is None
    assert core.parse_csat_payload("/greet") is None
    with session_scope(engine) as session:
        assert core.pending_csat(session, conversation_id=CID) is not None
        assert not core.answer_csat(
            session, handoff_id=hid, conversation_id="b" * 32, score=3, now=now
        )
        assert core.answer_csat(session, handoff_id=hid, conversation_id=CID, score=3, now=now)
        assert not core.answer_csat(session, handoff_id=hid, conversation_id=CID, score=1, now=now)
    with Session(engine) as session:
        assert core.pending_csat(session, conversation_id=CID) is None
        assert core.csat_of(session, handoff_ids=[hid])[hid].score == 3
