"""What is not welfare: name the office of the Comune or of the city's utilities that can
help, and how to reach it (catalog.offices, data/offices/), or the general contact centre
when no office matches; then say what the assistant can do."""

from __future__ import annotations

import asyncio
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.catalogue_guess import guessed_kind, guessed_search
from actions.common import latest_text, logger
from actions.wording import N_, buttons, language_of, tr
from catalog.offices import Office, OfficeDataError, general_office, office_for

SEARCH_BUTTON = {"title": N_("Cerca un servizio"), "payload": "/search_service"}
BUDGET_BUTTON = {"title": N_("Il mio budget welfare"), "payload": "/check_budget"}
HANDOFF_BUTTON = {"title": N_("Parla con un operatore"), "payload": "/human_handoff"}
NOT_MINE_TEXT = N_("Di questo non mi occupo: sono l'assistente dei servizi di welfare di Firenze.")
WHAT_I_DO_TEXT = N_(
    "Io posso aiutarti a cercare un servizio del welfare, vedere il tuo budget welfare, "
    "trovare un Welcome Point o parlare con un operatore."
)
# when even the directory cannot be read
FALLBACK_CONTACT_TEXT = N_(
    "Per le altre domande sul Comune di Firenze c'è il Contact center: telefono 055 055, "
    "sito https://www.comune.fi.it."
)


def last_typed_text(tracker: Tracker) -> str:
    """The citizen's own words: this message, or the last typed one before a button
    («Nessuna di queste» after «Intendevi...?»)."""
    text = latest_text(tracker)
    if text:
        return text
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            typed = (event.get("text") or "").strip()
            if typed and not typed.startswith("/"):
                return typed
    return ""


# what kind of contact a value is (catalog.offices.ContactRow.kind)
CONTACT_KINDS = {"phone": N_("telefono"), "web": N_("sito"), "email": N_("e-mail"),
                 "app": N_("app")}  # fmt: skip


def contact_lines(office: Office, language: str | None = "it") -> list[str]:
    """ "- telefono 055 055 (Contact center del Comune)": the value and its note are data,
    in ``language`` (data/offices/)."""
    lines = []
    for contact in office.contacts:
        kind = CONTACT_KINDS.get(contact.kind)
        value = contact.value_in(language)
        text = f"{tr(language, kind)} {value}" if kind else value
        note = contact.note_in(language)
        lines.append(f"- {text} ({note})" if note else f"- {text}")
    return lines


def office_text(text: str, *, specific_only: bool = False, language: str | None = "it") -> str:
    """The lines naming the office for ``text`` (the general contact when none matches,
    nothing then if ``specific_only``). The office is matched on the topics of ``language``
    and Italian ones; its name, subject and contacts are data (data/offices/), given in
    ``language``."""
    try:
        office = office_for(text, language) if text else None
        if office is not None and office.general and specific_only:
            return ""
        if office is None:
            if specific_only:
                return ""
            office = general_office()
    except OfficeDataError:
        logger.exception("out of scope: data/offices has errors")
        return "" if specific_only else tr(language, FALLBACK_CONTACT_TEXT)
    if office is None:
        return "" if specific_only else tr(language, FALLBACK_CONTACT_TEXT)
    if office.general:
        general = N_("Per le altre domande sul Comune di Firenze c'è il {office}:")
        lead = tr(language, general, office=office.name_in(language))
    else:
        lead = tr(
            language, N_("Per {what} puoi rivolgerti a {office}:"),
            what=office.what_in(language), office=office.name_in(language),
        )  # fmt: skip
    return "\n".join([lead, *contact_lines(office, language)])


class ActionOutOfScope(Action):
    """out_of_scope: the office that can help (or the contact centre), then what I do; the
    services of a kind the words clearly name, when the model's own guess was a search
    (actions.catalogue_guess)."""

    def name(self) -> str:
        return "action_out_of_scope"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        kind = None if tracker.active_loop_name else guessed_kind(tracker.latest_message)
        if kind is not None:
            found = await asyncio.to_thread(guessed_search, dispatcher, tracker, kind)
            if found is not None:
                return found
        lang = language_of(tracker)
        where = office_text(last_typed_text(tracker), language=lang)
        dispatcher.utter_message(
            text="\n".join([tr(lang, NOT_MINE_TEXT), where, tr(lang, WHAT_I_DO_TEXT)]),
            buttons=buttons(lang, [SEARCH_BUTTON, BUDGET_BUTTON, HANDOFF_BUTTON]),
        )
        return []
