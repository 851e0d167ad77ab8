"""Appointments: slots published, booked once (also when racing, SQLite and PostgreSQL),
cancelled, moved; reminders of tomorrow claimed once."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from core.db import session_scope
from welfare.appointments import (
    NotCancellable,
    SlotTaken,
    SlotUnavailable,
    book,
    cancel,
    due_reminders,
    free_slots,
    mark_reminded,
    move,
    places_with_free_slots,
    publish_slots,
    reminder_text,
)
from welfare.models import Appointment, AppointmentSlot

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)  # 11:00 in Florence
TOMORROW_9 = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)  # 09:00 in Florence


def _slots(session: Session, count: int = 4) -> list[AppointmentSlot]:
    slots = publish_slots(
        session,
        place_code="WP-RIF",
        first_start=TOMORROW_9,
        minutes=30,
        count=count,
        created_by="staff:1",
        now=NOW,
    )
    session.commit()
    return slots


def test_publish_book_cancel_move(session: Session) -> None:
    slots = _slots(session)
    assert len(slots) == 4 and slots[1].starts_at == TOMORROW_9 + timedelta(minutes=30)
    assert _slots(session) == []  # the same times again: nothing new
    first = book(session, slot_id=slots[0].id or 0, conversation_id="a" * 32, now=NOW)
    session.commit()
    assert first.number.startswith("APP-")
    assert [s.id for s in free_slots(session, place_code="WP-RIF", now=NOW)] == [
        s.id for s in slots[1:]
    ]
    with pytest.raises(SlotTaken):
        book(session, slot_id=slots[0].id or 0, conversation_id="b" * 32, now=NOW)
    session.rollback()
    moved = move(session, appointment=first, slot_id=slots[2].id or 0, now=NOW)
    session.commit()
    assert moved.slot_id == slots[2].id and first.cancelled_at is not None
    free = {s.id for s in free_slots(session, place_code="WP-RIF", now=NOW)}
    assert slots[0].id in free and slots[2].id not in free
    cancel(session, appointment=moved, now=NOW)
    session.commit()
    with pytest.raises(NotCancellable):
        cancel(session, appointment=moved, now=NOW)
    session.rollback()
    with pytest.raises(SlotUnavailable):
        book(session, slot_id=slots[0].id or 0, conversation_id="c" * 32, now=TOMORROW_9)


def test_move_to_a_taken_slot_keeps_the_booking(session: Session) -> None:
    slots = _slots(session)
    mine = book(session, slot_id=slots[0].id or 0, conversation_id="a" * 32, now=NOW)
    book(session, slot_id=slots[1].id or 0, conversation_id="b" * 32, now=NOW)
    session.commit()
    with pytest.raises(SlotTaken):
        move(session, appointment=mine, slot_id=slots[1].id or 0, now=NOW)
    session.rollback()
    session.refresh(mine)
    assert mine.cancelled_at is None


def test_concurrent_booking_of_one_slot(engine: Engine, session: Session) -> None:
    slot_id = _slots(session, count=1)[0].id or 0
    n = 12
    barrier = threading.Barrier(n)
    won: list[int] = []
    lost: list[int] = []
    errors: list[BaseException] = []

    def attempt(i: int) -> None:
        try:
            barrier.wait()
            with session_scope(engine) as s:
                book(s, slot_id=slot_id, conversation_id=f"{i:032d}", now=NOW)
            won.append(i)
        except SlotTaken:
            lost.append(i)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == [], errors
    assert len(lost) == n - 1
    assert len(won) == 1
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(Appointment)).one() == 1


def test_reminders_of_tomorrow_once(session: Session) -> None:
    slots = _slots(session, count=2)
    booking = book(session, slot_id=slots[0].id or 0, conversation_id="a" * 32, now=NOW)
    session.commit()
    due = due_reminders(session, now=NOW)
    assert [a.id for a, _ in due] == [booking.id]
    assert due_reminders(session, now=NOW - timedelta(days=1)) == []
    assert mark_reminded(session, appointment_id=booking.id or 0, now=NOW)
    assert not mark_reminded(session, appointment_id=booking.id or 0, now=NOW)
    session.commit()
    assert due_reminders(session, now=NOW) == []
    assert "domani alle 09:00" in reminder_text(due[0][1], "Welcome Point Rifredi")


def test_places_with_free_slots_in_one_query(session: Session) -> None:
    """The points list's «Appuntamento a ...» buttons ask once for all places (issue 18): the
    same places as asking ``free_slots`` place by place, after a booking, a cancellation,
    a withdrawal, and for a place whose slots are past or that has none."""
    places = {"WP-RIF": 2, "WP-BOOKED": 1, "WP-WITHDRAWN": 1, "WP-PAST": 1}
    slots = {
        code: publish_slots(
            session,
            place_code=code,
            first_start=NOW - timedelta(days=1) if code == "WP-PAST" else TOMORROW_9,
            minutes=30,
            count=count,
            created_by="staff:1",
            now=NOW - timedelta(days=2),
        )
        for code, count in places.items()
    }
    booked = book(session, slot_id=slots["WP-BOOKED"][0].id or 0, conversation_id="a" * 32, now=NOW)
    slots["WP-WITHDRAWN"][0].withdrawn_at = NOW
    session.add(slots["WP-WITHDRAWN"][0])
    session.commit()
    codes = [*places, "WP-NONE", "WP-RIF"]

    def one_by_one() -> set[str]:
        return {c for c in codes if free_slots(session, place_code=c, now=NOW, limit=1)}

    assert places_with_free_slots(session, place_codes=codes, now=NOW) == {"WP-RIF"}
    assert one_by_one() == {"WP-RIF"}
    cancel(session, appointment=booked, now=NOW)
    session.commit()
    assert places_with_free_slots(session, place_codes=codes, now=NOW) == one_by_one()
    assert one_by_one() == {"WP-RIF", "WP-BOOKED"}
    assert places_with_free_slots(session, place_codes=[], now=NOW) == set()
