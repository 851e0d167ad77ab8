"""The two files of a data copy: a readable PDF in plain words and a JSON for machines.

The JSON follows the schema ``welcome.data-copy`` version 1 (docs/contracts.md): times
ISO-8601 with the Europe/Rome offset, money in integer cents, one key per section. The PDF
(WeasyPrint, as the monthly report) shows the same sections as tables, money in euro and
times as «07/12/2026 10:30», in the conversation's language (privacy.copy_wording, the
gateway's catalogue; the numbers in that language's way). Neither is ever logged; the
console's audit line keeps only their sizes and SHA-256.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from babel.numbers import format_currency
from jinja2 import Environment, FileSystemLoader, select_autoescape

from catalog.hours import ROME
from core.i18n import gettext, languages
from privacy import copy_wording as words
from privacy.copy_wording import FIELD_LABELS
from privacy.data_copy import SCHEMA, SCHEMA_VERSION, DataCopy, iso

TEMPLATES = Path(__file__).parent / "templates"
PDF_MIME = "application/pdf"
JSON_MIME = "application/json"


@dataclass(frozen=True)
class CopyFile:
    filename: str
    mime_type: str
    content: bytes

    @property
    def size_bytes(self) -> int:
        return len(self.content)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def as_json(copy: DataCopy) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "created_at": iso(copy.created_at),
        "channel": copy.channel,
        **{section.key: section.items for section in copy.sections},
    }


def json_file(copy: DataCopy) -> CopyFile:
    content = json.dumps(as_json(copy), ensure_ascii=False, indent=2).encode("utf-8")
    return CopyFile(_filename(copy, "json"), JSON_MIME, content)


def _filename(copy: DataCopy, extension: str) -> str:
    day = f"{copy.created_at.astimezone(ROME):%Y-%m-%d}"
    return gettext(copy.language, words.FILENAME).format(day=day) + f".{extension}"


def euro(cents: int, language: str = "it") -> str:
    if language != languages().source:  # "€500.00" in English
        return format_currency(cents / 100, "EUR", locale=language)
    sign = "-" if cents < 0 else ""
    whole, rest = divmod(abs(cents), 100)
    return f"{sign}{whole:,}".replace(",", ".") + f",{rest:02d} €"


def readable(key: str, value: Any, language: str = "it") -> str:
    """One value as the PDF shows it, in ``language``."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return gettext(language, words.YES if value else words.NO)
    if key.endswith("_cents") and isinstance(value, int):
        return euro(value, language)
    if key == "file" and isinstance(value, dict):
        text = gettext(language, words.FILE_NOT_IN_COPY)
        return text.format(type=value.get("type"), bytes=value.get("bytes"))
    if key == "from" and isinstance(value, str):
        return gettext(language, value)  # cittadino, assistente, operatore
    if key == "notes" and isinstance(value, list):
        return "\n".join(f"{readable('at', n.get('at'), language)}: {n.get('text')}" for n in value)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] == "T":
        try:
            return datetime.fromisoformat(value).astimezone(ROME).strftime("%d/%m/%Y %H:%M")
        except ValueError:
            return value
    return str(value)


def _environment() -> Environment:
    return Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))


def html_text(copy: DataCopy) -> str:
    language = copy.language

    def t(text: str, **fields: Any) -> str:
        return gettext(language, text).format(**fields)

    when = copy.created_at.astimezone(ROME)
    return (
        _environment()
        .get_template("data_copy.html")
        .render(
            copy=copy,
            language=language,
            words=words,
            t=t,
            show=lambda key, value: readable(key, value, language),
            label=lambda key: t(FIELD_LABELS[key]) if key in FIELD_LABELS else key,
            section_label=lambda key, label: t(words.SECTION_LABELS.get(key, label)),
            created=t(words.CREATED_AT, day=f"{when:%d/%m/%Y}", time=f"{when:%H:%M}"),
        )
    )


def pdf_file(copy: DataCopy) -> CopyFile:
    from weasyprint import HTML  # imported here: loading Pango takes a moment

    content = HTML(string=html_text(copy), base_url=str(TEMPLATES)).write_pdf()
    assert content is not None
    return CopyFile(_filename(copy, "pdf"), PDF_MIME, content)


def build_files(copy: DataCopy) -> list[CopyFile]:
    """The readable PDF first, then the JSON."""
    return [pdf_file(copy), json_file(copy)]
