"""Details of one service: cost, budget, hours (open now?), how to access, where, contacts.

Which service: the ``service_code`` of a "Dettagli" button, else a number or an ordinal
in the message ("il secondo", "dettagli 3") read against the last list shown, else the
service the conversation is already talking about; otherwise the action asks.
"""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlmodel import Session, select

from actions.catalogue_guess import kind_the_catalogue_finds
from actions.common import (
    HANDOFF_BUTTON,
    SEARCH_BUTTON,
    WELCOME_POINT_BUTTON,
    cost_words,
    db_session,
    details_button,
    entity_values,
    fold,
    hours_description,
    latest_text,
    logger,
    map_link,
    now,
    open_status,
)
from actions.search import run_search
from actions.vouchers import pay_button
from actions.wording import N_, button, buttons, label, language_of, tr
from catalog.areas import QUARTIERI
from catalog.models import AdhesionStatus, CostMode, Provider, Service
from catalog.vocabulary import TARGET_LABELS

ORDINALS = {
    "primo": 1, "prima": 1, "secondo": 2, "seconda": 2, "terzo": 3, "terza": 3,
    "quarto": 4, "quarta": 4, "quinto": 5, "quinta": 5, "sesto": 6, "sesta": 6,
    "settimo": 7, "settima": 7, "ottavo": 8, "ottava": 8, "nono": 9, "nona": 9,
    "decimo": 10, "decima": 10, "ultimo": -1, "ultima": -1,
}  # fmt: skip
_NUMBER_RE = re.compile(
    r"(?:^|\b(?:numero|num|n|nr|dettagli|dettaglio|il|lo|la|quello|quella|servizio)\s*)"
    r"(\d{1,2})\s*$|^\s*(\d{1,2})\b"
)

ASK_WHICH_TEXT = N_("Di quale servizio vuoi sapere di più? Tocca il numero qui sotto.")
NO_LIST_TEXT = N_(
    "Dimmi prima che servizio cerchi, per esempio «cerco un centro estivo a Gavinana»: "
    "poi ti do tutti i dettagli."
)
NOT_FOUND_TEXT = N_("Scusa, questo servizio non è più disponibile nel catalogo.")
DB_ERROR_TEXT = N_("Scusa, in questo momento non riesco a leggere il catalogo. Riprova tra poco.")
BOOK_BUTTON = {"title": N_("Come iscrivermi o pagare"), "payload": "/book_service"}


def position_in_text(text: str) -> int | None:
    """1-based position the citizen points at ("il secondo", "n. 3", "3"); -1 = the last."""
    folded = fold(text)
    for word in re.findall(r"[a-z]+", folded):
        if word in ORDINALS:
            return ORDINALS[word]
    match = _NUMBER_RE.search(folded)
    if match:
        return int(match.group(1) or match.group(2))
    return None


def chosen_code(tracker: Tracker) -> str | None:
    """The service the citizen means, or None when it has to be asked."""
    for value in entity_values(tracker, "service_code"):
        if isinstance(value, str) and value:
            return value
    shown: list[str] = tracker.get_slot("search_results") or []
    position = position_in_text(latest_text(tracker))
    if position is not None and shown:
        if position == -1:
            return shown[-1]
        offset = int(tracker.get_slot("search_offset") or 0)
        for index in (position - offset - 1, position - 1):  # numbering goes on across pages
            if 0 <= index < len(shown):
                return shown[index]
    selected = tracker.get_slot("selected_service")
    if isinstance(selected, str) and selected:
        return selected
    if len(shown) == 1:
        return shown[0]
    return None


def load_service(session: Session, code: str) -> tuple[Service, Provider] | None:
    row = session.exec(
        select(Service, Provider)
        .join(Provider, Provider.id == Service.provider_id)  # type: ignore[arg-type]
        .where(Service.code == code)
    ).first()
    if row is None:
        return None
    service, provider = row
    if provider.adhesion_status != AdhesionStatus.approved:
        return None
    return service, provider


