"""The catalogue of the city's offices: where to turn for what is not welfare.

``data/offices/*.yaml`` lists the offices and channels of the Comune di Firenze and of the
city's utilities (registry office, taxes, mobility/ZTL, waste, schools, municipal police,
the general contact centre), each with its topics, contacts and source. The files are
edited like the service catalogue and checked the same way: every problem is reported as
``file:line: reason`` (``python -m catalog offices``).

``office_for(text)`` names the office whose topics the words match best, or None;
``general_office()`` is the entry marked ``general: true`` (the contact centre), the answer
when nothing matches.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from catalog.importer import Issue, _validate
from catalog.text import fold, terms
from core.settings import PROJECT_ROOT

OFFICES_DIR = PROJECT_ROOT / "data" / "offices"
_CODE_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class ContactRow(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    kind: Literal["phone", "web", "email", "app", "address", "note"]
    value: str = Field(min_length=1)
    note: str = ""

    def describe(self) -> str:
        """ "055 055 (Contact center del Comune)" in the citizen's words."""
        label = {
            "phone": "telefono ",
            "web": "sito ",
            "email": "e-mail ",
            "app": "app ",
            "address": "",
            "note": "",
        }[self.kind]
        text = f"{label}{self.value}"
        return f"{text} ({self.note})" if self.note else text


class OfficeRow(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    code: str
    name: str = Field(min_length=3)
    what: str = Field(min_length=3)
    topics: list[str] = Field(min_length=1)
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

    @field_validator("topics")
    @classmethod
    def _topics(cls, value: list[str]) -> list[str]:
        for topic in value:
            if not terms(topic):
                raise ValueError(f"topic '{topic}' has no searchable word")
        return value

    @field_validator("contacts")
    @classmethod
    def _contacts(cls, value: list[ContactRow]) -> list[ContactRow]:
        for contact in value:
            if contact.kind == "web" and not contact.value.startswith("https://"):
                raise ValueError(f"web address '{contact.value}' must start with https://")
        if all(c.kind == "note" for c in value):
            raise ValueError("at least one contact besides notes")
        return value


@dataclass(frozen=True, slots=True)
class Office:
    code: str
    name: str
    what: str
    contacts: tuple[ContactRow, ...]
    source: str
    verified: bool
    general: bool
    topics: tuple[tuple[str, ...], ...]  # each topic as its terms

    def how_to_reach(self) -> str:
        return "; ".join(c.describe() for c in self.contacts)


class OfficeDataError(ValueError):
    def __init__(self, issues: list[Issue]) -> None:
        super().__init__("\n".join(str(i) for i in issues))
        self.issues = issues


@dataclass(frozen=True, slots=True)
class OfficeDirectory:
    offices: tuple[Office, ...]

    def general(self) -> Office | None:
        return next((o for o in self.offices if o.general), None)

    def match(self, text: str) -> Office | None:
        """The office whose topics the words match best (longer topics count more); the
        general contact only when nothing more specific matches."""
        words = terms(fold(text))
        if not words:
            return None
        best: tuple[int, Office] | None = None
        for office in self.offices:
            score = sum(len(topic) for topic in office.topics if _contains(words, topic))
            if office.general:
                score = min(score, 1)  # any specific office wins over the general one
            if score and (best is None or score > best[0]):
                best = (score, office)
        return best[1] if best else None


def _contains(words: list[str], topic: tuple[str, ...]) -> bool:
    n = len(topic)
    return any(tuple(words[i : i + n]) == topic for i in range(len(words) - n + 1))


def load_offices(directory: Path = OFFICES_DIR) -> OfficeDirectory:
    """Read and check every ``*.yaml`` of ``directory``; raises ``OfficeDataError`` with
    ``file:line: reason`` issues (one general office at most, codes unique)."""
    issues: list[Issue] = []
    offices: list[Office] = []
    seen: dict[str, str] = {}
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
            if row.general:
                general.append(where)
            offices.append(
                Office(
                    code=row.code,
                    name=row.name,
                    what=row.what,
                    contacts=tuple(row.contacts),
                    source=row.source,
                    verified=row.verified,
                    general=row.general,
                    topics=tuple(tuple(terms(topic)) for topic in row.topics),
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
    return OfficeDirectory(tuple(offices))


@lru_cache(maxsize=1)
def office_directory() -> OfficeDirectory:
    """The offices of data/offices, read once per process."""
    return load_offices()


def office_for(text: str) -> Office | None:
    return office_directory().match(text)


def general_office() -> Office | None:
    return office_directory().general()
