"""The catalogue of the city's offices: where to turn for what is not welfare.

``data/offices/*.yaml`` lists the offices and channels of the Comune di Firenze and of the
city's utilities (registry office, taxes, mobility/ZTL, waste, schools, municipal police,
the general contact centre), each with its topics, contacts and source. The files are
edited like the service catalogue and checked the same way: every problem is reported as
``file:line: reason`` (``python -m catalog offices``).

``office_for(text, language)`` names the office whose topics the words match best, or None;
``general_office()`` is the entry marked ``general: true`` (the contact centre), the answer
when nothing matches.

Every word a citizen reads is given per language (``what: {it: ..., en: ...}``; the
languages of locale/languages.yml): what the office is for, the descriptive part of its
name, the contacts' notes, and the topics citizens use. A plain string is a proper name,
the same in every language («Alia Servizi Ambientali»). A language missing from an entry
falls back to Italian and is listed by ``OfficeDirectory.untranslated`` (``python -m catalog
offices`` prints it; tests/actions/test_offices.py fails on it), so adding a language is
data only. Topics are matched in the citizen's language and in Italian (the Comune's own
words, «TARI», «ZTL», «anagrafe», are typed in every language).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import Literal

import snowballstemmer
from babel import Locale, UnknownLocaleError
from pydantic import BaseModel, ConfigDict, Field, field_validator

from catalog.importer import Issue, _validate
from catalog.text import fold, terms
from core.i18n import languages
from core.settings import PROJECT_ROOT

OFFICES_DIR = PROJECT_ROOT / "data" / "offices"
_CODE_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")

# A text of the directory: a proper name (the same in every language) or one per language.
Text = str | dict[str, str]


def _check_languages(value: Mapping[str, object]) -> None:
    config = languages()
    unknown = sorted(set(value) - set(config.codes))
    if unknown:
        raise ValueError(f"unknown language {', '.join(unknown)} (locale/languages.yml)")
    if config.source not in value:
        raise ValueError(f"the Italian text ({config.source}) is required")


def _check_text(value: Text) -> Text:
    if isinstance(value, dict):
        _check_languages(value)
        for code, text in value.items():
            if not text.strip():
                raise ValueError(f"empty text for {code}")
        return {code: text.strip() for code, text in value.items()}
    if not value.strip():
        raise ValueError("empty text")
    return value.strip()


def text_in(value: Text, language: str | None) -> str:
    """``value`` in ``language``; the Italian text when that language is missing."""
    if isinstance(value, str):
        return value
    return value.get(language or "") or value[languages().source]


def _missing(value: Text, language: str) -> bool:
    return isinstance(value, dict) and language not in value


class ContactRow(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    kind: Literal["phone", "web", "email", "app", "address", "note"]
    value: Text  # words (one per language) only for a note
    note: Text = ""

    @field_validator("value")
    @classmethod
    def _value(cls, value: Text) -> Text:
        return _check_text(value)

    @field_validator("note")
    @classmethod
    def _note(cls, value: Text) -> Text:
        return _check_text(value) if value else value

    def value_in(self, language: str | None) -> str:
        return text_in(self.value, language)

    def note_in(self, language: str | None) -> str:
        return text_in(self.note, language) if self.note else ""

    def describe(self) -> str:
        """ "055 055 (Contact center del Comune)" in Italian, for staff (the CLI)."""
        label = {
            "phone": "telefono ",
            "web": "sito ",
            "email": "e-mail ",
            "app": "app ",
            "address": "",
            "note": "",
        }[self.kind]
        text = f"{label}{self.value_in('it')}"
        note = self.note_in("it")
        return f"{text} ({note})" if note else text


class OfficeRow(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    code: str
    name: Text  # a proper name, or one per language when it has descriptive words
    what: dict[str, str]  # words: always one per language
    topics: dict[str, list[str]]  # per language
    contacts: list[ContactRow] = Field(min_length=1)
    source: str = Field(min_length=5)
    verified: bool
    general: bool = False

    @field_validator("code")
    @classmethod
    def _code(cls, value: str) -> str:
        if not _CODE_RE.match(value):
            raise ValueError("use lowercase letters, digits and dashes")
        return value

    @field_validator("name")
    @classmethod
    def _name(cls, value: Text) -> Text:
        checked = _check_text(value)
        if any(len(text) < 3 for text in _texts(checked)):
            raise ValueError("a name of at least 3 characters")
        return checked

    @field_validator("what")
    @classmethod
    def _what(cls, value: dict[str, str]) -> dict[str, str]:
        checked = _check_text(value)
        assert isinstance(checked, dict)
        if any(len(text) < 3 for text in checked.values()):
            raise ValueError("at least 3 characters in every language")
        return checked

    @field_validator("topics")
    @classmethod
    def _topics(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        _check_languages(value)
        for code, topics in value.items():
            if not topics:
                raise ValueError(f"no topics for {code}")
            for topic in topics:
                if not words_of(topic, code):
                    raise ValueError(f"topic '{topic}' has no searchable word")
        return value

    @field_validator("contacts")
    @classmethod
    def _contacts(cls, value: list[ContactRow]) -> list[ContactRow]:
        for contact in value:
            if isinstance(contact.value, dict) and contact.kind != "note":
                raise ValueError(f"a {contact.kind} is one value, the same in every language")
            if contact.kind == "web" and not contact.value_in(None).startswith("https://"):
                raise ValueError(f"web address '{contact.value_in(None)}' must start with https://")
        if all(c.kind == "note" for c in value):
            raise ValueError("at least one contact besides notes")
        return value


def _texts(value: Text) -> Iterable[str]:
    return value.values() if isinstance(value, dict) else (value,)


@cache
def _stemmer(language: str) -> Callable[[str], str] | None:
    """Snowball's stemmer of ``language`` (English, Romanian, Arabic...), if it has one."""
    try:
        name = Locale.parse(language).english_name
    except (ValueError, UnknownLocaleError):
        return None
    algorithm = (name or "").lower()
    if algorithm not in snowballstemmer.algorithms():
        return None
    return snowballstemmer.stemmer(algorithm).stemWord


