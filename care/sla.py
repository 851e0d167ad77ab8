"""The hand-off's SLA clock, tied to the Welcome Points' office hours.

Care Managers work when the Welcome Points are open, so a hand-off's clock runs only in
office time: an emergency asked at 12:58 on a Friday whose offices close at 13:00 is due
two minutes later and then three more minutes after they reopen. Outside office hours the
citizen is told when a Care Manager will answer (``OfficeHours.next_opening``).

The office hours are the union of the Welcome Points' ``opening_hours`` (catalog.hours
syntax, Europe/Rome wall-clock time); when no point has usable hours, ``DEFAULT_HOURS``.

    office = office_hours(session)
    due = office.add_office_minutes(now, SLA_MINUTES["normal"])
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Final

from sqlmodel import Session, select

from catalog.hours import MINUTES_PER_DAY, ROME, Interval, OpeningHours
from catalog.models import PlaceKind, WelcomePlace
from core.i18n import day_and_month, gettext

log = logging.getLogger(__name__)

DEFAULT_HOURS: Final[str] = "lun-ven 09:00-13:00 14:30-17:30"

# Office minutes within which a Care Manager should write, by priority.
SLA_MINUTES: Final[dict[str, int]] = {"top": 5, "high": 15, "normal": 30}
# The clock turns amber when less than this share of the time is left.
WARNING_SHARE: Final[float] = 0.3


def _merge(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


@dataclass(frozen=True)
class OfficeHours:
    """When at least one Welcome Point is open: per weekday, merged (start, end) minutes."""

    days: tuple[tuple[tuple[int, int], ...], ...]  # 7 entries, Monday first
    source: str = field(default="", compare=False)

    @classmethod
    def from_hours(cls, hours: list[OpeningHours], source: str = "") -> OfficeHours:
        per_day: list[list[tuple[int, int]]] = [[] for _ in range(7)]
        for opening in hours:
            for iv in opening.intervals:
                per_day[iv.day].append((iv.start, min(iv.end, MINUTES_PER_DAY)))
                if iv.end > MINUTES_PER_DAY:  # past midnight: the rest belongs to the next day
                    per_day[(iv.day + 1) % 7].append((0, iv.end - MINUTES_PER_DAY))
        return cls(tuple(tuple(_merge(ranges)) for ranges in per_day), source)

    @classmethod
    def parse(cls, *texts: str) -> OfficeHours:
        return cls.from_hours([OpeningHours.parse(t) for t in texts], source="; ".join(texts))

    @property
    def is_known(self) -> bool:
        return any(self.days)

    def as_opening_hours(self) -> OpeningHours:
        intervals = tuple(
            Interval(day, start, end)
            for day, ranges in enumerate(self.days)
            for start, end in ranges
        )
        return OpeningHours(intervals)

    def describe(self) -> str:
        """Italian, e.g. "dal lunedì al venerdì 9:00–13:00"."""
        if all(ranges == ((0, MINUTES_PER_DAY),) for ranges in self.days):
            return "sempre, giorno e notte"
        return self.as_opening_hours().describe()

    # --- the clock ------------------------------------------------------------------------

    def _ranges_on(self, day: date) -> list[tuple[datetime, datetime]]:
        """The open periods of a calendar day, in UTC (so durations are real, DST-safe)."""
        periods = []
        for start, end in self.days[day.weekday()]:
            begin = datetime.combine(day, time(start // 60, start % 60), tzinfo=ROME)
            if end >= MINUTES_PER_DAY:
                finish = datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=ROME)
            else:
                finish = datetime.combine(day, time(end // 60, end % 60), tzinfo=ROME)
            periods.append((begin.astimezone(UTC), finish.astimezone(UTC)))
        return periods

    def _periods_from(self, moment: datetime, days: int = 15) -> list[tuple[datetime, datetime]]:
        """Open periods (UTC) ending after ``moment``, in order, over the next ``days`` days."""
        at = _aware(moment).astimezone(UTC)
        first = at.astimezone(ROME).date()
        found = []
        for offset in range(-1, days):
            for begin, finish in self._ranges_on(first + timedelta(days=offset)):
                if finish > at:
                    found.append((begin, finish))
        return found

    def is_open(self, moment: datetime) -> bool:
        at = _aware(moment).astimezone(UTC)
        return any(begin <= at < finish for begin, finish in self._periods_from(at, 2))

    def next_opening(self, moment: datetime) -> datetime | None:
        """``moment`` itself when open, else the next opening (Europe/Rome); None if never."""
        at = _aware(moment).astimezone(UTC)
        for begin, _finish in self._periods_from(at):
            return (at if begin <= at else begin).astimezone(ROME)
        return None

    def add_office_minutes(self, start: datetime, minutes: float) -> datetime | None:
        """The moment ``minutes`` of office time after ``start`` (Europe/Rome; None when never
        open). Durations are real time: a DST change inside an open period is counted right."""
        left = timedelta(minutes=minutes)
        at = _aware(start).astimezone(UTC)
        for begin, finish in self._periods_from(at, days=60):
            begin = max(begin, at)
            if begin + left <= finish:
                return (begin + left).astimezone(ROME)
            left -= finish - begin
        return None


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: pass a timezone-aware value")
    return moment


def office_hours(session: Session, *, fallback: str = DEFAULT_HOURS) -> OfficeHours:
    """The union of the Welcome Points' opening hours (of every place, if no point has any)."""
    rows = session.exec(select(WelcomePlace.kind, WelcomePlace.opening_hours)).all()
    for kinds in ({PlaceKind.point}, {PlaceKind.point, PlaceKind.hub}):
        hours = []
        for kind, text in rows:
            if kind not in kinds or not text:
                continue
            try:
                hours.append(OpeningHours.parse(text))
            except ValueError:
                log.warning("a Welcome place has unreadable opening hours; ignored")
        office = OfficeHours.from_hours(hours, source="welcome_places")
        if office.is_known:
            return office
    return OfficeHours.parse(fallback)