def audience(service: Service, language: str | None = "it") -> str:
    groups = [
        label(language, TARGET_LABELS[g]) if g in TARGET_LABELS else g
        for g in service.target_groups or []
        if g != "everyone"
    ]
    text = ", ".join(groups) if groups else tr(language, N_("tutti"))
    low, high = service.age_min, service.age_max
    if low is not None and high is not None:
        text += tr(language, N_(" (da {low} a {high} anni)"), low=low, high=high)
    elif low is not None:
        text += tr(language, N_(" (da {low} anni)"), low=low)
    elif high is not None:
        text += tr(language, N_(" (fino a {high} anni)"), high=high)
    return text


def budget_words(service: Service, language: str | None = "it") -> str:
    if service.cost_mode == CostMode.free:
        return ""
    if service.budget_payable:
        return tr(language, N_("Puoi pagarlo con il budget welfare (pubblico o aziendale)."))
    return tr(language, N_("Non si può pagare con il budget welfare."))


def contact_words(service: Service, provider: Provider) -> str:
    """The service's contacts, else the provider's phone and e-mail."""
    return service.contacts.strip() or ", ".join(c for c in (provider.phone, provider.email) if c)


def names_a_kind(tracker: Tracker) -> bool:
    """The message names a kind of service: an NLU entity, or a kind the catalogue's
    search settles on for the words («dove si può misurare la pressione?»: health)."""
    if entity_values(tracker, "service_category"):
        return True
    return kind_the_catalogue_finds(latest_text(tracker)) is not None


