"""Emergency: always 112 and 1522; a human at top priority at once, or after one question.

Two tiers (docs/nlu-pipeline.md, "Emergency tiers"):

- immediate: a safety rule matched (``safety_net`` in the parse data, its ``tier``
  immediate), or the model is sure and the words support it (``intent_gate.tier ==
  "immediate"``), or the citizen answered «Sì» (the button sends ``/emergency``; a typed
  yes is ``affirm``, data/rules.yml): the numbers, the top-priority hand-off and the flag,
  as always;
- ask: the model alone, less sure (``intent_gate.tier == "ask"``), or a safety rule whose
  message has a word of the reported lists, idioms, jokes, games, news (``safety_net.tier
  == "ask"``, nlu/safety_net.py): the numbers at once and «Sei in pericolo adesso?» with
  the buttons Sì / No; no hand-off yet. «No» goes on
  (``action_not_in_danger``): the numbers once more and then what the citizen asked, the
  services of the kind their message named («mia nonna sta tutto il giorno sola...»:
  actions.catalogue_guess), or «Come posso aiutarti?» (utter_not_in_danger).

The reply goes out even if the database is down: the numbers come first, the flag after.
"""

from __future__ import annotations

import asyncio
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.catalogue_guess import guessed_search, kind_the_catalogue_finds
from actions.common import db_session, intent_of, logger
from actions.wording import N_, buttons, language_of, tr
from care.flags import raise_flag
from care.models import FlagKind, FlagPriority

EMERGENCY_TEXT = N_(
    "Se tu o qualcun altro siete in pericolo adesso, chiama subito il 112 "
    "(emergenze: gratuito, 24 ore su 24).\n"
    "Se subisci violenza o stalking, chiama il 1522: è gratuito, anonimo, "
    "attivo 24 ore su 24 e risponde anche in altre lingue.\n"
    "Ho avvisato subito un operatore del Comune: leggerà questa conversazione "
    "e ti risponderà qui il prima possibile. Puoi continuare a scrivermi."
)

HANDOFF_EMERGENCY = {"type": "handoff", "priority": "top", "reason": "emergency"}

ASK_TEXT = N_(
    "Se tu o qualcun altro siete in pericolo, chiama subito il 112 "
    "(emergenze: gratuito, 24 ore su 24).\n"
    "Se subisci violenza o stalking, chiama il 1522: è gratuito, anonimo, "
    "attivo 24 ore su 24 e risponde anche in altre lingue.\n"
    "Sei in pericolo adesso?"
)
ASK_BUTTONS = [
    {"title": N_("Sì"), "payload": "/emergency"},
    {"title": N_("No"), "payload": "/deny"},
]
IMMEDIATE = "immediate"
ASK = "ask"

# A first line fitted to what the safety net recognised (its ``kind``); the numbers follow
# in every case.
LEADS = {
    "self_harm": N_("Mi dispiace molto che tu stia così male. Parlarne è importante."),
    "medical": N_("Se serve un'ambulanza o un medico subito, chiama il 112."),
}


def safety_kind(tracker: Tracker) -> str | None:
    """The kind the rule-based safety net gave this message (violence, self_harm, ...)."""
    net = tracker.latest_message.get("safety_net")
    kind = net.get("kind") if isinstance(net, dict) else None
    return kind if isinstance(kind, str) and kind.isidentifier() else None


def emergency_tier(tracker: Tracker) -> str:
    """``ask`` when the model alone chose emergency and was less sure, or a safety rule's
    match has the ask tier (a word of the reported lists); else immediate."""
    latest = tracker.latest_message
    net = latest.get("safety_net")
    if isinstance(net, dict):
        return ASK if net.get("tier") == ASK else IMMEDIATE
    if intent_of(tracker) != "emergency":  # «Sì» typed after the question (affirm)
        return IMMEDIATE
    gate = latest.get("intent_gate")
    return ASK if isinstance(gate, dict) and gate.get("tier") == ASK else IMMEDIATE


class ActionEmergency(Action):
    def name(self) -> str:
        return "action_emergency"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        lang = language_of(tracker)
        if emergency_tier(tracker) == ASK:
            dispatcher.utter_message(text=tr(lang, ASK_TEXT), buttons=buttons(lang, ASK_BUTTONS))
            logger.info("action_emergency: tier ask, asked whether in danger now")
            return []
        kind = safety_kind(tracker)
        lead = LEADS.get(kind or "")
        numbers = tr(lang, EMERGENCY_TEXT)
        dispatcher.utter_message(text=f"{tr(lang, lead)}\n{numbers}" if lead else numbers)
        dispatcher.utter_message(json_message=HANDOFF_EMERGENCY)
        try:
            with db_session() as session:
                raise_flag(
                    session,
                    conversation_id=tracker.sender_id,
                    kind=FlagKind.emergency,
                    priority=FlagPriority.top,
                    source="rasa_action",
                    reason=f"safety_net:{kind}" if kind else f"intent:{intent_of(tracker)}",
                )
        except Exception:
            # the citizen already has the numbers; the gateway's handoff payload and the
            # safety net still reach a human
            logger.exception("action_emergency: could not store the emergency flag")
        return []


NOT_IN_DANGER_TEXT = N_(
    "Bene, mi fa piacere. Se la situazione cambia, chiama subito il 112 (o il 1522 per "
    "violenza e stalking) oppure scrivimi."
)


def message_before(tracker: Tracker) -> str:
    """The citizen's typed message before the latest one (the one that brought the
    question «Sei in pericolo adesso?»); empty when it was a button."""
    users = [e for e in tracker.events if e.get("event") == "user"]
    if len(users) < 2:
        return ""
    text = str(users[-2].get("text") or "").strip()
    return "" if text.startswith("/") else text


class ActionNotInDanger(Action):
    """«No» to «Sei in pericolo adesso?»: go on with what the citizen asked."""

    def name(self) -> str:
        return "action_not_in_danger"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        request = message_before(tracker)
        kind = await asyncio.to_thread(kind_the_catalogue_finds, request)
        if kind is not None:
            lead = tr(language_of(tracker), NOT_IN_DANGER_TEXT)
            found = await asyncio.to_thread(
                guessed_search, dispatcher, tracker, kind, text=request, lead=lead
            )
            if found is not None:
                logger.info("not in danger: went on with the services asked for")
                return found
        dispatcher.utter_message(response="utter_not_in_danger")
        return []