def sla_due_at(office: OfficeHours, *, requested_at: datetime, priority: str) -> datetime | None:
    return office.add_office_minutes(requested_at, SLA_MINUTES.get(priority, SLA_MINUTES["normal"]))


# --- Italian wording -------------------------------------------------------------------------


def _hhmm(moment: datetime) -> str:
    return f"{moment.hour}:{moment.minute:02d}"


TODAY_AT = "oggi alle {time}"
TOMORROW_AT = "domani ({day}) alle {time}"
DAY_AT = "{day} alle {time}"


def describe_when(moment: datetime, *, now: datetime, language: str | None = None) -> str:
    """For citizens, in their language (Italian by default): "oggi alle 14:30",
    "domani (martedì 4 marzo) alle 9:00", "lunedì 10 marzo alle 9:00"."""
    local = moment.astimezone(ROME)
    today = now.astimezone(ROME).date()
    at = _hhmm(local)
    if local.date() == today:
        return gettext(language, TODAY_AT).format(time=at)
    day = day_and_month(local, language)
    if local.date() == today + timedelta(days=1):
        return gettext(language, TOMORROW_AT).format(day=day, time=at)
    return gettext(language, DAY_AT).format(day=day, time=at)


@dataclass(frozen=True)
class SlaClock:
    """How a hand-off stands against its SLA, for the queue (Italian ``label``)."""

    state: str  # ok | warning | breached | closed_office | none
    seconds_left: int | None
    label: str


def clock(
    office: OfficeHours,
    *,
    requested_at: datetime,
    due_at: datetime | None,
    priority: str,
    now: datetime,
) -> SlaClock:
    if due_at is None:
        return SlaClock("none", None, "nessun orario d'ufficio noto")
    left = int((due_at - now).total_seconds())
    if left < 0:
        return SlaClock("breached", left, f"in ritardo di {_duration(-left)}")
    if not office.is_open(now):
        opening = office.next_opening(now)
        when = describe_when(opening, now=now) if opening else "—"
        return SlaClock("closed_office", left, f"uffici chiusi: risposta entro {when}")
    total = SLA_MINUTES.get(priority, SLA_MINUTES["normal"]) * 60
    state = "warning" if left < total * WARNING_SHARE else "ok"
    return SlaClock(state, left, f"mancano {_duration(left)}")


def _duration(seconds: int) -> str:
    minutes, secs = divmod(max(0, seconds), 60)
    hours, minutes = divmod(minutes, 60)
    if hours >= 24:
        return f"{hours // 24} g {hours % 24} h"
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min"
    return f"{secs} s"
