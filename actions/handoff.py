"""A person, when the citizen asks for one."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import db_session, logger
from actions.wording import N_, language_of, tr
from care.flags import raise_flag
from care.models import FlagKind, FlagPriority

HANDOFF_TEXT = N_(
    "Va bene, ti metto in contatto con un operatore del Comune (un Care Manager). "
    "Ti risponderà qui in chat appena possibile. Intanto puoi scrivere qui la tua domanda."
)

HANDOFF_REQUESTED = {"type": "handoff", "priority": "normal", "reason": "requested"}


class ActionHandoff(Action):
    def name(self) -> str:
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(text=tr(language_of(tracker), HANDOFF_TEXT))
        dispatcher.utter_message(json_message=HANDOFF_REQUESTED)
        try:
            with db_session() as session:
                raise_flag(
                    session,
                    conversation_id=tracker.sender_id,
                    kind=FlagKind.handoff,
                    priority=FlagPriority.normal,
                    source="rasa_action",
                    reason="requested",
                )
        except Exception:
            logger.exception("action_handoff: could not store the handoff flag")
        return []
