"""The period a monitoring page looks at: whole days in Europe/Rome, [start, end) in UTC."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

ROME = ZoneInfo("Europe/Rome")
DEFAULT_DAYS = 90
MAX_DAYS = 366 * 2
MONTHS_IT = (
    "gennaio",
    "febbraio",
    "marzo",
    "aprile",
    "maggio",
    "giugno",
    "luglio",
    "agosto",
    "settembre",
    "ottobre",
    "novembre",
    "dicembre",
)


def local_midnight(day: date, tz: ZoneInfo = ROME) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def format_day(day: date) -> str:
    return f"{day.day} {MONTHS_IT[day.month - 1]} {day.year}"


@dataclass(frozen=True)
class Period:
    first_day: date  # inclusive, Europe/Rome
    last_day: date  # inclusive

    def __post_init__(self) -> None:
        if self.last_day < self.first_day:
            raise ValueError("la data di fine viene prima di quella di inizio")
        if self.days > MAX_DAYS:
            raise ValueError(f"il periodo può durare al massimo {MAX_DAYS} giorni")

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1

    @property
    def start(self) -> datetime:
        return local_midnight(self.first_day)

    @property
    def end(self) -> datetime:
        return local_midnight(self.last_day + timedelta(days=1))

    def previous(self) -> Period:
        """The period of the same length just before this one."""
        last = self.first_day - timedelta(days=1)
        return Period(last - timedelta(days=self.days - 1), last)

    def label(self) -> str:
        return f"dal {format_day(self.first_day)} al {format_day(self.last_day)}"

    def day_list(self) -> list[date]:
        return [self.first_day + timedelta(days=i) for i in range(self.days)]

    @classmethod
    def last_days(cls, today: date, days: int = DEFAULT_DAYS) -> Period:
        return cls(today - timedelta(days=days - 1), today)

    @classmethod
    def month(cls, text: str) -> Period:
        """``2026-11`` -> the whole of November 2026."""
        try:
            year, month = (int(part) for part in text.split("-"))
            first = date(year, month, 1)
        except ValueError:
            raise ValueError(
                f"mese non valido: {text!r} (scrivi AAAA-MM, per es. 2026-11)"
            ) from None
        following = date(year + month // 12, month % 12 + 1, 1)
        return cls(first, following - timedelta(days=1))

    @classmethod
    def parse(cls, first: str | None, last: str | None, *, today: date) -> Period:
        """From the form's two dates (ISO); either may be missing."""
        try:
            last_day = date.fromisoformat(last) if last else today
            first_day = (
                date.fromisoformat(first) if first else last_day - timedelta(days=DEFAULT_DAYS - 1)
            )
        except ValueError:
            raise ValueError("date non valide: usa il formato AAAA-MM-GG") from None
        return cls(first_day, last_day)
