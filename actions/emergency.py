"""Emergency: always 112 and 1522, a human at top priority, the flag stored.

The reply goes out even if the database is down: the numbers come first, the flag after.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import db_session, intent_of, logger
from care.flags import raise_flag
from care.models import FlagKind, FlagPriority

EMERGENCY_TEXT = (
    "Se tu o qualcun altro siete in pericolo adesso, chiama subito il 112 "
    "(emergenze: gratuito, 24 ore su 24).\n"
    "Se subisci violenza o stalking, chiama il 1522: è gratuito, anonimo, "
    "attivo 24 ore su 24 e risponde anche in altre lingue.\n"
    "Ho avvisato subito un operatore del Comune: leggerà questa conversazione "
    "e ti risponderà qui il prima possibile. Puoi continuare a scrivermi."
)

HANDOFF_EMERGENCY = {"type": "handoff", "priority": "top", "reason": "emergency"}


class ActionEmergency(Action):
    def name(self) -> str:
        return "action_emergency"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(text=EMERGENCY_TEXT)
        dispatcher.utter_message(json_message=HANDOFF_EMERGENCY)
        try:
            with db_session() as session:
                raise_flag(
                    session,
                    conversation_id=tracker.sender_id,
                    kind=FlagKind.emergency,
                    priority=FlagPriority.top,
                    source="rasa_action",
                    reason=f"intent:{intent_of(tracker) or 'unknown'}",
                )
        except Exception:
            # the citizen already has the numbers; the gateway's handoff payload and the
            # safety net still reach a human
            logger.exception("action_emergency: could not store the emergency flag")
        return []