def list_named_kind(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[dict[str, Any]]:
    """«quanto costa un centro estivo?», «voglio iscriverla al doposcuola» with no service
    in context: the search list, whose lines show costs and «Dettagli» buttons."""
    text = latest_text(tracker)
    return [SlotSet("search_text", text), *run_search(dispatcher, tracker, offset=0, text=text)]


def describe_service(service: Service, provider: Provider, language: str | None = "it") -> str:
    lines = [service.title]
    if service.description:
        description = service.description.strip()
        if len(description) > 300:
            description = description[:297].rsplit(" ", 1)[0] + "..."
        lines.append(description)
    lang = language
    lines.append(tr(lang, N_("Chi lo offre: {provider}"), provider=provider.name))
    lines.append(tr(lang, N_("Per chi: {who}"), who=audience(service, lang)))
    cost = tr(lang, N_("Costo: {cost}."), cost=cost_words(service, lang))
    if budget := budget_words(service, lang):
        cost += f" {budget}"
    lines.append(cost)
    if service.opening_hours:
        described = hours_description(service.opening_hours, lang)
        hours = tr(lang, N_("Orari: {hours}."), hours=described)
        if status := open_status(service.opening_hours, now(), lang):
            hours += f" {status}"
        lines.append(hours)
    zone = QUARTIERI.get(service.quartiere, service.quartiere)
    where = f"{service.address} ({zone})" if service.address else zone
    lines.append(tr(lang, N_("Dove: {where}"), where=where))
    lines.append(tr(lang, N_("Mappa: {link}"), link=map_link(service.lat, service.lon)))
    if service.how_to_access:
        how = service.how_to_access.strip()
        lines.append(tr(lang, N_("Come accedere: {how}"), how=how))
    contacts = contact_words(service, provider)
    if contacts:
        lines.append(tr(lang, N_("Contatti: {contacts}"), contacts=contacts))
    return "\n".join(lines)


class ActionServiceDetails(Action):
    def name(self) -> str:
        return "action_service_details"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        code = chosen_code(tracker)
        lang = language_of(tracker)
        handoff = button(lang, HANDOFF_BUTTON)
        shown: list[str] = tracker.get_slot("search_results") or []
        if code is None:
            if shown:
                offset = int(tracker.get_slot("search_offset") or 0)
                numbers = [
                    details_button(offset + i, c, lang) for i, c in enumerate(shown, start=1)
                ]
                dispatcher.utter_message(text=tr(lang, ASK_WHICH_TEXT), buttons=numbers)
            elif names_a_kind(tracker):
                return list_named_kind(dispatcher, tracker)
            else:
                dispatcher.utter_message(
                    text=tr(lang, NO_LIST_TEXT), buttons=[button(lang, SEARCH_BUTTON)]
                )
            return []
        try:
            with db_session() as session:
                found = load_service(session, code)
                text = describe_service(*found, lang) if found else None
                payable = bool(found and found[0].budget_payable)
        except Exception:
            logger.exception("action_service_details: database error")
            dispatcher.utter_message(text=tr(lang, DB_ERROR_TEXT), buttons=[handoff])
            return []
        if text is None:
            dispatcher.utter_message(text=tr(lang, NOT_FOUND_TEXT), buttons=[handoff])
            return [SlotSet("selected_service", None)]
        offered = [pay_button(code), BOOK_BUTTON] if payable else []
        offered += [HANDOFF_BUTTON, WELCOME_POINT_BUTTON]
        dispatcher.utter_message(text=text, buttons=buttons(lang, offered))
        return [SlotSet("selected_service", code)]


BOOK_NO_SERVICE_TEXT = N_(
    "Per quale servizio? Cercalo, per esempio «cerco un centro estivo a Gavinana», e apri i "
    "suoi «Dettagli»: lì trovi come iscriverti e, se si può, il pulsante «Paga con il budget "
    "welfare», che ti dà subito un voucher."
)


def enrol_text(service: Service, provider: Provider, language: str | None = "it") -> str:
    """How to sign up for a service, and whether the budget pays it, in a few lines."""
    lang = language
    lines = [tr(lang, N_("Per iscriverti a «{title}»:"), title=service.title)]
    how = service.how_to_access.strip()
    lines.append(how or tr(lang, N_("contatta {provider}."), provider=provider.name))
    contacts = contact_words(service, provider)
    if contacts:
        lines.append(tr(lang, N_("Contatti: {contacts}"), contacts=contacts))
    lines.append(tr(lang, N_("Costo: {cost}."), cost=cost_words(service, lang)))
    if service.cost_mode != CostMode.free and service.budget_payable:
        pay_here = N_(
            "Puoi pagarlo qui in chat con il budget welfare: tocca «Paga con il budget "
            "welfare» e ti do un voucher da mostrare all'ente."
        )
        lines.append(tr(lang, pay_here))
    return "\n".join(lines)


class ActionBookService(Action):
    """«Voglio iscrivermi», «pago con il budget»: the enrol/pay path of the service in
    context (the one whose details were opened, or the one pointed at in the last list);
    with none, a search when the words name a kind of service, else how to find one."""

    def name(self) -> str:
        return "action_book_service"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        code = chosen_code(tracker)
        lang = language_of(tracker)
        handoff = button(lang, HANDOFF_BUTTON)
        if code is None:
            if names_a_kind(tracker):
                return list_named_kind(dispatcher, tracker)
            dispatcher.utter_message(
                text=tr(lang, BOOK_NO_SERVICE_TEXT),
                buttons=[button(lang, SEARCH_BUTTON), handoff],
            )
            return []
        try:
            with db_session() as session:
                found = load_service(session, code)
                text = enrol_text(*found, lang) if found else None
                payable = bool(
                    found and found[0].budget_payable and found[0].cost_mode != CostMode.free
                )
        except Exception:
            logger.exception("action_book_service: database error")
            dispatcher.utter_message(text=tr(lang, DB_ERROR_TEXT), buttons=[handoff])
            return []
        if text is None:
            dispatcher.utter_message(text=tr(lang, NOT_FOUND_TEXT), buttons=[handoff])
            return [SlotSet("selected_service", None)]
        offered = [pay_button(code)] if payable else []
        offered += [HANDOFF_BUTTON, WELCOME_POINT_BUTTON]
        dispatcher.utter_message(text=text, buttons=buttons(lang, offered))
        return [SlotSet("selected_service", code)]
