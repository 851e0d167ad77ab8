"""Chat: a Welcome Point with free slots offers an appointment; choose, book, move, cancel
by buttons; a slot taken meanwhile is refused and others offered."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from actions.appointments import ActionBookSlot, ActionCancelAppointment, ActionChooseSlot
from actions.welcome_points import ActionFindWelcomePoint
from tests.actions.action_helpers import NOW, OTHER_SENDER, button_payloads, texts
from tests.welfare.conftest import tap, tap_and_confirm
from welfare.appointments import publish_slots
from welfare.models import Appointment, AppointmentSlot


def _publish(engine: Engine) -> list[int]:
    with Session(engine, expire_on_commit=False) as s:
        slots = publish_slots(
            s,
            place_code="WP-RIF",
            first_start=NOW + timedelta(days=1),
            minutes=30,
            count=3,
            created_by="staff:1",
            now=NOW,
        )
        s.commit()
        return [slot.id or 0 for slot in slots]


def _active(engine: Engine) -> list[Appointment]:
    with Session(engine) as s:
        return list(
            s.exec(select(Appointment).where(col(Appointment.cancelled_at).is_(None))).all()
        )


def _first(payloads: list[str], prefix: str) -> str:
    return next(p for p in payloads if p.startswith(prefix))


def test_points_offer_booking_then_book_move_cancel(db: Engine) -> None:
    ids = _publish(db)
    points = tap(ActionFindWelcomePoint(), '/find_welcome_point{"neighbourhood":"Q5"}')
    choose = _first(button_payloads(points), "/choose_slot")
    assert choose == '/choose_slot{"place_code":"WP-RIF"}'
    offered = tap(ActionChooseSlot(), choose)
    slots = [p for p in button_payloads(offered) if p.startswith("/book_slot")]
    assert len(slots) == 3 and "Welcome Point Rifredi" in texts(offered)

    booked = tap(ActionBookSlot(), slots[0])
    assert "appuntamento prenotato" in texts(booked) and "promemoria" in texts(booked)
    [mine] = _active(db)
    assert mine.slot_id == ids[0]

    taken = tap(ActionBookSlot(), slots[0], sender=OTHER_SENDER)
    assert "appena stato prenotato" in texts(taken) or "non è più disponibile" in texts(taken)
    assert len(_active(db)) == 1

    move = _first(button_payloads(booked), "/choose_slot")
    assert mine.number in move
    new_slots = [p for p in button_payloads(tap(ActionChooseSlot(), move)) if "book_slot" in p]
    assert ids[0] not in [int(p.split('"slot_id":"')[1].split('"')[0]) for p in new_slots]
    moved = tap(ActionBookSlot(), new_slots[0])
    assert "spostato" in texts(moved)
    [after] = _active(db)
    assert after.slot_id != ids[0]

    asked = tap(ActionCancelAppointment(), "annulla appuntamento")
    assert "Vuoi annullare l'appuntamento" in texts(asked) and len(_active(db)) == 1
    gone = tap_and_confirm(ActionCancelAppointment(), "annulla appuntamento")
    assert "annullato" in texts(gone) and _active(db) == []
    assert "Non hai appuntamenti" in texts(tap(ActionCancelAppointment(), "annulla appuntamento"))


def test_no_free_slots(db: Engine) -> None:
    points = tap(ActionFindWelcomePoint(), '/find_welcome_point{"neighbourhood":"Q5"}')
    assert not any(p.startswith("/choose_slot") for p in button_payloads(points))
    none = tap(ActionChooseSlot(), '/choose_slot{"place_code":"WP-RIF"}')
    assert "non ci sono orari liberi" in texts(none)
    with Session(db) as s:
        assert s.exec(select(AppointmentSlot)).all() == []
