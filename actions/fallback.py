"""Low confidence: "Intendevi...?" with the top two intents, then a person after two misses.

``action_two_stage_fallback`` (Rasa's loop) calls these two by name:
``action_default_ask_affirmation`` on the first unclear message, and
``action_default_fallback`` when the citizen is still not understood.
"""

from __future__ import annotations

import json
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher

from actions.common import HANDOFF_BUTTON, db_session, logger
from actions.redirect import last_typed_text, office_text
from care.flags import raise_flag
from care.models import FlagKind, FlagPriority
from catalog.areas import resolve_area
from catalog.filters import COST_MODES
from catalog.vocabulary import CATEGORIES, TARGET_GROUPS

# What each intent means, as a button the citizen can tap ("Intendevi...?").
INTENT_LABELS: dict[str, str] = {
    "search_service": "Cercare un servizio",
    "service_details": "Sapere di più su un servizio",
    "book_service": "Iscriverti o pagare un servizio",
    "check_budget": "Vedere il tuo budget welfare",
    "list_transactions": "Vedere i movimenti del budget",
    "request_reimbursement": "Chiedere un rimborso",
    "request_status": "Sapere a che punto è una pratica",
    "book_appointment": "Un appuntamento con un Care Manager",
    "find_welcome_point": "Trovare un Welcome Point",
    "human_handoff": "Parlare con un operatore",
    "subscribe_news": "Ricevere gli avvisi",
    "unsubscribe_news": "Non ricevere più avvisi",
    "privacy_info": "Sapere come uso i tuoi dati",
    "forget_me": "Cancellare i tuoi dati",
    "help": "Sapere cosa posso fare",
    "bot_challenge": "Sapere se sono una persona",
    "emergency": "Chiedere aiuto urgente",
    "greet": "Salutare",
    "goodbye": "Salutare e chiudere",
    "thank": "Ringraziare",
    "affirm": "Dire di sì",
    "deny": "Dire di no",
    "inform": "Darmi un'informazione",
    "link_account": "Collegare il tuo budget con un codice",
}

# Never offered as a guess: they say nothing the citizen could confirm.
NOT_OFFERED = {"nlu_fallback", "out_of_scope", "more_results"}

ASK_AFFIRMATION_TEXT = "Scusa, non sono sicuro di aver capito. Intendevi:"
EMERGENCY_HINT = (
    "Se sei in pericolo, chiama subito il 112. Per violenza o stalking c'è il 1522 "
    "(gratuito, 24 ore su 24)."
)
NONE_OF_THESE = {"title": "Nessuna di queste", "payload": "/out_of_scope"}
HELP_BUTTON = {"title": "Cosa sai fare?", "payload": "/help"}

GIVE_UP_TEXT = (
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
        buttons = [{"title": INTENT_LABELS[i], "payload": _payload(i, entities)} for i in top]
        if top:
            buttons.append(NONE_OF_THESE)
            text = ASK_AFFIRMATION_TEXT
        else:
            buttons.append(HELP_BUTTON)
            text = "Scusa, non ho capito bene. Puoi dirlo con altre parole?"
        if maybe_emergency:
            text = f"{EMERGENCY_HINT}\n{text}"
        dispatcher.utter_message(text=text, buttons=buttons)
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
        office = office_text(last_typed_text(tracker), specific_only=True)
        text = f"{GIVE_UP_TEXT}\n{office}" if office else GIVE_UP_TEXT
        dispatcher.utter_message(text=text, buttons=[HANDOFF_BUTTON, HELP_BUTTON])
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
