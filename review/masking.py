"""Personal data out of a citizen's words before they can become training data.

``mask`` replaces what looks like an e-mail, an IBAN, a tax code, a phone number, a street
address or a person's name with a placeholder (``<email>``, ``<nome>``...). It errs on the
side of masking; the reviewer sees the result and can mask more (``widen``), never less.
Placeholders use angle brackets: square ones mean an entity in Rasa's training format.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    name = "nome"
    phone = "telefono"
    tax_code = "codice_fiscale"
    email = "email"
    iban = "iban"
    address = "indirizzo"

    @property
    def placeholder(self) -> str:
        return f"<{self.value}>"

    @property
    def label(self) -> str:
        return KIND_LABELS[self]


KIND_LABELS: dict[Kind, str] = {
    Kind.name: "Nome di persona",
    Kind.phone: "Numero di telefono",
    Kind.tax_code: "Codice fiscale",
    Kind.email: "E-mail",
    Kind.iban: "IBAN",
    Kind.address: "Indirizzo",
}

_OMOCODE = "[0-9LMNPQRSTUV]"
_UPPER = "A-ZÀÈÉÌÒÙ"
_WORD = f"[{_UPPER}][a-zàèéìòù']+"
# the order matters: what is more specific first (an IBAN holds digits a phone would take)
PATTERNS: tuple[tuple[Kind, re.Pattern[str]], ...] = (
    (Kind.email, re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")),
    (
        Kind.iban,
        re.compile(
            r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){3,7}(?: ?[A-Z0-9]{1,4})?\b",
            re.IGNORECASE,
        ),
    ),
    (
        Kind.tax_code,
        re.compile(
            rf"\b[A-Z]{{6}}{_OMOCODE}{{2}}[A-Z]{_OMOCODE}{{2}}[A-Z]{_OMOCODE}{{3}}[A-Z]\b",
            re.IGNORECASE,
        ),
    ),
    (Kind.phone, re.compile(r"(?<![\w+])(?:\+|00)?\d(?:[ ./-]?\d){7,13}(?!\w)")),
    (
        Kind.address,
        re.compile(
            r"\b(?:via|viale|piazza|piazzale|corso|largo|vicolo|borgo|lungarno|via\s+dei|"
            r"via\s+del|via\s+della)\s+[\w'À-ÿ. ]{2,40}?,?\s+\d{1,4}(?:\s?/\s?\w+|[a-z])?\b",
            re.IGNORECASE,
        ),
    ),
    (
        Kind.name,
        re.compile(
            r"(?:\b(?:mi chiamo|il mio nome è|sono|nome|cognome|signora|signor|sig\.ra|sig\.|"
            r"[Cc]iao|[Bb]uongiorno|[Bb]uonasera|[Gg]entile|[Cc]aro|[Cc]ara)"
            rf"\s+)({_WORD}(?:\s+{_WORD})?)"
        ),
    ),
)
PLACEHOLDER = re.compile(r"<(?:" + "|".join(k.value for k in Kind) + r")>")


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    kind: Kind


def find(text: str) -> list[Span]:
    """The spans to mask, without overlaps, in order."""
    taken: list[Span] = []
    for kind, pattern in PATTERNS:
        for match in pattern.finditer(text):
            group = 1 if pattern.groups else 0
            start, end = match.start(group), match.end(group)
            if any(start < s.end and s.start < end for s in taken):
                continue
            if PLACEHOLDER.fullmatch(text[start:end]):
                continue
            taken.append(Span(start, end, kind))
    return sorted(taken, key=lambda s: s.start)


def mask(text: str) -> str:
    """``text`` with every span of ``find`` replaced by its placeholder."""
    out: list[str] = []
    last = 0
    for span in find(text):
        out.append(text[last : span.start])
        out.append(span.kind.placeholder)
        last = span.end
    out.append(text[last:])
    return "".join(out)


@dataclass(frozen=True)
class Widened:
    text: str
    start: int  # where the placeholder now stands
    removed: int  # characters of the old text replaced
    added: int  # characters of the placeholder


def widen(text: str, *, start: int, end: int, kind: Kind) -> Widened:
    """Mask ``text[start:end]`` too (a reviewer's choice); the span is stretched to whole
    words so that no piece of a word is left beside the placeholder."""
    if not 0 <= start < end <= len(text):
        raise ValueError("span out of the text")
    while start > 0 and text[start - 1].isalnum():
        start -= 1
    while end < len(text) and text[end].isalnum():
        end += 1
    placeholder = kind.placeholder
    return Widened(text[:start] + placeholder + text[end:], start, end - start, len(placeholder))
