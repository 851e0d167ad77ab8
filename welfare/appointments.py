"""Appointments with a Care Manager at a Welcome Point.

Staff publish slots (``publish_slots``); a citizen books a free one (``book``). The partial
UNIQUE index ``uq_welfare_appointment_active_slot`` (one uncancelled booking per slot) is
what refuses a second booking, also when two requests race: the loser gets ``SlotTaken``.
``move`` books the new slot and cancels the old booking in one transaction;
``due_reminders`` lists tomorrow's (Europe/Rome) bookings not yet reminded, and
``mark_reminded`` claims one (conditional UPDATE, so two workers never remind twice).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from catalog.models import WelcomePlace
from core.settings import get_settings
from welfare.ledger.codes import random_code
from welfare.ledger.errors import LedgerError
from welfare.models import Appointment, AppointmentSlot


class AppointmentError(LedgerError):
    message = "Prenotazione dell'appuntamento non riuscita."


class SlotTaken(AppointmentError):
    message = "Questo orario è appena stato prenotato da un'altra persona: scegline un altro."


class SlotUnavailable(AppointmentError):
    message = "Questo orario non è più disponibile: scegline un altro."


class NotCancellable(AppointmentError):
    message = "Questo appuntamento è già stato annullato o è passato."


def publish_slots(
    session: Session,
    *,
    place_code: str,
    first_start: datetime,
    minutes: int,
    count: int,
    created_by: str,
    now: datetime,
) -> list[AppointmentSlot]:
    """``count`` consecutive slots of ``minutes`` from ``first_start``; existing ones skipped."""
    if not 5 <= minutes <= 240 or not 1 <= count <= 40:
        raise ValueError("minutes 5..240, count 1..40")
    created = []
    for n in range(count):
        starts = first_start + timedelta(minutes=minutes * n)
        exists = session.exec(
            select(AppointmentSlot.id).where(
                AppointmentSlot.place_code == place_code, AppointmentSlot.starts_at == starts
            )
        ).first()
        if exists is not None:
            continue
        slot = AppointmentSlot(
            place_code=place_code,
            starts_at=starts,
            ends_at=starts + timedelta(minutes=minutes),
            created_by=created_by[:80],
            created_at=now,
        )
        session.add(slot)
        created.append(slot)
    session.flush()
    return created


def _active_slot_ids(session: Session) -> Any:
    return select(Appointment.slot_id).where(col(Appointment.cancelled_at).is_(None))


def free_slots(
    session: Session, *, place_code: str, now: datetime, limit: int = 6
) -> list[AppointmentSlot]:
    return list(
        session.exec(
            select(AppointmentSlot)
            .where(
                AppointmentSlot.place_code == place_code,
                col(AppointmentSlot.starts_at) > now,
                col(AppointmentSlot.withdrawn_at).is_(None),
                col(AppointmentSlot.id).not_in(_active_slot_ids(session)),
            )
            .order_by(col(AppointmentSlot.starts_at))
            .limit(limit)
        ).all()
    )


def places_with_free_slots(
    session: Session, *, place_codes: Iterable[str], now: datetime
) -> set[str]:
    """The places among ``place_codes`` with at least one free slot (``free_slots`` not
    empty), in one query for all of them."""
    codes = list(dict.fromkeys(place_codes))
    if not codes:
        return set()
    return set(
        session.exec(
            select(AppointmentSlot.place_code)
            .where(
                col(AppointmentSlot.place_code).in_(codes),
                col(AppointmentSlot.starts_at) > now,
                col(AppointmentSlot.withdrawn_at).is_(None),
                col(AppointmentSlot.id).not_in(_active_slot_ids(session)),
            )
            .distinct()
        ).all()
    )


def slots_with_bookings(
    session: Session, *, place_code: str, since: datetime, limit: int = 200
) -> list[tuple[AppointmentSlot, Appointment | None]]:
    rows = session.exec(
        select(AppointmentSlot, Appointment)
        .join(
            Appointment,
            (Appointment.slot_id == AppointmentSlot.id)  # type: ignore[arg-type]
            & col(Appointment.cancelled_at).is_(None),
            isouter=True,
        )
        .where(AppointmentSlot.place_code == place_code, col(AppointmentSlot.ends_at) > since)
        .order_by(col(AppointmentSlot.starts_at))
        .limit(limit)
    ).all()
    return [(slot, booking) for slot, booking in rows]


def book(session: Session, *, slot_id: int, conversation_id: str, now: datetime) -> Appointment:
    slot = session.get(AppointmentSlot, slot_id)
    if slot is None or slot.withdrawn_at is not None or slot.starts_at <= now:
        raise SlotUnavailable(str(slot_id))
    appointment = Appointment(
        number=f"APP-{random_code(6)}",
        slot_id=slot_id,
        conversation_id=conversation_id,
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(appointment)
    except IntegrityError:
        raise SlotTaken(str(slot_id)) from None
    return appointment


def cancel(session: Session, *, appointment: Appointment, now: datetime) -> Appointment:
    slot = session.get(AppointmentSlot, appointment.slot_id)
    result = session.exec(
        update(Appointment)
        .where(col(Appointment.id) == appointment.id, col(Appointment.cancelled_at).is_(None))
        .values(cancelled_at=now)
    )
    if result.rowcount != 1 or slot is None or slot.starts_at <= now:
        raise NotCancellable(str(appointment.id))
    session.flush()
    session.refresh(appointment)
    return appointment


def move(session: Session, *, appointment: Appointment, slot_id: int, now: datetime) -> Appointment:
    """Cancel the booking and book ``slot_id`` instead, all or nothing."""
    with session.begin_nested():
        cancel(session, appointment=appointment, now=now)
        return book(session, slot_id=slot_id, conversation_id=appointment.conversation_id, now=now)


def due_reminders(session: Session, *, now: datetime) -> list[tuple[Appointment, AppointmentSlot]]:
    """Bookings of tomorrow (Rome calendar day) not reminded yet."""
    tz = get_settings().tz
    tomorrow = (now.astimezone(tz) + timedelta(days=1)).date()
    start = datetime.combine(tomorrow, datetime.min.time(), tzinfo=tz)
    end = start + timedelta(days=1)
    rows = session.exec(
        select(Appointment, AppointmentSlot)
        .join(AppointmentSlot, AppointmentSlot.id == Appointment.slot_id)  # type: ignore[arg-type]
        .where(
            col(Appointment.cancelled_at).is_(None),
            col(Appointment.reminded_at).is_(None),
            col(AppointmentSlot.starts_at) >= start,
            col(AppointmentSlot.starts_at) < end,
        )
        .order_by(col(AppointmentSlot.starts_at))
    ).all()
    return [(a, s) for a, s in rows]


def mark_reminded(session: Session, *, appointment_id: int, now: datetime) -> bool:
    """Claim the reminder of one booking; True for exactly one caller."""
    result = session.exec(
        update(Appointment)
        .where(
            col(Appointment.id) == appointment_id,
            col(Appointment.reminded_at).is_(None),
            col(Appointment.cancelled_at).is_(None),
        )
        .values(reminded_at=now)
    )
    return result.rowcount == 1


def reminder_text(slot: AppointmentSlot, place_name: str) -> str:
    local = slot.starts_at.astimezone(get_settings().tz)
    return (
        f"Promemoria: domani alle {local:%H:%M} hai un appuntamento con un Care Manager "
        f"al {place_name}. Se non puoi venire, scrivi «annulla appuntamento»."
    )


def claim_reminders(session: Session, *, now: datetime) -> list[tuple[str, str]]:
    """Claim the due reminders; returns (conversation_id, text) pairs to send."""
    out: list[tuple[str, str]] = []
    due = due_reminders(session, now=now)
    names = {
        p.code: p.name
        for p in session.exec(
            select(WelcomePlace).where(
                WelcomePlace.code.in_({s.place_code for _, s in due})  # type: ignore[attr-defined]
            )
        ).all()
    }
    for appointment, slot in due:
        assert appointment.id is not None
        if mark_reminded(session, appointment_id=appointment.id, now=now):
            text = reminder_text(slot, names.get(slot.place_code, "Welcome Point"))
            out.append((appointment.conversation_id, text))
    return out
