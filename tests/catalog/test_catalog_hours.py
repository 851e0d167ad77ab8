"""catalog.hours: the opening-hours syntax, open/closed, next opening, Italian text."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from catalog.hours import ROME, OpeningHours

WEEKDAYS = "lun-ven 09:00-13:00 15:00-18:00, sab 09:00-12:00"


def rome(y: int, mo: int, d: int, h: int, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=ROME)


# 2026-11-23 is a Monday.
@pytest.mark.parametrize(
    ("moment", "is_open"),
    [
        (rome(2026, 11, 23, 9, 0), True),  # opening minute
        (rome(2026, 11, 23, 12, 59), True),
        (rome(2026, 11, 23, 13, 0), False),  # closing minute is closed
        (rome(2026, 11, 23, 14, 0), False),  # lunch break
        (rome(2026, 11, 27, 17, 30), True),  # Friday afternoon
        (rome(2026, 11, 28, 11, 0), True),  # Saturday morning
        (rome(2026, 11, 28, 15, 0), False),  # Saturday afternoon
        (rome(2026, 11, 29, 10, 0), False),  # Sunday
    ],
)
def test_is_open(moment: datetime, is_open: bool) -> None:
    assert OpeningHours.parse(WEEKDAYS).is_open(moment) is is_open


def test_times_in_other_zones_are_compared_in_rome() -> None:
    hours = OpeningHours.parse(WEEKDAYS)
    # 08:30 UTC on a winter Monday is 09:30 in Rome.
    assert hours.is_open(datetime(2026, 11, 23, 8, 30, tzinfo=UTC))
    # 08:30 UTC on a summer Monday is 10:30 in Rome; 11:30 UTC is 13:30 (closed).
    assert hours.is_open(datetime(2026, 7, 6, 8, 30, tzinfo=UTC))
    assert not hours.is_open(datetime(2026, 7, 6, 11, 30, tzinfo=UTC))


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        OpeningHours.parse(WEEKDAYS).is_open(datetime(2026, 11, 23, 10, 0))


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (rome(2026, 11, 23, 10, 0), rome(2026, 11, 23, 10, 0)),  # open now: now
        (rome(2026, 11, 23, 13, 30), rome(2026, 11, 23, 15, 0)),  # after lunch
        (rome(2026, 11, 23, 7, 0), rome(2026, 11, 23, 9, 0)),  # early morning
        (rome(2026, 11, 28, 12, 30), rome(2026, 11, 30, 9, 0)),  # Saturday -> Monday
        (rome(2026, 11, 29, 23, 59), rome(2026, 11, 30, 9, 0)),  # Sunday night
    ],
)
def test_next_opening(moment: datetime, expected: datetime) -> None:
    opening = OpeningHours.parse(WEEKDAYS).next_opening(moment)
    assert opening == expected
    assert opening is not None and opening.tzinfo is not None


def test_next_opening_across_a_dst_change() -> None:
    # Saturday 2026-03-28 evening, clocks go forward on Sunday: Monday 9:00 is CEST (+02:00).
    opening = OpeningHours.parse(WEEKDAYS).next_opening(rome(2026, 3, 28, 20, 0))
    assert opening == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)


def test_overnight_ranges() -> None:
    hours = OpeningHours.parse("tutti i giorni 19:00-08:00")
    assert hours.is_open(rome(2026, 11, 23, 23, 0))
    assert hours.is_open(rome(2026, 11, 24, 7, 59))  # still Monday's night
    assert not hours.is_open(rome(2026, 11, 24, 8, 0))
    assert hours.next_opening(rome(2026, 11, 24, 12, 0)) == rome(2026, 11, 24, 19, 0)


def test_by_appointment_is_never_open() -> None:
    hours = OpeningHours.parse("su appuntamento")
    assert hours.by_appointment and not hours.intervals
    assert not hours.is_open(rome(2026, 11, 23, 10, 0))
    assert hours.next_opening(rome(2026, 11, 23, 10, 0)) is None
    assert hours.describe() == "solo su appuntamento"


@pytest.mark.parametrize(
    ("text", "described"),
    [
        (WEEKDAYS, "dal lunedì al venerdì 9:00–13:00 e 15:00–18:00; sabato 9:00–12:00"),
        ("lun 09:00-12:30, mer 09:00-12:30, ven 09:00-12:30",
         "lunedì, mercoledì e venerdì 9:00–12:30"),
        ("mar gio 10:00-11:00", "martedì e giovedì 10:00–11:00"),
        ("sab-dom 10:00-12:00", "sabato e domenica 10:00–12:00"),
        ("ven-dom 10:00-12:00", "dal venerdì alla domenica 10:00–12:00"),
        ("tutti i giorni 08:00-20:00", "tutti i giorni 8:00–20:00"),
        ("lun-ven 09:00-13:00, mar 14:30-16:30",
         "lunedì, mercoledì, giovedì e venerdì 9:00–13:00; martedì 9:00–13:00 e 14:30–16:30"),
        ("lun-ven 08:30-16:30, su appuntamento",
         "dal lunedì al venerdì 8:30–16:30 (su appuntamento)"),
        ("", "orari non indicati"),
    ],
)  # fmt: skip
def test_describe_in_italian(text: str, described: str) -> None:
    assert OpeningHours.parse(text).describe() == described


@pytest.mark.parametrize(
    "text",
    ["lunedi 09:00-12:00", "lun-ven", "lun-ven 9-12", "lun 25:00-26:00", "lun 09:60-10:00",
     "09:00-12:00", "lun 09:00-12:00 e poi", "chiuso"],
)  # fmt: skip
def test_invalid_hours_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        OpeningHours.parse(text)


def test_24_00_is_a_valid_end() -> None:
    hours = OpeningHours.parse("lun 20:00-24:00")
    assert hours.is_open(rome(2026, 11, 23, 23, 59))
    assert not hours.is_open(rome(2026, 11, 24, 0, 0))
