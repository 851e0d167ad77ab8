"""The two files of a data copy: a readable PDF in plain Italian and a JSON for machines.

The JSON follows the schema ``welcome.data-copy`` version 1 (docs/contracts.md): times
ISO-8601 with the Europe/Rome offset, money in integer cents, one key per section. The PDF
(WeasyPrint, as the monthly report) shows the same sections as tables, money in euro and
times as «07/12/2026 10:30». Neither is ever logged; the console's audit line keeps only
their sizes and SHA-256.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from catalog.hours import ROME
from privacy.data_copy import SCHEMA, SCHEMA_VERSION, DataCopy, iso

TEMPLATES = Path(__file__).parent / "templates"
PDF_MIME = "application/pdf"
JSON_MIME = "application/json"

#: the Italian name of each field, for the readable copy (the JSON keeps the English keys)
FIELD_LABELS = {
    "at": "Quando",
    "from": "Da chi",
    "kind": "Tipo",
    "text": "Testo",
    "file": "File",
    "channel": "Canale",
    "chat_started_at": "Chat iniziata il",
    "consent_version": "Versione dell'informativa",
    "consent_given_at": "Consenso dato il",
    "consent_declined_at": "Consenso rifiutato il",
    "active": "Attiva",
    "since": "Dal",
    "stopped_at": "Fermata il",
    "topics": "Quartieri e interessi",
    "number": "Numero",
    "place": "Dove",
    "starts_at": "Inizio",
    "ends_at": "Fine",
    "booked_at": "Prenotato il",
    "cancelled_at": "Annullato il",
    "reference": "Codice cittadino",
    "first_name": "Nome",
    "family_name": "Cognome",
    "tax_code": "Codice fiscale",
    "quartiere": "Quartiere",
    "employer": "Datore di lavoro",
    "budget": "Budget",
    "amount_cents": "Importo",
    "held_cents": "Importo bloccato",
    "service_code": "Servizio",
    "memo": "Nota",
    "code": "Codice",
    "provider_code": "Ente",
    "price_cents": "Prezzo",
    "covered_cents": "Pagato dal budget",
    "status": "Stato",
    "created_at": "Creato il",
    "closed_at": "Chiuso il",
    "paid_on": "Pagato il",
    "provider_name": "Pagato a",
    "beneficiary": "Per chi",
    "category": "Categoria",
    "approved_cents": "Importo approvato",
    "reason": "Motivo",
    "submitted_at": "Mandata il",
    "reviewed_at": "Decisa il",
    "requested_at": "Chiesta il",
    "taken_at": "Presa in carico il",
    "outcome": "Esito",
    "notes": "Note dell'operatore",
}


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
    return f"welcome-copia-dati-{copy.created_at.astimezone(ROME):%Y-%m-%d}.{extension}"


def euro(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    whole, rest = divmod(abs(cents), 100)
    return f"{sign}{whole:,}".replace(",", ".") + f",{rest:02d} €"


def readable(key: str, value: Any) -> str:
    """One value as the PDF shows it."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return "sì" if value else "no"
    if key.endswith("_cents") and isinstance(value, int):
        return euro(value)
    if key == "file" and isinstance(value, dict):
        return f"{value.get('type')}, {value.get('bytes')} byte (il file non è nella copia)"
    if key == "notes" and isinstance(value, list):
        return "\n".join(f"{readable('at', n.get('at'))}: {n.get('text')}" for n in value)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] == "T":
        try:
            return datetime.fromisoformat(value).astimezone(ROME).strftime("%d/%m/%Y %H:%M")
        except ValueError:
            return value
    return str(value)


def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
    env.globals["show"] = readable
    env.globals["label"] = lambda key: FIELD_LABELS.get(key, key)
    return env


def html_text(copy: DataCopy) -> str:
    return (
        _environment()
        .get_template("data_copy.html")
        .render(
            copy=copy,
            created=copy.created_at.astimezone(ROME).strftime("%d/%m/%Y alle %H:%M"),
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
