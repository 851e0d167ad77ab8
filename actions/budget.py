"""The citizen's welfare budget: balances and recent movements, only their own.

Every read starts from ``citizen_for_conversation(sender_id)``: an unlinked
conversation sees nothing but the explanation of how to link it.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import (
    HANDOFF_BUTTON,
    WELCOME_POINT_BUTTON,
    active_loop_name,
    day_label,
    db_session,
    logger,
    money,
    now,
    short_date,
)
from welfare.ledger.accounts import AccountBalance, EntryView, balances, statement
from welfare.ledger.linking import citizen_for_conversation
from welfare.ledger.models import SourceKind

NOT_LINKED_TEXT = (
    "Per mostrarti il budget devo essere sicuro che sei proprio tu. "
    "Ti serve un codice personale, che ricevi:\n"
    "- in un Welcome Point (porta un documento d'identità);\n"
    "- oppure dall'ufficio welfare della tua azienda, se hai il welfare aziendale.\n"
    "Il codice si usa una volta sola e collega questa chat al tuo budget."
)
TYPE_CODE_LATER = (
    "Quando hai il codice, scrivimi «codice» seguito dal codice, per esempio «codice K7QF-2M9P»."
)
DB_ERROR_TEXT = (
    "Scusa, in questo momento non riesco a leggere il budget. Riprova tra qualche minuto "
    "oppure chiedi a un operatore."
)
EXPIRING_DAYS = 30

MOVEMENTS_BUTTON = {"title": "Ultimi movimenti", "payload": "/list_transactions"}
BUDGET_BUTTON = {"title": "Il mio budget welfare", "payload": "/check_budget"}
SEARCH_BUTTON = {"title": "Cerca un servizio", "payload": "/search_service"}


def not_linked(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[dict[str, Any]]:
    """Explain how to link; the code form asks for the code unless another form is open."""
    text = NOT_LINKED_TEXT
    if active_loop_name(tracker):
        text = f"{text}\n{TYPE_CODE_LATER}"
    dispatcher.utter_message(text=text, buttons=[WELCOME_POINT_BUTTON])
    return [SlotSet("citizen_linked", False)]


def describe_balance(balance: AccountBalance) -> str:
    reference = now()
    line = f"- {balance.label}: {money(balance.available_cents)} disponibili"
    if balance.held_cents > 0:
        line += f" (più {money(balance.held_cents)} già riservati per una prenotazione)"
    line += f". Scade il {day_label(balance.expires_at)}."
    days_left = (balance.expires_at - reference).days
    if balance.available_cents > 0 and days_left < EXPIRING_DAYS:
        line += (
            " Attenzione: scade tra pochi giorni!"
            if days_left < 7
            else f" Attenzione: scade tra {days_left} giorni."
        )
    return line


def describe_entry(entry: EntryView) -> str:
    if entry.amount_cents > 0:
        amount = f"+{money(entry.amount_cents)}"
    elif entry.amount_cents < 0:
        amount = money(entry.amount_cents)
    elif entry.held_cents > 0:
        amount = f"{money(entry.held_cents)} riservati"
    elif entry.held_cents < 0:
        amount = f"{money(-entry.held_cents)} di nuovo disponibili"
    else:
        amount = money(0)
    return f"- {short_date(entry.created_at)}: {entry.description}, {amount} ({entry.source_label})"


class ActionCheckBudget(Action):
    """Public and employer budgets separately, with what is available and the expiry."""

    def name(self) -> str:
        return "action_check_budget"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        try:
            with db_session() as session:
                citizen = citizen_for_conversation(session, conversation_id=tracker.sender_id)
                if citizen is None or citizen.id is None:
                    return not_linked(dispatcher, tracker)
                accounts = balances(session, citizen_id=citizen.id, now=now())
                first_name = citizen.first_name
        except Exception:
            logger.exception("action_check_budget: database error")
            dispatcher.utter_message(text=DB_ERROR_TEXT, buttons=[HANDOFF_BUTTON])
            return []

        if not accounts:
            dispatcher.utter_message(
                text=(
                    f"{first_name}, al momento non hai un budget welfare attivo. "
                    "Un Care Manager può dirti se ne hai diritto e come chiederlo."
                ),
                buttons=[HANDOFF_BUTTON, WELCOME_POINT_BUTTON],
            )
            return [SlotSet("citizen_linked", True)]

        public = [a for a in accounts if a.source_kind == SourceKind.public]
        employer = [a for a in accounts if a.source_kind == SourceKind.employer]
        lines = [f"Ecco il tuo budget welfare, {first_name}:"]
        if public:
            lines.append("Budget pubblico (Comune):")
            lines.extend(describe_balance(a) for a in public)
        if employer:
            lines.append("Welfare aziendale (dal tuo datore di lavoro):")
            lines.extend(describe_balance(a) for a in employer)
        dispatcher.utter_message(text="\n".join(lines), buttons=[MOVEMENTS_BUTTON, SEARCH_BUTTON])
        return [SlotSet("citizen_linked", True)]


class ActionListTransactions(Action):
    """The last movements of the citizen's budgets, newest first."""

    LIMIT = 5

    def name(self) -> str:
        return "action_list_transactions"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        try:
            with db_session() as session:
                citizen = citizen_for_conversation(session, conversation_id=tracker.sender_id)
                if citizen is None or citizen.id is None:
                    return not_linked(dispatcher, tracker)
                entries = statement(session, citizen_id=citizen.id, limit=self.LIMIT)
        except Exception:
            logger.exception("action_list_transactions: database error")
            dispatcher.utter_message(text=DB_ERROR_TEXT, buttons=[HANDOFF_BUTTON])
            return []

        if not entries:
            dispatcher.utter_message(
                text="Non ci sono ancora movimenti sul tuo budget welfare.",
                buttons=[BUDGET_BUTTON],
            )
        else:
            lines = [f"Ecco gli ultimi {len(entries)} movimenti:"]
            lines.extend(describe_entry(e) for e in entries)
            dispatcher.utter_message(text="\n".join(lines), buttons=[BUDGET_BUTTON])
        return [SlotSet("citizen_linked", True)]
