"""Linking the chat to the citizen's budget with a one-time code ("codice K7QF-2M9P").

The code is read from the ``link_code`` entity or the message text, handed to
``welfare.ledger.linking.redeem_link_code`` and never kept in a slot or a log.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import (
    HANDOFF_BUTTON,
    db_session,
    entity_values,
    find_link_code,
    intent_of,
    latest_text,
    logger,
    now,
)
from actions.wording import N_, button, buttons, language_of, tr
from welfare.ledger.linking import LinkOutcome, citizen_for_conversation, redeem_link_code

# The code form's answer when the citizen has no code (the slot never holds a real code
# for longer than one turn: action_link_account clears it).
NO_CODE = "none"

NO_CODE_TEXT = N_(
    "Non trovo un codice nel tuo messaggio. Il codice ha 8 caratteri, lettere e numeri, "
    "per esempio «K7QF-2M9P»."
)
LATER_TEXT = N_(
    "Va bene. Quando avrai il codice, scrivimi «codice» seguito dal codice, "
    "per esempio «codice K7QF-2M9P»."
)
DB_ERROR_TEXT = N_("Scusa, in questo momento non riesco a controllare il codice. Riprova tra poco.")
LINKED_BUTTONS = [
    {"title": N_("Il mio budget welfare"), "payload": "/check_budget"},
    {"title": N_("Ultimi movimenti"), "payload": "/list_transactions"},
]
THANKS = N_("Grazie, {name}! ")
LINKED_MORE = N_("Ora puoi chiedermi il saldo e i movimenti.")


class ActionLinkAccount(Action):
    def name(self) -> str:
        return "action_link_account"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        clear = [SlotSet("link_code", None)]
        lang = language_of(tracker)
        handoff = button(lang, HANDOFF_BUTTON)
        slot = tracker.get_slot("link_code")
        if slot == NO_CODE:
            dispatcher.utter_message(text=tr(lang, LATER_TEXT))
            return clear
        code = None
        for value in (slot, *entity_values(tracker, "link_code")):
            if isinstance(value, str) and (code := find_link_code(value, expecting=True)):
                break
        if code is None:
            code = find_link_code(latest_text(tracker))
        if code is None:
            dispatcher.utter_message(text=tr(lang, NO_CODE_TEXT))
            return clear

        try:
            with db_session() as session:
                outcome = redeem_link_code(
                    session, conversation_id=tracker.sender_id, code=code, now=now()
                )
                citizen = (
                    citizen_for_conversation(session, conversation_id=tracker.sender_id)
                    if outcome == LinkOutcome.ok
                    else None
                )
                first_name = citizen.first_name if citizen is not None else None
        except Exception:
            logger.exception("action_link_account: database error")
            dispatcher.utter_message(text=tr(lang, DB_ERROR_TEXT), buttons=[handoff])
            return clear

        logger.info("action_link_account: outcome %s", outcome.value)
        # the outcomes' texts are the ledger's (welfare.ledger.linking.OUTCOME_MESSAGES)
        said = tr(lang, outcome.message)
        if outcome != LinkOutcome.ok:
            dispatcher.utter_message(text=said, buttons=[handoff])
            return [*clear, SlotSet("citizen_linked", False)]
        greeting = tr(lang, THANKS, name=first_name) if first_name else ""
        dispatcher.utter_message(
            text=f"{greeting}{said} {tr(lang, LINKED_MORE)}",
            buttons=buttons(lang, LINKED_BUTTONS),
        )
        events = [*clear, SlotSet("citizen_linked", True)]
        if first_name:
            events.append(SlotSet("citizen_name", first_name))
        return events


class ValidateLinkAccountForm(FormValidationAction):
    """Takes the code from any answer; "no" (or any answer without a code) ends the form."""

    # answers that end the form without a code; other intents interrupt it (see rules)
    ENDING_INTENTS = frozenset(
        {"deny", "inform", "link_account", "nlu_fallback", "check_budget", "list_transactions"}
    )

    def name(self) -> str:
        return "validate_link_account_form"

    async def extract_link_code(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") != "link_code":
            return {}
        if tracker.get_slot("link_code"):
            return {}
        code = find_link_code(latest_text(tracker), expecting=True)
        if code:
            return {"link_code": code}
        if intent_of(tracker) in self.ENDING_INTENTS:
            return {"link_code": NO_CODE}
        return {}

    def validate_link_code(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        if slot_value == NO_CODE:
            return {"link_code": NO_CODE}
        code = find_link_code(str(slot_value), expecting=True)
        return {"link_code": code or NO_CODE}
