"""The organisation's part of the application page: its fields from form text, each problem
as a polite Italian message for the field it concerns."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from catalog.areas import QUARTIERI
from catalog.models import ProviderKind
from providers.ethics import EthicalCode
from providers.form_fields import Parsed, free_text, one_line

LEGAL_FORMS: dict[str, str] = {
    ProviderKind.cooperative.value: "Cooperativa o impresa sociale",
    ProviderKind.third_sector.value: "Associazione o ente del terzo settore",
    ProviderKind.business.value: "Impresa o negozio",
    ProviderKind.public_body.value: "Ente pubblico",
}

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_VAT = re.compile(r"^\d{11}$")  # partita IVA, or the numeric codice fiscale of an organisation
_PERSON_CF = re.compile(r"^[A-Z]{6}\d{2}[A-Z]\d{2}[A-Z]\d{3}[A-Z]$")
_PHONE = re.compile(r"^[+0-9 ./()-]{6,30}$")


class ApplicationForm(Parsed):
    """The organisation's fields, or the Italian problems of each (``errors``)."""


def normalise_tax_code(raw: str) -> str:
    return re.sub(r"[\s.-]", "", raw).upper().removeprefix("IT")


def parse_application(
    values: Mapping[str, Any],
    *,
    quartieri: Sequence[str],
    accepted: Sequence[str],
    code: EthicalCode,
) -> ApplicationForm:
    form = ApplicationForm()
    data, errors = form.data, form.errors
    data["org_name"] = one_line(values, "org_name", 200)
    if len(data["org_name"]) < 3:
        errors["org_name"] = "Scrivi il nome dell'organizzazione."
    data["legal_form"] = one_line(values, "legal_form", 20)
    if data["legal_form"] not in LEGAL_FORMS:
        errors["legal_form"] = "Scegli la forma giuridica dall'elenco."
    data["tax_code"] = normalise_tax_code(one_line(values, "tax_code", 30))
    if not (_VAT.match(data["tax_code"]) or _PERSON_CF.match(data["tax_code"])):
        errors["tax_code"] = (
            "Il codice fiscale o la partita IVA non è valido: sono 11 cifre (o 16 caratteri)."
        )
    data["seat"] = one_line(values, "seat", 300)
    if len(data["seat"]) < 5:
        errors["seat"] = "Scrivi l'indirizzo della sede."
    data["contact_name"] = one_line(values, "contact_name", 120)
    if len(data["contact_name"]) < 3:
        errors["contact_name"] = "Scrivi nome e cognome della persona di riferimento."
    data["email"] = one_line(values, "email", 254).lower()
    if not _EMAIL.match(data["email"]):
        errors["email"] = "L'indirizzo email non è valido."
    data["phone"] = one_line(values, "phone", 50)
    if data["phone"] and not _PHONE.match(data["phone"]):
        errors["phone"] = "Il numero di telefono non è valido."
    data["website"] = one_line(values, "website", 300)
    if data["website"] and not data["website"].startswith(("http://", "https://")):
        data["website"] = "https://" + data["website"]
    data["description"] = free_text(values, "description", 4000)
    chosen = [q for q in QUARTIERI if q in set(quartieri)]
    if not chosen:
        errors["quartieri"] = "Indica almeno un quartiere in cui lavorate."
    data["quartieri"] = chosen
    missing = [p for p in code.points if p.id not in set(accepted)]
    if missing:
        titles = ", ".join(f"«{p.title}»" for p in missing)
        errors["code"] = (
            "Per aderire bisogna accettare ogni punto del codice etico. Mancano: " + titles + "."
        )
    data["code_version"] = code.version
    data["accepted_points"] = [p.id for p in code.points if p.id in set(accepted)]
    return form