def words_of(text: str, language: str) -> list[str]:
    """The words of ``text`` as topics are matched in ``language``: the search's Italian
    terms (catalog.text) for Italian; lower case, accents removed and Snowball's stem for
    another language («fines» and «fine» alike)."""
    if language == "it":
        return terms(fold(text))
    stem = _stemmer(language)
    tokens = re.findall(r"[^\W_]+", fold(text).lower())
    return [stem(token) if stem else token for token in tokens]


@dataclass(frozen=True, slots=True)
class Office:
    code: str
    name: str  # in Italian; name_in(language) for a citizen
    what: str  # in Italian; what_in(language) for a citizen
    contacts: tuple[ContactRow, ...]
    source: str
    verified: bool
    general: bool
    topics: dict[str, tuple[tuple[str, ...], ...]]  # language -> each topic as its words
    names: Text = ""
    whats: Mapping[str, str] = field(default_factory=dict)

    def name_in(self, language: str | None) -> str:
        return text_in(self.names or self.name, language)

    def what_in(self, language: str | None) -> str:
        return text_in(dict(self.whats) or self.what, language)

    def how_to_reach(self) -> str:
        return "; ".join(c.describe() for c in self.contacts)

    def untranslated(self, language: str) -> list[str]:
        """The fields with no text in ``language`` (it then reads Italian)."""
        missing = [name for name, value in (("name", self.names), ("what", dict(self.whats)))
                   if _missing(value, language)]  # fmt: skip
        missing += [] if language in self.topics else ["topics"]
        for index, contact in enumerate(self.contacts):
            for part in ("value", "note"):
                if _missing(getattr(contact, part), language):
                    missing.append(f"contacts.{index}.{part}")
        return missing


class OfficeDataError(ValueError):
    def __init__(self, issues: list[Issue]) -> None:
        super().__init__("\n".join(str(i) for i in issues))
        self.issues = issues


