"""Helpers shared by the actions: database sessions, the clock, tracker reading, wording.

The wording is in the citizen's language (``language``: actions.wording.language_of); the
Italian texts are the msgids of the actions' catalogue (actions/wording.py).

The actions never log message text or personal data: only action names, intents and
counts. Every read of a citizen's data goes through
``welfare.ledger.linking.citizen_for_conversation(sender_id)``.
"""

from __future__ import annotations

import itertools
import logging
import re
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from rasa_sdk import Tracker
from sqlmodel import Session

from actions.wording import N_, day_month_year, money_words, tr, weekday_name
from catalog.hours import MINUTES_PER_DAY, OpeningHours
from catalog.models import CostMode, Service
from core.db import session_scope
from core.i18n import day_and_month

logger = logging.getLogger("actions")

ROME = ZoneInfo("Europe/Rome")

# The values a slot takes when the citizen says it does not matter.
ANY = "any"

HANDOFF_BUTTON = {"title": N_("Parla con un operatore"), "payload": "/human_handoff"}
WELCOME_POINT_BUTTON = {"title": N_("Trova un Welcome Point"), "payload": "/find_welcome_point"}
SEARCH_BUTTON = {"title": N_("Cerca un servizio"), "payload": "/search_service"}

TODAY_AT = N_("oggi alle {time}")
TOMORROW_AT = N_("domani alle {time}")
DAY_AT = N_("{day} alle {time}")


def _system_clock() -> datetime:
    return datetime.now(UTC)


# Tests replace this to freeze the clock.
clock: Callable[[], datetime] = _system_clock


def now() -> datetime:
    """The current time (aware, UTC)."""
    return clock()


@contextmanager
def db_session() -> Iterator[Session]:
    """A session on the configured database (DATABASE_URL), committed on success."""
    with session_scope() as session:
        yield session


def money(cents: int, language: str | None = "it") -> str:
    """``1250`` -> ``"12,50 €"`` (``"€12.50"`` in English)."""
    return money_words(cents, language)


def local(dt: datetime) -> datetime:
    return dt.astimezone(ROME)


def day_label(dt: datetime, language: str | None = "it") -> str:
    """``"31 dicembre 2026"`` in Europe/Rome (``"31 December 2026"``)."""
    return day_month_year(dt, language)


def short_date(dt: datetime) -> str:
    """``"31/12/2026"`` in Europe/Rome."""
    return local(dt).strftime("%d/%m/%Y")


def when_label(dt: datetime, reference: datetime, language: str | None = "it") -> str:
    """``"oggi alle 15:00"``, ``"domani alle 9:00"``, ``"martedì 3 marzo alle 9:00"``
    (``"tomorrow at 9:00"``, ``"Tuesday 3 March at 9:00"``)."""
    d, r = local(dt), local(reference)
    hour = f"{d.hour}:{d.minute:02d}"
    days = (d.date() - r.date()).days
    if days == 0:
        return tr(language, TODAY_AT, time=hour)
    if days == 1:
        return tr(language, TOMORROW_AT, time=hour)
    return tr(language, DAY_AT, day=day_and_month(d, language), time=hour)


# --- reading the tracker ----------------------------------------------------------------


def intent_of(tracker: Tracker) -> str | None:
    return (tracker.latest_message.get("intent") or {}).get("name")


def latest_text(tracker: Tracker) -> str:
    """What the citizen typed last; empty for a button payload such as ``/intent{...}``."""
    text = (tracker.latest_message.get("text") or "").strip()
    return "" if text.startswith("/") else text


def entity_values(tracker: Tracker, entity: str) -> list[Any]:
    return [
        e.get("value")
        for e in tracker.latest_message.get("entities") or []
        if e.get("entity") == entity
    ]


def latest_metadata(tracker: Tracker) -> dict[str, Any]:
    """Metadata the gateway sent with the latest message (e.g. a shared location)."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            metadata = event.get("metadata") or {}
            return metadata if isinstance(metadata, dict) else {}
    metadata = tracker.latest_message.get("metadata") or {}
    return metadata if isinstance(metadata, dict) else {}


def active_loop_name(tracker: Tracker) -> str | None:
    return (tracker.active_loop or {}).get("name")


def slot_value(tracker: Tracker, name: str) -> Any:
    """A slot's value, with the "does not matter" marker read as no value."""
    value = tracker.get_slot(name)
    return None if value in (None, "", ANY) else value


