"""The SLA clock runs in the Welcome Points' office time (Europe/Rome), and the citizen is told
in Italian when a Care Manager will answer."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy.engine import Engine

from care.sla import DEFAULT_HOURS, OfficeHours, clock, describe_when, office_hours, sla_due_at
from catalog.hours import ROME
from catalog.models import PlaceKind, WelcomePlace
from core.db import session_scope

POINTS = OfficeHours.parse("lun-ven 09:00-13:00", "mer 14:30-18:00", "sab 09:30-12:30")


def rome(*args: int) -> datetime:
    return datetime(*args, tzinfo=ROME)  # type: ignore[misc]


def test_the_union_of_the_points_hours() -> None:
    assert POINTS.is_open(rome(2026, 3, 4, 15, 0))  # Wednesday afternoon: one point is open
    assert not POINTS.is_open(rome(2026, 3, 5, 15, 0))  # Thursday afternoon: none
    assert not POINTS.is_open(rome(2026, 3, 8, 10, 0))  # Sunday
    assert POINTS.next_opening(rome(2026, 3, 5, 15, 0)) == rome(2026, 3, 6, 9, 0)
    assert POINTS.next_opening(rome(2026, 3, 7, 13, 0)) == rome(2026, 3, 9, 9, 0)  # Sat -> Mon
    assert POINTS.describe() == (
        "lunedì, martedì, giovedì e venerdì 9:00–13:00; mercoledì 9:00–13:00 e 14:30–18:00; "
        "sabato 9:30–12:30"
    )


def test_office_minutes_pause_outside_office_hours() -> None:
    # Friday 12:50: 10 minutes today, the other 20 on Saturday from 9:30
    assert POINTS.add_office_minutes(rome(2026, 3, 6, 12, 50), 30) == rome(2026, 3, 7, 9, 50)
    # Sunday night: the clock starts on Monday at 9
    assert POINTS.add_office_minutes(rome(2026, 3, 8, 23, 0), 5) == rome(2026, 3, 9, 9, 5)
    # in the middle of an open period
    assert POINTS.add_office_minutes(rome(2026, 3, 4, 10, 0), 15) == rome(2026, 3, 4, 10, 15)


def test_daylight_saving_and_past_midnight() -> None:
    night = OfficeHours.parse("tutti i giorni 22:00-02:00")
    assert night.is_open(rome(2026, 3, 29, 1, 30))  # the night the clocks go forward
    assert night.add_office_minutes(rome(2026, 3, 28, 23, 50), 20) == rome(2026, 3, 29, 0, 10)
    always = OfficeHours.parse("tutti i giorni 00:00-24:00")
    start = rome(2026, 3, 29, 1, 0)
    assert always.add_office_minutes(start, 120).astimezone(ROME).hour == 4  # 02:00 skipped


def test_never_open() -> None:
    empty = OfficeHours.from_hours([])
    assert not empty.is_known
    assert empty.next_opening(rome(2026, 3, 4, 10, 0)) is None
    assert empty.add_office_minutes(rome(2026, 3, 4, 10, 0), 5) is None


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (rome(2026, 3, 4, 14, 30), "oggi alle 14:30"),
        (rome(2026, 3, 5, 9, 0), "domani (giovedì 5 marzo) alle 9:00"),
        (rome(2026, 3, 9, 9, 0), "lunedì 9 marzo alle 9:00"),
    ],
)
def test_describe_when(moment: datetime, expected: str) -> None:
    assert describe_when(moment, now=rome(2026, 3, 4, 13, 5)) == expected


def test_the_clock_states() -> None:
    now = rome(2026, 3, 4, 10, 0)
    due = sla_due_at(POINTS, requested_at=now, priority="top")
    assert due == rome(2026, 3, 4, 10, 5)
    ok = clock(
        POINTS, requested_at=now, due_at=rome(2026, 3, 4, 10, 30), priority="normal", now=now
    )
    assert ok.state == "ok" and ok.label == "mancano 30 min"
    late = clock(POINTS, requested_at=now, due_at=due, priority="top", now=rome(2026, 3, 4, 10, 8))
    assert late.state == "breached" and late.label == "in ritardo di 3 min"
    night = rome(2026, 3, 4, 21, 0)
    closed = clock(
        POINTS, requested_at=night, due_at=rome(2026, 3, 5, 9, 30), priority="normal", now=night
    )
    assert closed.state == "closed_office" and "domani" in closed.label


def test_office_hours_from_the_catalogue(engine: Engine) -> None:
    with session_scope(engine) as session:
        assert office_hours(session) == OfficeHours.parse(DEFAULT_HOURS)
        for code, kind, hours in [
            ("WP1", PlaceKind.point, "lun 09:00-13:00"),
            ("WP2", PlaceKind.point, "mar 14:00-18:00"),
            ("HUB", PlaceKind.hub, "sab 09:00-12:00"),
        ]:
            session.add(
                WelcomePlace(
                    code=code,
                    kind=kind,
                    name=code,
                    quartiere="Q1",
                    lat=43.77,
                    lon=11.25,
                    opening_hours=hours,
                )
            )
    with session_scope(engine) as session:
        office = office_hours(session)
    assert office == OfficeHours.parse("lun 09:00-13:00", "mar 14:00-18:00")  # points only
