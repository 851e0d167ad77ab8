"""The citizen's language in the actions, and the actions' texts in it.

Every text an action writes for a citizen is an Italian msgid, as the code writes it,
marked ``N_("...")`` where it is defined as a constant and translated with
``tr(language, text, **fields)`` where it is sent; ``locale/<code>/LC_MESSAGES/actions.po``
holds the translations (read with Babel by ``core.i18n``, domain ``actions``). Fields are
``{named}`` placeholders, filled AFTER translation. A missing translation falls back to
the Italian text; tests/language/test_action_catalogues.py gathers the msgids from the
action modules and asks for every translation. Service data (names, descriptions,
addresses, providers) stays Italian; the catalogue's category, target-group and cost
labels are translated by the gateway's catalogue (``label``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, get_day_names
from babel.numbers import format_currency
from rasa_sdk import Tracker

from catalog.hours import DAY_NAMES
from core.i18n import ACTIONS_DOMAIN, gettext, languages, supported
from welfare.ledger.money import format_eur

ROME = ZoneInfo("Europe/Rome")
SOURCE = "it"


def N_(text: str) -> str:  # gettext's usual name: a msgid, translated later
    """Marks ``text`` as a msgid of the actions' catalogue; returns it unchanged."""
    return text


def language_of(tracker: Tracker) -> str:
    """The citizen's language: the slot ``language``, else the ``language`` the gateway sent
    in the latest message's metadata, else Italian (only languages the assistant speaks)."""
    slot = tracker.get_slot("language") if "language" in tracker.slots else None
    if isinstance(slot, str) and slot:
        return supported(slot)
    candidates: list[Any] = [tracker.latest_message.get("metadata")]
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            candidates.append(event.get("metadata"))
            break
    for metadata in candidates:
        if isinstance(metadata, dict) and isinstance(metadata.get("language"), str):
            return supported(metadata["language"])
    return languages().source


def tr(language: str | None, text: str, **fields: Any) -> str:
    """``text`` (an Italian msgid) in ``language``, its ``{fields}`` filled after."""
    translated = gettext(language, text, domain=ACTIONS_DOMAIN)
    return translated.format(**fields) if fields else translated


def label(language: str | None, text: str) -> str:
    """A label of the catalogue's vocabulary (category, target group, cost mode), which
    the gateway's catalogue translates (catalog.vocabulary, gateway.po)."""
    return gettext(language, text)


def button(language: str | None, template: Mapping[str, str]) -> dict[str, str]:
    """A button with its title in ``language`` (the payload unchanged)."""
    return {**template, "title": tr(language, template["title"])}


def buttons(language: str | None, templates: list[dict[str, str]]) -> list[dict[str, str]]:
    return [button(language, b) for b in templates]


# --- money and dates ---------------------------------------------------------------------------


def money_words(cents: int, language: str | None) -> str:
    """``1250`` -> ``"12,50 €"`` (Italian, welfare.ledger.money) or ``"€12.50"``."""
    code = supported(language)
    if code == SOURCE:
        return format_eur(cents)
    return format_currency(Decimal(cents) / 100, "EUR", locale=Locale.parse(code))


_ITALIAN_MONTHS = ("gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio",
                   "agosto", "settembre", "ottobre", "novembre", "dicembre")  # fmt: skip
_ITALIAN_SHORT_DAYS = ("lun", "mar", "mer", "gio", "ven", "sab", "dom")


def day_month_year(moment: datetime | date, language: str | None) -> str:
    """``"31 dicembre 2026"`` / ``"31 December 2026"`` (a datetime in Europe/Rome)."""
    d = moment.astimezone(ROME).date() if isinstance(moment, datetime) else moment
    code = supported(language)
    if code == SOURCE:
        return f"{d.day} {_ITALIAN_MONTHS[d.month - 1]} {d.year}"
    return format_date(d, "d MMMM y", locale=Locale.parse(code))


def short_weekday(day: int, language: str | None) -> str:
    """Monday = 0: ``"lun"`` / ``"Mon"``."""
    code = supported(language)
    if code == SOURCE:
        return _ITALIAN_SHORT_DAYS[day]
    return str(get_day_names("abbreviated", locale=Locale.parse(code))[day])


def weekday_name(day: int, language: str | None) -> str:
    """Monday = 0: ``"lunedì"`` / ``"Monday"``."""
    code = supported(language)
    if code == SOURCE:
        return DAY_NAMES[day]
    return str(get_day_names("wide", locale=Locale.parse(code))[day])