# --- understanding short answers -------------------------------------------------------------


def fold(text: str) -> str:
    """Lowercase, accents removed, single spaces."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(re.findall(r"[a-z0-9']+", plain))


_SKIP_RE = re.compile(
    r"\b(salta|saltiamo|skip|non importa|non mi importa|importa poco|indifferente|"
    r"qualsiasi|qualunque|ovunque|dovunque|tutta firenze|tutta la citta|in tutta|"
    r"tutte le zone|fa lo stesso|e uguale|uguale|non ha importanza|nessuna preferenza|"
    r"va bene tutto|vanno bene tutti|non so|boh|passa|avanti|lascia stare|"
    # English: the answers an English conversation gives to the same questions
    r"doesn't matter|does not matter|dont mind|don't mind|no preference|anywhere|any area|"
    r"all of florence|whatever|i don't know|i dont know|not sure|never mind)\b"
)


def is_skip(text: str) -> bool:
    """True when a short answer means "it does not matter" / "skip this question"."""
    return bool(_SKIP_RE.search(fold(text)))


_NUMBER_WORDS = {
    "zero": 0, "uno": 1, "un": 1, "una": 1, "due": 2, "tre": 3, "quattro": 4, "cinque": 5,
    "sei": 6, "sette": 7, "otto": 8, "nove": 9, "dieci": 10, "undici": 11, "dodici": 12,
    "tredici": 13, "quattordici": 14, "quindici": 15, "sedici": 16, "diciassette": 17,
    "diciotto": 18, "diciannove": 19, "venti": 20,
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
    "twenty": 20,
}  # fmt: skip


def parse_age(text: str) -> int | None:
    """The age in a short answer: "8", "ha 8 anni", "otto", "6 mesi" (0), "eight", "6 months"
    (0). None if absent."""
    folded = fold(text)
    if re.search(r"\b(mes[ei]|months?)\b", folded):
        return 0
    match = re.search(r"\b(\d{1,3})\b", folded)
    if match:
        value = int(match.group(1))
        return value if 0 <= value <= 110 else None
    for word in folded.split():
        if word in _NUMBER_WORDS:
            return _NUMBER_WORDS[word]
    return None


_CODE_SYMBOLS = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
_CODE_RE = re.compile(r"(?<![A-Za-z0-9])([A-Za-z0-9]{4})[\s\-]?([A-Za-z0-9]{4})(?![A-Za-z0-9])")


def find_link_code(text: str, *, expecting: bool = False) -> str | None:
    """A linking code ("K7QF-2M9P", "k7qf 2m9p", "codice K7QF2M9P") in the text, upper case.

    An 8-letter word without digits and without a dash counts only when a code is
    expected or the word "codice" comes before it (so "permesso" is not a code).
    """
    cued = expecting or bool(re.search(r"\bcodic[ei]\b", text, re.IGNORECASE))
    for match in _CODE_RE.finditer(text):
        raw = match.group(0)
        code = (match.group(1) + match.group(2)).upper()
        if any(ch not in _CODE_SYMBOLS for ch in code):
            continue
        separated = len(raw) == 9
        if any(ch.isdigit() for ch in code) or separated or cued:
            return f"{code[:4]}-{code[4:]}"
    return None


# --- opening hours --------------------------------------------------------------------------


def open_status(hours_text: str, reference: datetime, language: str | None = "it") -> str:
    """ "Aperto ora, fino alle 13:00" / "Chiuso ora: riapre domani alle 9:00" / "Solo su
    appuntamento". Empty when the hours are unknown or cannot be read."""
    try:
        hours = OpeningHours.parse(hours_text)
    except ValueError:
        return ""
    if not hours.intervals:
        return tr(language, N_("Solo su appuntamento.")) if hours.by_appointment else ""
    if hours.is_open(reference):
        d = local(reference)
        minute, weekday = d.hour * 60 + d.minute, d.weekday()
        ends = [
            iv.end for iv in hours.intervals if iv.day == weekday and iv.start <= minute < iv.end
        ] + [
            iv.end - MINUTES_PER_DAY
            for iv in hours.intervals
            if iv.day == (weekday - 1) % 7 and minute < iv.end - MINUTES_PER_DAY
        ]
        end = max(ends) % MINUTES_PER_DAY
        return tr(language, N_("Aperto ora, fino alle {time}."), time=f"{end // 60}:{end % 60:02d}")
    opening = hours.next_opening(reference)
    if opening is None:
        return tr(language, N_("Chiuso ora."))
    return tr(
        language, N_("Chiuso ora: riapre {when}."), when=when_label(opening, reference, language)
    )


