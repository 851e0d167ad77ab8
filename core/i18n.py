"""The assistant's languages and the gateway's text catalogues (gettext, read with Babel).

The languages are data: ``locale/languages.yml`` lists them (the source language ``it``
first) with the words a citizen types to choose one, and the rule that detects them
(conversations/language.py). Every text the gateway itself writes is an Italian msgid, as the
code writes it; ``locale/<code>/LC_MESSAGES/gateway.po`` holds its translation, and
``actions.po`` beside it those of the Rasa actions' texts (``domain="actions"``). The ``.po``
files are read with Babel on first use, in memory: no compiled ``.mo`` is kept in git or on
disk. A text missing from a catalogue is sent in Italian (and fails
tests/language/test_catalogues.py). docs/languages.md says how to add a language.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path

import yaml
from babel import Locale
from babel.dates import format_date
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from core.settings import PROJECT_ROOT

LOCALE_DIR = PROJECT_ROOT / "locale"
DOMAIN = "gateway"  # the catalogue's name: locale/<code>/LC_MESSAGES/gateway.po
# The Rasa actions' texts have their own catalogue: locale/<code>/LC_MESSAGES/actions.po
ACTIONS_DOMAIN = "actions"


@dataclass(frozen=True)
class Language:
    code: str
    name: str  # in the language itself, as on the switch buttons
    words: tuple[str, ...]  # typed alone, they choose this language


@dataclass(frozen=True)
class DetectionRule:
    min_confidence: float
    min_letters: int
    switch_after: int


@dataclass(frozen=True)
class Languages:
    source: str
    languages: tuple[Language, ...]
    detect_also: tuple[str, ...]
    switch_words: tuple[str, ...]
    rule: DetectionRule

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(language.code for language in self.languages)

    def get(self, code: str) -> Language | None:
        return next((lang for lang in self.languages if lang.code == code), None)


def load_languages(path: Path | None = None) -> Languages:
    """Read and check ``locale/languages.yml`` (ValueError names what is wrong)."""
    path = path or LOCALE_DIR / "languages.yml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    source = str(raw.get("source") or "")
    languages = tuple(
        Language(
            code=str(item["code"]),
            name=str(item["name"]),
            words=tuple(str(w).lower() for w in item.get("words") or ()),
        )
        for item in raw.get("languages") or ()
    )
    codes = [language.code for language in languages]
    if not languages or codes[0] != source:
        raise ValueError(f"{path}: the first language must be the source language {source!r}")
    if len(set(codes)) != len(codes):
        raise ValueError(f"{path}: a language is listed twice")
    rule = raw.get("rule") or {}
    return Languages(
        source=source,
        languages=languages,
        detect_also=tuple(str(c) for c in raw.get("detect_also") or () if str(c) not in codes),
        switch_words=tuple(str(w).lower() for w in raw.get("switch_words") or ()),
        rule=DetectionRule(
            min_confidence=float(rule.get("min_confidence", 0.7)),
            min_letters=int(rule.get("min_letters", 4)),
            switch_after=max(1, int(rule.get("switch_after", 3))),
        ),
    )


@cache
def languages() -> Languages:
    return load_languages()


def supported(code: str | None) -> str:
    """``code`` if the assistant speaks it, else the source language."""
    config = languages()
    return code if code in config.codes else config.source


def catalogue_path(code: str, domain: str = DOMAIN) -> Path:
    return LOCALE_DIR / code / "LC_MESSAGES" / f"{domain}.po"


@cache
def catalogue(code: str, domain: str = DOMAIN) -> Catalog | None:
    """The language's catalogue, read from its ``.po`` (None for the source language, or
    when the language has no such catalogue yet: its texts then stay Italian)."""
    path = catalogue_path(code, domain)
    if code == languages().source or not path.exists():
        return None
    with path.open("rb") as handle:
        return read_po(handle, locale=code, domain=domain)


@cache
def _table(code: str, domain: str = DOMAIN) -> dict[str, str]:
    found = catalogue(code, domain)
    if found is None:
        return {}
    return {
        str(message.id): str(message.string)
        for message in found
        if message.id and isinstance(message.string, str) and message.string
        and not message.fuzzy
    }  # fmt: skip


def gettext(code: str | None, text: str, *, domain: str = DOMAIN) -> str:
    """``text`` (an Italian msgid) in the language ``code``; itself when untranslated.

    ``domain`` names the catalogue: the gateway's by default, ``ACTIONS_DOMAIN`` for the
    Rasa actions' texts."""
    code = supported(code)
    if code == languages().source or not text:
        return text
    return _table(code, domain).get(text, text)


def translated(code: str | None, text: str, *, domain: str = DOMAIN) -> bool:
    """Whether ``text`` has a translation in ``code`` (the source language always has)."""
    code = supported(code)
    return code == languages().source or text in _table(code, domain)


_ITALIAN_DAYS = ("lunedì", "martedì", "mercoledì", "giovedì", "venerdì", "sabato", "domenica")
_ITALIAN_MONTHS = ("gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio",
                   "agosto", "settembre", "ottobre", "novembre", "dicembre")  # fmt: skip


def day_and_month(day: date | datetime, code: str | None) -> str:
    """ "martedì 4 marzo" / "Tuesday 4 March": a day for citizens, in their language."""
    code = supported(code)
    if code == "it":
        return f"{_ITALIAN_DAYS[day.weekday()]} {day.day} {_ITALIAN_MONTHS[day.month - 1]}"
    return format_date(day, "EEEE d MMMM", locale=Locale.parse(code))


def language_name(code: str | None, *, in_language: str = "it") -> str:
    """A language's name for staff (Italian by default): "inglese", "rumeno"."""
    if not code:
        return "—"
    try:
        return Locale.parse(code).get_display_name(in_language) or code
    except (ValueError, LookupError):
        return code
