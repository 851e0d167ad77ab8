"""Welcome Point slots (mounted at /appuntamenti, care_manager and hub_staff): publish
slots (Europe/Rome times), see which are booked, withdraw a free one, cancel a booking."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session, col, select

from catalog.models import WelcomePlace
from console import audit
from console.auth import CurrentStaff, Db, client_ip, require_roles
from console.state import console_state
from console.web import console_path, render
from core.database import Database
from core.timeutil import utcnow
from staff.roles import Role
from welfare.appointments import AppointmentError, cancel, publish_slots, slots_with_bookings
from welfare.models import Appointment, AppointmentSlot

ROLES = frozenset({Role.care_manager, Role.hub_staff})
router = APIRouter()
Staff = Annotated[CurrentStaff, Depends(require_roles(*ROLES))]

NOTICES = {
    "published": "Orari pubblicati.",
    "withdrawn": "Orario ritirato.",
    "cancelled": "Appuntamento annullato.",
}
# the wording of this section's audit actions (its Section.audit_labels)
AUDIT_LABELS: dict[str, str] = {
    "slot.publish": "orari degli appuntamenti pubblicati",
    "slot.withdraw": "orario ritirato",
    "appointment.cancel": "appuntamento annullato dal personale",
}


def _places(session: Session) -> list[WelcomePlace]:
    return list(session.exec(select(WelcomePlace).order_by(col(WelcomePlace.name))).all())


def _page_context(session: Session, *, staff: CurrentStaff, place: str) -> dict[str, Any]:
    places = _places(session)
    codes = {p.code for p in places}
    chosen = place if place in codes else (staff.welcome_place_code or "")
    if chosen not in codes:
        chosen = places[0].code if places else ""
    rows = slots_with_bookings(session, place_code=chosen, since=utcnow()) if chosen else []
    return {"places": places, "place": chosen, "rows": rows}


def _page(
    request: Request, db: Database, staff: CurrentStaff, place: str, *, error: str = ""
) -> Response:
    return render(
        request,
        "welfare_slots.html",
        {
            **db.run_sync(_page_context, staff=staff, place=place),
            "error": error,
            "notice": NOTICES.get(request.query_params.get("msg", ""), ""),
        },
        staff=staff,
        status_code=400 if error else 200,
    )


def _back(request: Request, place: str, msg: str) -> RedirectResponse:
    url = console_path(request, "slots")
    return RedirectResponse(f"{url}?luogo={place}&msg={msg}", status_code=303)


class _Refused(Exception):
    """A request refused before anything changed: the page is shown again with ``message``."""

    def __init__(self, place: str, message: str) -> None:
        super().__init__(message)
        self.place = place
        self.message = message


@router.get("", name="slots")
def slots_page(
    request: Request,
    db: Db,
    staff: Staff,
    luogo: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    return _page(request, db, staff, luogo)


def _publish(
    session: Session,
    *,
    staff: CurrentStaff,
    place: str,
    first: datetime,
    minutes: int,
    count: int,
    ip: str,
) -> None:
    if session.exec(select(WelcomePlace.id).where(WelcomePlace.code == place)).first() is None:
        raise HTTPException(404, "Welcome Point non trovato.")
    if first <= utcnow():
        raise _Refused(place, "Scegli un giorno e un'ora futuri.")
    publish_slots(
        session,
        place_code=place,
        first_start=first,
        minutes=minutes,
        count=count,
        created_by=f"staff:{staff.id}",
        now=utcnow(),
    )
    audit.record(
        session,
        action="slot.publish",
        actor_id=staff.id,
        object_type="place",
        object_id=place,
        detail=f"{count}x{minutes}",
        ip=ip,
    )


@router.post("", name="slots_publish")
def slots_publish(
    request: Request,
    db: Db,
    staff: Staff,
    place: Annotated[str, Form(max_length=64)],
    day: Annotated[date, Form()],
    start: Annotated[time, Form()],
    minutes: Annotated[int, Form(ge=5, le=240)] = 30,
    count: Annotated[int, Form(ge=1, le=40)] = 1,
) -> Response:
    first = datetime.combine(day, start, tzinfo=console_state(request).config.tz)
    try:
        db.run_sync(
            _publish,
            staff=staff,
            place=place,
            first=first,
            minutes=minutes,
            count=count,
            ip=client_ip(request),
        )
    except _Refused as refusal:
        return _page(request, db, staff, refusal.place, error=refusal.message)
    return _back(request, place, "published")


def _withdraw(session: Session, *, staff: CurrentStaff, slot_id: int, ip: str) -> str:
    slot = session.get(AppointmentSlot, slot_id)
    if slot is None:
        raise HTTPException(404, "Orario non trovato.")
    booked = session.exec(
        select(Appointment.id).where(
            Appointment.slot_id == slot_id, col(Appointment.cancelled_at).is_(None)
        )
    ).first()
    if booked is not None:
        raise _Refused(slot.place_code, "L'orario è prenotato: annulla prima.")
    slot.withdrawn_at = utcnow()
    session.add(slot)
    audit.record(
        session,
        action="slot.withdraw",
        actor_id=staff.id,
        object_type="slot",
        object_id=slot_id,
        ip=ip,
    )
    return slot.place_code


@router.post("/{slot_id:int}/ritira", name="slot_withdraw")
def slot_withdraw(request: Request, db: Db, staff: Staff, slot_id: int) -> Response:
    try:
        place = db.run_sync(_withdraw, staff=staff, slot_id=slot_id, ip=client_ip(request))
    except _Refused as refusal:
        return _page(request, db, staff, refusal.place, error=refusal.message)
    return _back(request, place, "withdrawn")


def _cancel(session: Session, *, staff: CurrentStaff, appointment_id: int, ip: str) -> str:
    appointment = session.get(Appointment, appointment_id)
    if appointment is None:
        raise HTTPException(404, "Appuntamento non trovato.")
    slot = session.get(AppointmentSlot, appointment.slot_id)
    place = slot.place_code if slot else ""
    try:
        cancel(session, appointment=appointment, now=utcnow())
    except AppointmentError as refusal:
        raise _Refused(place, refusal.message) from refusal
    audit.record(
        session,
        action="appointment.cancel",
        actor_id=staff.id,
        object_type="appointment",
        object_id=appointment.number,
        ip=ip,
    )
    return place


@router.post("/prenotazioni/{appointment_id:int}/annulla", name="appointment_cancel")
def appointment_cancel(request: Request, db: Db, staff: Staff, appointment_id: int) -> Response:
    try:
        place = db.run_sync(
            _cancel, staff=staff, appointment_id=appointment_id, ip=client_ip(request)
        )
    except _Refused as refusal:
        return _page(request, db, staff, refusal.place, error=refusal.message)
    return _back(request, place, "cancelled")
