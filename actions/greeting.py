"""Greeting, with the citizen's first name when it is known.

The name comes from the slot ``citizen_name``, else from the gateway's metadata
(``{"citizen_name": ...}`` or ``{"first_name": ...}``), else from the citizen linked to
this conversation in the ledger.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import db_session, latest_metadata, logger
from welfare.ledger.linking import citizen_for_conversation


def clean_name(value: Any) -> str | None:
    """A first name fit to print: trimmed, at most 40 characters, no markup."""
    if not isinstance(value, str):
        return None
    name = " ".join(value.split())[:40]
    if not name or any(ch in name for ch in "<>{}[]*_`/\\"):
        return None
    return name


def known_name(tracker: Tracker) -> str | None:
    """The citizen's first name, if the slot, the metadata or the ledger link knows it."""
    name = clean_name(tracker.get_slot("citizen_name"))
    if name:
        return name
    metadata = latest_metadata(tracker)
    for key in ("citizen_name", "first_name", "name"):
        name = clean_name(metadata.get(key))
        if name:
            return name
    try:
        with db_session() as session:
            citizen = citizen_for_conversation(session, conversation_id=tracker.sender_id)
            if citizen is not None:
                return clean_name(citizen.first_name)
    except Exception:
        logger.exception("action_greet: could not read the conversation link")
    return None


class ActionGreet(Action):
    def name(self) -> str:
        return "action_greet"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        name = known_name(tracker)
        if name:
            dispatcher.utter_message(response="utter_greet_name", citizen_name=name)
            if tracker.get_slot("citizen_name") != name:
                return [SlotSet("citizen_name", name)]
            return []
        dispatcher.utter_message(response="utter_greet")
        return []
