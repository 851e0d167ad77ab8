"""Opening hours: the catalogue's syntax, open/closed checks and an Italian description.

Syntax (as written in the YAML files): comma-separated groups, each made of days then
one or more time ranges, e.g. ``"lun-ven 09:00-13:00 15:00-18:00, sab 09:00-12:00"``.
Days: ``lun mar mer gio ven sab dom``, ranges ``lun-ven`` (also wrapping: ``sab-lun``),
lists ``lun mer ven`` or ``lun/mer``, or ``tutti i giorni``. A range ending at or before
its start runs past midnight (``19:00-08:00``). ``su appuntamento`` may stand alone or
next to the groups. Times are wall-clock times in Europe/Rome.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

ROME: Final[ZoneInfo] = ZoneInfo("Europe/Rome")
DAY_CODES: Final[tuple[str, ...]] = ("lun", "mar", "mer", "gio", "ven", "sab", "dom")
DAY_NAMES: Final[tuple[str, ...]] = (
    "lunedì", "martedì", "mercoledì", "giovedì", "venerdì", "sabato", "domenica",
)  # fmt: skip
MINUTES_PER_DAY: Final[int] = 24 * 60

_APPOINTMENT_RE = re.compile(r"\b(?:solo\s+)?su\s+appuntamento\b", re.IGNORECASE)
_DAY_ITEM_RE = re.compile(
    r"^(?P<a>lun|mar|mer|gio|ven|sab|dom)(?:-(?P<b>lun|mar|mer|gio|ven|sab|dom))?$"
)
_TIME_RANGE_RE = re.compile(r"^(?P<h1>\d{1,2})[:.](?P<m1>\d{2})-(?P<h2>\d{1,2})[:.](?P<m2>\d{2})$")
_EVERY_DAY = ("tutti i giorni", "ogni giorno")


@dataclass(frozen=True, slots=True, order=True)
class Interval:
    """Open on ``day`` (0 = Monday) from ``start`` to ``end`` minutes after midnight.

    ``end`` may exceed 1440 when the interval runs past midnight.
    """

    day: int
    start: int
    end: int


def _minutes(hours: str, minutes: str, *, is_end: bool) -> int:
    h, m = int(hours), int(minutes)
    if m > 59 or h > 24 or (h == 24 and (m != 0 or not is_end)):
        raise ValueError(f"invalid time {hours}:{minutes}")
    return h * 60 + m


def _day_items(token: str) -> list[int] | None:
    days: list[int] = []
    for part in token.split("/"):
        match = _DAY_ITEM_RE.match(part)
        if not match:
            return None
        a = DAY_CODES.index(match.group("a"))
        b = DAY_CODES.index(match.group("b")) if match.group("b") else a
        span = (b - a) % 7
        days.extend((a + i) % 7 for i in range(span + 1))
    return days


def _parse_group(group: str) -> list[Interval]:
    text = group.strip().lower()
    days: list[int] = []
    for phrase in _EVERY_DAY:
        if text.startswith(phrase):
            days = list(range(7))
            text = text[len(phrase) :]
            break
    tokens = text.split()
    i = 0
    while i < len(tokens):
        if tokens[i] == "e" and days:
            i += 1
            continue
        items = _day_items(tokens[i])
        if items is None:
            break
        days.extend(items)
        i += 1
    if not days:
        raise ValueError(f"'{group.strip()}': expected days first (lun, mar-ven, tutti i giorni)")
    ranges: list[tuple[int, int]] = []
    for token in tokens[i:]:
        if token == "e":
            continue
        match = _TIME_RANGE_RE.match(token)
        if not match:
            raise ValueError(
                f"'{group.strip()}': expected a time range like 09:00-13:00, got '{token}'"
            )
        start = _minutes(match.group("h1"), match.group("m1"), is_end=False)
        end = _minutes(match.group("h2"), match.group("m2"), is_end=True)
        if end <= start:
            end += MINUTES_PER_DAY
        ranges.append((start, end))
    if not ranges:
        raise ValueError(f"'{group.strip()}': no time range after the days")
    return [Interval(day, start, end) for day in dict.fromkeys(days) for start, end in ranges]


def _fmt(minutes: int) -> str:
    minutes %= MINUTES_PER_DAY
    return f"{minutes // 60}:{minutes % 60:02d}"


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " e " + words[-1]


def _describe_days(days: list[int]) -> str:
    if len(days) == 7:
        return "tutti i giorni"
    consecutive = all((b - a) % 7 == 1 for a, b in itertools.pairwise(days))
    if consecutive and len(days) >= 3:
        first, last = DAY_NAMES[days[0]], DAY_NAMES[days[-1]]
        dal = "dalla" if days[0] == 6 else "dal"
        al = "alla" if days[-1] == 6 else "al"
        return f"{dal} {first} {al} {last}"
    return _join([DAY_NAMES[d] for d in days])


@dataclass(frozen=True, slots=True)
class OpeningHours:
    """Parsed opening hours; build with :meth:`parse`."""

    intervals: tuple[Interval, ...]
    by_appointment: bool = False
    text: str = ""

    @classmethod
    def parse(cls, text: str | None) -> OpeningHours:
        """Parse the catalogue syntax; raises ValueError saying what is wrong."""
        source = (text or "").strip()
        rest, count = _APPOINTMENT_RE.subn("", source)
        intervals: list[Interval] = []
        for group in rest.split(","):
            if group.strip():
                intervals.extend(_parse_group(group))
        if not intervals and not count and source:
            raise ValueError(f"'{source}': no opening hours found")
        return cls(tuple(sorted(set(intervals))), by_appointment=bool(count), text=source)

    @property
    def is_known(self) -> bool:
        return bool(self.intervals) or self.by_appointment

    def _local(self, dt: datetime) -> datetime:
        if dt.tzinfo is None:
            raise ValueError("naive datetime: pass a timezone-aware value")
        return dt.astimezone(ROME)

    def is_open(self, dt: datetime) -> bool:
        """Whether the place is open at ``dt`` (any time zone; compared in Europe/Rome)."""
        local = self._local(dt)
        minute = local.hour * 60 + local.minute
        weekday = local.weekday()
        yesterday = (weekday - 1) % 7
        for iv in self.intervals:
            if iv.day == weekday and iv.start <= minute < iv.end:
                return True
            if (
                iv.day == yesterday
                and iv.end > MINUTES_PER_DAY
                and minute < iv.end - MINUTES_PER_DAY
            ):
                return True
        return False

    def next_opening(self, dt: datetime) -> datetime | None:
        """The first moment at or after ``dt`` when it is open (``dt`` itself if open now).

        Returned in Europe/Rome; None when no hours are known (e.g. only by appointment).
        """
        local = self._local(dt)
        if self.is_open(local):
            return local
        for offset in range(8):
            day: date = local.date() + timedelta(days=offset)
            for iv in self.intervals:
                if iv.day != day.weekday():
                    continue
                opening = datetime.combine(day, time(iv.start // 60, iv.start % 60), tzinfo=ROME)
                if opening > local:
                    return opening
        return None

    def day_groups(self) -> list[tuple[tuple[tuple[int, int], ...], list[int]]]:
        """(the day's time ranges, the days with exactly those ranges), days in week order:
        what a description says once per group ("dal lunedì al venerdì 9:00–13:00")."""
        per_day: dict[int, tuple[tuple[int, int], ...]] = {}
        for iv in self.intervals:
            per_day[iv.day] = (*per_day.get(iv.day, ()), (iv.start, iv.end))
        groups: dict[tuple[tuple[int, int], ...], list[int]] = {}
        for day in sorted(per_day):
            groups.setdefault(per_day[day], []).append(day)
        return list(groups.items())

    def describe(self) -> str:
        """Italian, for citizens.

        E.g. "dal lunedì al venerdì 9:00–13:00 e 15:00–18:00; sabato 9:00–12:00".
        """
        if not self.intervals:
            return "solo su appuntamento" if self.by_appointment else "orari non indicati"
        parts = []
        for ranges, days in self.day_groups():
            times = _join([f"{_fmt(s)}–{_fmt(e)}" for s, e in ranges])
            parts.append(f"{_describe_days(days)} {times}")
        text = "; ".join(parts)
        return f"{text} (su appuntamento)" if self.by_appointment else text
