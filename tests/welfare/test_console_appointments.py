"""Console /appuntamenti: publish slots in Rome time, see bookings, withdraw, cancel; roles."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from catalog.models import PlaceKind, WelcomePlace
from core.timeutil import utcnow
from staff.roles import Role
from tests.welfare.conftest import CONSOLE, MakeStaff, sign_in
from welfare.appointments import book
from welfare.models import Appointment, AppointmentSlot

ROME_OFFSET_HOURS = (1, 2)  # CET or CEST


def _place(session: Session) -> None:
    session.add(
        WelcomePlace(
            code="WP-RIF",
            kind=PlaceKind.point,
            name="Welcome Point Rifredi",
            quartiere="Q5",
            address="Via Carlo Bini 2",
            lat=43.7975,
            lon=11.2310,
            opening_hours="lun-ven 09:00-13:00",
            staff_roles=["care_manager"],
        )
    )
    session.commit()


def test_publish_book_cancel_withdraw(
    client: TestClient, make_staff: MakeStaff, session: Session
) -> None:
    _place(session)
    token = sign_in(client, make_staff(Role.hub_staff))
    day = (utcnow() + timedelta(days=3)).date()
    published = client.post(
        f"{CONSOLE}/appuntamenti",
        data={
            "csrf_token": token,
            "place": "WP-RIF",
            "day": day.isoformat(),
            "start": "09:00",
            "minutes": "30",
            "count": "3",
        },
    )
    assert published.status_code == 303
    slots = session.exec(select(AppointmentSlot).order_by(col(AppointmentSlot.starts_at))).all()
    assert len(slots) == 3
    assert slots[0].starts_at.hour in (9 - h for h in ROME_OFFSET_HOURS)  # 09:00 Rome in UTC
    booking = book(session, slot_id=slots[0].id or 0, conversation_id="a" * 32, now=utcnow())
    session.commit()
    page = client.get(f"{CONSOLE}/appuntamenti", params={"luogo": "WP-RIF"})
    assert page.status_code == 200 and booking.number in page.text and "libero" in page.text
    refused = client.post(
        f"{CONSOLE}/appuntamenti/{slots[0].id}/ritira", data={"csrf_token": token}
    )
    assert refused.status_code == 400
    done = client.post(
        f"{CONSOLE}/appuntamenti/prenotazioni/{booking.id}/annulla", data={"csrf_token": token}
    )
    assert done.status_code == 303
    withdrawn = client.post(
        f"{CONSOLE}/appuntamenti/{slots[1].id}/ritira", data={"csrf_token": token}
    )
    assert withdrawn.status_code == 303
    session.expire_all()
    assert session.get(Appointment, booking.id).cancelled_at is not None  # type: ignore[union-attr]
    assert session.get(AppointmentSlot, slots[1].id).withdrawn_at is not None  # type: ignore[union-attr]
    past = client.post(
        f"{CONSOLE}/appuntamenti",
        data={"csrf_token": token, "place": "WP-RIF", "day": "2020-01-01", "start": "09:00"},
    )
    assert past.status_code == 400


def test_roles(client: TestClient, make_staff: MakeStaff, session: Session) -> None:
    _place(session)
    token = sign_in(client, make_staff(Role.welfare_officer, Role.provider_staff))
    assert client.get(f"{CONSOLE}/appuntamenti").status_code == 403
    refused = client.post(
        f"{CONSOLE}/appuntamenti",
        data={"csrf_token": token, "place": "WP-RIF", "day": "2030-01-01", "start": "09:00"},
    )
    assert refused.status_code == 403
    client.cookies.clear()
    sign_in(client, make_staff(Role.care_manager))
    assert client.get(f"{CONSOLE}/appuntamenti").status_code == 200
    no_csrf = client.post(
        f"{CONSOLE}/appuntamenti",
        data={"csrf_token": "x", "place": "WP-RIF", "day": "2030-01-01", "start": "09:00"},
    )
    assert no_csrf.status_code == 403
    assert session.exec(select(AppointmentSlot)).all() == []
