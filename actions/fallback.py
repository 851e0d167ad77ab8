"""Low confidence: "Intendevi...?" with the top two intents, then a person after two misses.

``action_two_stage_fallback`` (Rasa's loop) calls these two by name:
``action_default_ask_affirmation`` on the first unclear message, and
``action_default_fallback`` when the citizen is still not understood.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher

from actions.catalogue_guess import guessed_kind, guessed_search
from actions.common import HANDOFF_BUTTON, db_session, logger
from actions.redirect import last_typed_text, office_text
from actions.wording import N_, button, buttons, language_of, tr
from care.flags import raise_flag
from care.models import FlagKind, FlagPriority
from catalog.areas import resolve_area
from catalog.filters import COST_MODES
from catalog.vocabulary import CATEGORIES, TARGET_GROUPS

# What each intent means, as a button the citizen can tap ("Intendevi...?").
INTENT_LABELS: dict[str, str] = {
    "search_service": N_("Cercare un servizio"),
    "service_details": N_("Sapere di più su un servizio"),
    "book_service": N_("Iscriverti o pagare un servizio"),
    "check_budget": N_("Vedere il tuo budget welfare"),
    "list_transactions": N_("Vedere i movimenti del budget"),
    "request_reimbursement": N_("Chiedere un rimborso"),
    "request_status": N_("Sapere a che punto è una pratica"),
    "book_appointment": N_("Un appuntamento con un Care Manager"),
    "find_welcome_point": N_("Trovare un Welcome Point"),
    "human_handoff": N_("Parlare con un operatore"),
    "subscribe_news": N_("Ricevere gli avvisi"),
    "unsubscribe_news": N_("Non ricevere più avvisi"),
    "privacy_info": N_("Sapere come uso i tuoi dati"),
    "forget_me": N_("Cancellare i tuoi dati"),
    "help": N_("Sapere cosa posso fare"),
    "bot_challenge": N_("Sapere se sono una persona"),
    "emergency": N_("Chiedere aiuto urgente"),
    "greet": N_("Salutare"),
    "goodbye": N_("Salutare e chiudere"),
    "thank": N_("Ringraziare"),
    "affirm": N_("Dire di sì"),
    "deny": N_("Dire di no"),
    "inform": N_("Darmi un'informazione"),
    "link_account": N_("Collegare il tuo budget con un codice"),
}

# Never offered as a guess: they say nothing the citizen could confirm.
NOT_OFFERED = {"nlu_fallback", "out_of_scope", "more_results"}

ASK_AFFIRMATION_TEXT = N_("Scusa, non sono sicuro di aver capito. Intendevi:")
EMERGENCY_HINT = N_(
    "Se sei in pericolo, chiama subito il 112. Per violenza o stalking c'è il 1522 "
    "(gratuito, 24 ore su 24)."
)
NONE_OF_THESE = {"title": N_("Nessuna di queste"), "payload": "/out_of_scope"}
HELP_BUTTON = {"title": N_("Cosa sai fare?"), "payload": "/help"}
REPHRASE_TEXT = N_("Scusa, non ho capito bene. Puoi dirlo con altre parole?")

GIVE_UP_TEXT = N_(
    "Mi dispiace, non riesco a capire la tua richiesta. Un operatore del Comune può "
    "aiutarti: tocca «Parla con un operatore» e ti risponde qui in chat."
)


def _plausible(entity: str, value: Any) -> bool:
    """Only values the rest of the dialogue can use travel in a button payload."""
    if not isinstance(value, str) or not value or len(value) > 40:
        return False
    checks = {
        "service_category": lambda v: v in CATEGORIES,
        "target_group": lambda v: v in TARGET_GROUPS,
        "cost_mode": lambda v: v in COST_MODES,
        "age": lambda v: v.isdigit() and int(v) <= 110,
        "neighbourhood": lambda v: resolve_area(v) is not None,
    }
    return checks.get(entity, lambda _: False)(value)


def _payload(intent: str, entities: list[dict[str, Any]]) -> str:
    """``/intent{"entity": "value"}`` so that a tap keeps what was understood."""
    values = {
        e["entity"]: e["value"]
        for e in entities
        if e.get("entity") and _plausible(e["entity"], e.get("value"))
    }
    if not values:
        return f"/{intent}"
    return f"/{intent}{json.dumps(values, ensure_ascii=False, separators=(',', ':'))}"


class ActionDefaultAskAffirmation(Action):
    """Offers the two most likely intents as buttons, plus "Nessuna di queste"."""

    def name(self) -> str:
        return "action_default_ask_affirmation"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        ranking = tracker.latest_message.get("intent_ranking") or []
        entities = tracker.latest_message.get("entities") or []
        candidates = [
            r["name"]
            for r in ranking
            if r.get("name") in INTENT_LABELS and r.get("name") not in NOT_OFFERED
        ]
        top = candidates[:2]
        # A possible emergency is never left to a guess: the numbers are always shown.
        maybe_emergency = any(
            r.get("name") == "emergency" and (r.get("confidence") or 0) >= 0.05 for r in ranking[:3]
        )
        kind = None if maybe_emergency else guessed_kind(tracker.latest_message)
        if kind is not None:  # the words name a kind of service: its services, no question
            found = await asyncio.to_thread(guessed_search, dispatcher, tracker, kind, paging=False)
            if found is not None:
                logger.info("ask_affirmation: searched instead")
                return found
        lang = language_of(tracker)
        offered = [
            {"title": tr(lang, INTENT_LABELS[i]), "payload": _payload(i, entities)} for i in top
        ]
        if top:
            offered.append(button(lang, NONE_OF_THESE))
            text = tr(lang, ASK_AFFIRMATION_TEXT)
        else:
            offered.append(button(lang, HELP_BUTTON))
            text = tr(lang, REPHRASE_TEXT)
        if maybe_emergency:
            text = f"{tr(lang, EMERGENCY_HINT)}\n{text}"
        dispatcher.utter_message(text=text, buttons=offered)
        logger.info("ask_affirmation: offered %s", ",".join(top) or "-")
        return []


class ActionDefaultFallback(Action):
    """Two misses in a row: say so, offer a person, flag the conversation for the team."""

    def name(self) -> str:
        return "action_default_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        # a question for another office of the Comune: say which one, with its contacts
        lang = language_of(tracker)
        office = office_text(last_typed_text(tracker), specific_only=True, language=lang)
        give_up = tr(lang, GIVE_UP_TEXT)
        text = f"{give_up}\n{office}" if office else give_up
        dispatcher.utter_message(text=text, buttons=buttons(lang, [HANDOFF_BUTTON, HELP_BUTTON]))
        try:
            with db_session() as session:
                raise_flag(
                    session,
                    conversation_id=tracker.sender_id,
                    kind=FlagKind.bot_failure,
                    priority=FlagPriority.normal,
                    source="rasa_action",
                    reason="two_fallbacks",
                )
        except Exception:
            logger.exception("action_default_fallback: could not store the flag")
        # as Rasa's own default fallback: the message that was not understood is undone
        return [UserUtteranceReverted()]