@dataclass(frozen=True, slots=True)
class OfficeDirectory:
    offices: tuple[Office, ...]
    lines: Mapping[str, str] = field(default_factory=dict)  # code -> "file:line"

    def general(self) -> Office | None:
        return next((o for o in self.offices if o.general), None)

    def untranslated(self, language: str) -> list[str]:
        """ "file:line: code: what, topics" for each office with texts missing in
        ``language`` (they read Italian in that language's conversations)."""
        found = []
        for office in self.offices:
            missing = office.untranslated(language)
            if missing:
                where = self.lines.get(office.code, office.code)
                found.append(f"{where}: {office.code}: no {language} text for {', '.join(missing)}")
        return found

    def match(self, text: str, language: str | None = None) -> Office | None:
        """The office whose topics the words match best (longer topics count more); the
        general contact only when nothing more specific matches. The topics of
        ``language`` and Italian ones; every language's when ``language`` is None."""
        best = self.scored_match(text, language)
        return best[1] if best else None

    def scored_match(self, text: str, language: str | None = None) -> tuple[int, Office] | None:
        """``match`` with its score: the number of words of the topics matched (1 for a lone
        word such as «scuola», 2 for «iscrizione scuola» or two lone words)."""
        source = languages().source
        codes = {source, language} if language else {c for o in self.offices for c in o.topics}
        words = {code: words_of(text, code) for code in codes}
        if not any(words.values()):
            return None
        best: tuple[int, Office] | None = None
        for office in self.offices:
            matched = {  # a topic two spellings share («scuola», «scuole») counts once
                topic
                for code in codes
                for topic in office.topics.get(code, ())
                if _contains(words[code], topic)
            }
            score = sum(len(topic) for topic in matched)
            if office.general:
                score = min(score, 1)  # any specific office wins over the general one
            if score and (best is None or score > best[0]):
                best = (score, office)
        return best


def _contains(words: list[str], topic: tuple[str, ...]) -> bool:
    n = len(topic)
    return any(tuple(words[i : i + n]) == topic for i in range(len(words) - n + 1))


def load_offices(directory: Path = OFFICES_DIR) -> OfficeDirectory:
    """Read and check every ``*.yaml`` of ``directory``; raises ``OfficeDataError`` with
    ``file:line: reason`` issues (one general office at most, codes unique)."""
    issues: list[Issue] = []
    offices: list[Office] = []
    seen: dict[str, str] = {}
    lines: dict[str, str] = {}
    general: list[str] = []
    for path in sorted(directory.glob("*.yaml")):
        for line, row in _validate(path, OfficeRow, issues):
            where = f"{path}:{line}"
            if row.code in seen:
                issues.append(
                    Issue(str(path), line, f"duplicate code '{row.code}' ({seen[row.code]})")
                )
                continue
            seen[row.code] = where
            lines[row.code] = where
            if row.general:
                general.append(where)
            source = languages().source
            offices.append(
                Office(
                    code=row.code,
                    name=text_in(row.name, source),
                    what=row.what[source],
                    contacts=tuple(row.contacts),
                    source=row.source,
                    verified=row.verified,
                    general=row.general,
                    topics={
                        code: tuple(tuple(words_of(topic, code)) for topic in topics)
                        for code, topics in row.topics.items()
                    },
                    names=row.name,
                    whats=row.what,
                )
            )
    if len(general) > 1:
        issues.append(
            Issue(
                general[1].rsplit(":", 1)[0],
                int(general[1].rsplit(":", 1)[1]),
                "only one office may be general: true",
            )
        )
    if issues:
        raise OfficeDataError(issues)
    return OfficeDirectory(tuple(offices), lines)


@lru_cache(maxsize=1)
def office_directory() -> OfficeDirectory:
    """The offices of data/offices, read once per process."""
    return load_offices()


def office_for(text: str, language: str | None = None) -> Office | None:
    """The office for ``text`` (see ``OfficeDirectory.match``)."""
    return office_directory().match(text, language)


def scored_office_for(text: str, language: str | None = None) -> tuple[int, Office] | None:
    """The office for ``text`` and its score (see ``OfficeDirectory.scored_match``)."""
    return office_directory().scored_match(text, language)


def general_office() -> Office | None:
    return office_directory().general()
