"""A service as a provider types it (the application page, the providers' console): the
catalogue's fields from form text, with a polite Italian message for each field that is
wrong. The result is a dict of ``catalog.models.Service`` fields, checked at the end by the
YAML import's own row schema (``catalog.importer.ServiceRow``), so both doors agree.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from catalog.areas import QUARTIERE_AREAS, QUARTIERI, in_florence
from catalog.hours import OpeningHours
from catalog.importer import ServiceRow
from catalog.models import CostMode
from catalog.vocabulary import CATEGORY_LABELS, TARGET_LABELS
from providers.form_fields import Parsed, free_text, one_line

# What the provider may change without a review when PROVIDER_TRUSTED_EDITS is on.
SMALL_EDIT_FIELDS = frozenset({"opening_hours", "contacts"})
CENTRE_NOTE = "posizione indicativa: centro del quartiere"

_COORDS = re.compile(r"^\s*(-?\d{1,3}(?:[.,]\d+)?)\s*[,; ]\s*(-?\d{1,3}(?:[.,]\d+)?)\s*$")
_EUROS = re.compile(r"^\s*(\d{1,6})(?:[.,](\d{1,2}))?\s*(?:€|euro)?\s*$", re.IGNORECASE)


@dataclass
class ServiceForm(Parsed):
    """The parsed service, or the Italian problems of each field (``errors``)."""

    centre_used: bool = False


def _age(raw: str, label: str, errors: dict[str, str], name: str) -> int | None:
    if not raw:
        return None
    if not raw.isdigit() or int(raw) > 120:
        errors[name] = f"{label}: scrivi un numero di anni tra 0 e 120."
        return None
    return int(raw)


def parse_euros(raw: str) -> int | None:
    """'12,50' or '12.50 €' as cents; None when it is not an amount."""
    match = _EUROS.match(raw)
    if match is None:
        return None
    cents = (match.group(2) or "0").ljust(2, "0")
    return int(match.group(1)) * 100 + int(cents)


def parse_coordinates(raw: str) -> tuple[float, float] | None:
    """'43.7765, 11.2480' (typed, or pasted from a map) as (lat, lon); None otherwise."""
    match = _COORDS.match(raw)
    if match is None:
        return None
    lat, lon = (float(g.replace(",", ".")) for g in match.groups())
    return lat, lon


def _location(values: Mapping[str, Any], form: ServiceForm) -> None:
    errors, data = form.errors, form.data
    quartiere = one_line(values, "quartiere", 2)
    if quartiere not in QUARTIERI:
        errors["quartiere"] = "Scegli il quartiere in cui si svolge il servizio."
        return
    data["quartiere"] = quartiere
    address = one_line(values, "address", 250)
    raw = one_line(values, "coordinates", 60)
    if raw:
        found = parse_coordinates(raw)
        if found is None:
            errors["coordinates"] = (
                "Le coordinate non si leggono: scrivi latitudine e longitudine separate da una "
                "virgola, per esempio 43.7765, 11.2480 (le copi da una mappa)."
            )
            return
        if not in_florence(*found):
            errors["coordinates"] = "Queste coordinate sono fuori da Firenze: controllale."
            return
        data["lat"], data["lon"] = found
        data["address"] = address
        return
    centre = QUARTIERE_AREAS[quartiere]
    data["lat"], data["lon"] = centre.lat, centre.lon
    data["address"] = f"{address} ({CENTRE_NOTE})" if address else CENTRE_NOTE.capitalize()
    form.centre_used = True


def _cost(values: Mapping[str, Any], form: ServiceForm) -> None:
    errors, data = form.errors, form.data
    mode = one_line(values, "cost_mode", 20)
    if mode not in CostMode.__members__:
        errors["cost_mode"] = "Scegli se il servizio è gratuito, con una quota o a pagamento."
        return
    data["cost_mode"] = mode
    data["price_unit"] = one_line(values, "price_unit", 40)
    raw = one_line(values, "price", 20)
    cents = parse_euros(raw) if raw else 0
    if cents is None:
        errors["price"] = "Il prezzo si scrive in euro, per esempio 12,50."
        return
    if mode == CostMode.free and cents:
        errors["price"] = "Un servizio gratuito non ha prezzo: lascia vuoto il campo."
        return
    if mode != CostMode.free and not cents:
        errors["price"] = "Indica il prezzo in euro."
        return
    data["price_cents"] = cents
    data["budget_payable"] = values.get("budget_payable") in ("1", "on", "true", True)
    if data["budget_payable"] and not cents:
        errors["budget_payable"] = "Il budget welfare può pagare solo un servizio con un prezzo."


def parse_service(values: Mapping[str, Any], *, target_groups: Sequence[str]) -> ServiceForm:
    """The service of a form (``target_groups`` are the ticked boxes)."""
    form = ServiceForm()
    errors, data = form.errors, form.data
    data["title"] = one_line(values, "title", 200)
    if len(data["title"]) < 3:
        errors["title"] = "Scrivi il nome del servizio."
    data["description"] = free_text(values, "description", 4000)
    if len(data["description"]) < 20:
        errors["description"] = "Descrivi il servizio in almeno una frase (20 caratteri)."
    category = one_line(values, "category", 40)
    if category not in CATEGORY_LABELS:
        errors["category"] = "Scegli il tipo di servizio dall'elenco."
    data["category"] = category
    groups = list(dict.fromkeys(g for g in target_groups if g in TARGET_LABELS))
    if not groups:
        errors["target_groups"] = "Indica almeno un gruppo di persone a cui si rivolge."
    data["target_groups"] = groups
    data["age_min"] = _age(one_line(values, "age_min", 5), "Età minima", errors, "age_min")
    data["age_max"] = _age(one_line(values, "age_max", 5), "Età massima", errors, "age_max")
    low, high = data["age_min"], data["age_max"]
    if low is not None and high is not None and low > high:
        errors["age_max"] = "L'età massima non può essere minore dell'età minima."
    _location(values, form)
    hours = one_line(values, "opening_hours", 300)
    try:
        OpeningHours.parse(hours)
    except ValueError:
        errors["opening_hours"] = (
            "Gli orari non si leggono: scrivi per esempio «lun-ven 9:00-13:00, sab 9:00-12:00» "
            "oppure «su appuntamento»."
        )
    data["opening_hours"] = hours
    _cost(values, form)
    data["how_to_access"] = free_text(values, "how_to_access", 2000)
    data["contacts"] = free_text(values, "contacts", 500)
    data["keywords"] = [
        k for k in (w.strip() for w in one_line(values, "keywords", 300).split(",")) if k
    ][:12]
    if not errors:
        check_row(data)
    return form


def check_row(data: Mapping[str, Any], *, code: str = "draft", provider: str = "draft") -> None:
    """The catalogue's own schema on a parsed service; a ValueError means a bug here."""
    try:
        ServiceRow.model_validate({**data, "code": code, "provider": provider})
    except ValidationError as error:
        raise ValueError(f"service form let through an invalid service: {error}") from None


def changed_fields(before: Mapping[str, Any], after: Mapping[str, Any]) -> set[str]:
    return {name for name, value in after.items() if before.get(name) != value}


def is_small_edit(before: Mapping[str, Any], after: Mapping[str, Any]) -> bool:
    """Only the hours or the contacts changed (PROVIDER_TRUSTED_EDITS publishes it at once)."""
    changed = changed_fields(before, after)
    return bool(changed) and changed <= SMALL_EDIT_FIELDS