def hours_description(hours_text: str, language: str | None = "it") -> str:
    """The hours in words ("dal lunedì al venerdì 9:00–13:00", "Monday to Friday
    9:00–13:00"), or the raw text when it cannot be read."""
    try:
        hours = OpeningHours.parse(hours_text)
    except ValueError:
        return hours_text
    if language in (None, "it"):
        return hours.describe()
    return _hours_words(hours, language)


def _hhmm(minutes: int) -> str:
    minutes %= MINUTES_PER_DAY
    return f"{minutes // 60}:{minutes % 60:02d}"


def _and(items: list[str], language: str | None) -> str:
    if len(items) == 1:
        return items[0]
    return tr(language, N_("{items} e {last}"), items=", ".join(items[:-1]), last=items[-1])


def _hours_words(hours: OpeningHours, language: str | None) -> str:
    """OpeningHours.describe() in another language, with Babel's names of the days."""
    if not hours.intervals:
        if hours.by_appointment:
            return tr(language, N_("solo su appuntamento"))
        return tr(language, N_("orari non indicati"))
    parts = []
    for ranges, days in hours.day_groups():
        times = _and([f"{_hhmm(s)}–{_hhmm(e)}" for s, e in ranges], language)
        consecutive = all((b - a) % 7 == 1 for a, b in itertools.pairwise(days))
        if len(days) == 7:
            when = tr(language, N_("tutti i giorni"))
        elif consecutive and len(days) >= 3:
            when = tr(
                language,
                N_("da {first} a {last}"),
                first=weekday_name(days[0], language),
                last=weekday_name(days[-1], language),
            )
        else:
            when = _and([weekday_name(d, language) for d in days], language)
        parts.append(f"{when} {times}")
    text = "; ".join(parts)
    if hours.by_appointment:
        return tr(language, N_("{hours} (su appuntamento)"), hours=text)
    return text


def map_link(lat: float, lon: float) -> str:
    return (
        f"https://www.openstreetmap.org/?mlat={lat:.5f}&mlon={lon:.5f}#map=17/{lat:.5f}/{lon:.5f}"
    )


def details_button(number: int, code: str, language: str | None = "it") -> dict[str, str]:
    """ "Dettagli 3" -> ``/service_details{"service_code":"..."}``."""
    return {
        "title": tr(language, N_("Dettagli {number}"), number=number),
        "payload": f'/service_details{{"service_code":"{code}"}}',
    }


# the price units of the catalogue (data/catalog/): cost wording, translated; another unit
# stays as the provider wrote it
PRICE_UNITS = (N_("al mese"), N_("all'ora"), N_("a seduta"), N_("una tantum"),
               N_("a settimana"), N_("al giorno"), N_("a visita"), N_("a pasto"),
               N_("a viaggio"), N_("a consegna"))  # fmt: skip


def cost_words(service: Service, language: str | None = "it") -> str:
    """ "gratuito", "45,00 € al mese", "quota a carico: 30,00 € al mese"."""
    unit = f" {tr(language, service.price_unit.strip())}" if service.price_unit else ""
    if service.cost_mode == CostMode.free:
        return tr(language, N_("gratuito"))
    if service.cost_mode == CostMode.co_payment:
        if service.price_cents:
            return tr(
                language,
                N_("quota a carico: {amount}{unit}"),
                amount=money(service.price_cents, language),
                unit=unit,
            )
        return tr(language, N_("con una quota a carico (chiedi l'importo al servizio)"))
    if service.price_cents:
        return f"{money(service.price_cents, language)}{unit}"
    return tr(language, N_("a pagamento"))
