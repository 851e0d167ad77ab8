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
from actions.wording import N_, button, buttons, language_of, tr
from welfare.ledger.accounts import AccountBalance, EntryView, balances, statement
from welfare.ledger.linking import citizen_for_conversation
from welfare.ledger.models import SourceKind

NOT_LINKED_TEXT = N_(
    "Per mostrarti il budget devo essere sicuro che sei proprio tu. "
    "Ti serve un codice personale, che ricevi:\n"
    "- in un Welcome Point (porta un documento d'identità);\n"
    "- oppure dall'ufficio welfare della tua azienda, se hai il welfare aziendale.\n"
    "Il codice si usa una volta sola e collega questa chat al tuo budget."
)
TYPE_CODE_LATER = N_(
    "Quando hai il codice, scrivimi «codice» seguito dal codice, per esempio «codice K7QF-2M9P»."
)
DB_ERROR_TEXT = N_(
    "Scusa, in questo momento non riesco a leggere il budget. Riprova tra qualche minuto "
    "oppure chiedi a un operatore."
)
EXPIRING_DAYS = 30

MOVEMENTS_BUTTON = {"title": N_("Ultimi movimenti"), "payload": "/list_transactions"}
BUDGET_BUTTON = {"title": N_("Il mio budget welfare"), "payload": "/check_budget"}
SEARCH_BUTTON = {"title": N_("Cerca un servizio"), "payload": "/search_service"}


def not_linked(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[dict[str, Any]]:
    """Explain how to link; the code form asks for the code unless another form is open."""
    lang = language_of(tracker)
    text = tr(lang, NOT_LINKED_TEXT)
    if active_loop_name(tracker):
        text = f"{text}\n{tr(lang, TYPE_CODE_LATER)}"
    dispatcher.utter_message(text=text, buttons=[button(lang, WELCOME_POINT_BUTTON)])
    return [SlotSet("citizen_linked", False)]


def describe_balance(balance: AccountBalance, language: str | None = "it") -> str:
    """One budget (its name is data, as the funding source wrote it)."""
    lang = language
    reference = now()
    available = money(balance.available_cents, lang)
    line = tr(lang, N_("- {name}: {amount} disponibili"), name=balance.label, amount=available)
    if balance.held_cents > 0:
        held = money(balance.held_cents, lang)
        line += tr(lang, N_(" (più {amount} già riservati per una prenotazione)"), amount=held)
    line += tr(lang, N_(". Scade il {day}."), day=day_label(balance.expires_at, lang))
    days_left = (balance.expires_at - reference).days
    if balance.available_cents > 0 and days_left < EXPIRING_DAYS:
        line += (
            tr(lang, N_(" Attenzione: scade tra pochi giorni!"))
            if days_left < 7
            else tr(lang, N_(" Attenzione: scade tra {days} giorni."), days=days_left)
        )
    return line


def describe_entry(entry: EntryView, language: str | None = "it") -> str:
    """One movement (its description is the ledger's, as written when it was made)."""
    lang = language
    if entry.amount_cents > 0:
        amount = f"+{money(entry.amount_cents, lang)}"
    elif entry.amount_cents < 0:
        amount = money(entry.amount_cents, lang)
    elif entry.held_cents > 0:
        amount = tr(lang, N_("{amount} riservati"), amount=money(entry.held_cents, lang))
    elif entry.held_cents < 0:
        back = money(-entry.held_cents, lang)
        amount = tr(lang, N_("{amount} di nuovo disponibili"), amount=back)
    else:
        amount = money(0, lang)
    return f"- {short_date(entry.created_at)}: {entry.description}, {amount} ({entry.source_label})"


class ActionCheckBudget(Action):
    """Public and employer budgets separately, with what is available and the expiry."""

    def name(self) -> str:
        return "action_check_budget"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        lang = language_of(tracker)
        try:
            with db_session() as session:
                citizen = citizen_for_conversation(session, conversation_id=tracker.sender_id)
                if citizen is None or citizen.id is None:
                    return not_linked(dispatcher, tracker)
                accounts = balances(session, citizen_id=citizen.id, now=now())
                first_name = citizen.first_name
        except Exception:
            logger.exception("action_check_budget: database error")
            dispatcher.utter_message(
                text=tr(lang, DB_ERROR_TEXT), buttons=[button(lang, HANDOFF_BUTTON)]
            )
            return []

        if not accounts:
            none_active = N_(
                "{name}, al momento non hai un budget welfare attivo. "
                "Un Care Manager può dirti se ne hai diritto e come chiederlo."
            )
            dispatcher.utter_message(
                text=tr(lang, none_active, name=first_name),
                buttons=buttons(lang, [HANDOFF_BUTTON, WELCOME_POINT_BUTTON]),
            )
            return [SlotSet("citizen_linked", True)]

        public = [a for a in accounts if a.source_kind == SourceKind.public]
        employer = [a for a in accounts if a.source_kind == SourceKind.employer]
        lines = [tr(lang, N_("Ecco il tuo budget welfare, {name}:"), name=first_name)]
        if public:
            lines.append(tr(lang, N_("Budget pubblico (Comune):")))
            lines.extend(describe_balance(a, lang) for a in public)
        if employer:
            lines.append(tr(lang, N_("Welfare aziendale (dal tuo datore di lavoro):")))
            lines.extend(describe_balance(a, lang) for a in employer)
        dispatcher.utter_message(
            text="\n".join(lines), buttons=buttons(lang, [MOVEMENTS_BUTTON, SEARCH_BUTTON])
        )
        return [SlotSet("citizen_linked", True)]


class ActionListTransactions(Action):
    """The last movements of the citizen's budgets, newest first."""

    LIMIT = 5

    def name(self) -> str:
        return "action_list_transactions"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        lang = language_of(tracker)
        try:
            with db_session() as session:
                citizen = citizen_for_conversation(session, conversation_id=tracker.sender_id)
                if citizen is None or citizen.id is None:
                    return not_linked(dispatcher, tracker)
                entries = statement(session, citizen_id=citizen.id, limit=self.LIMIT)
        except Exception:
            logger.exception("action_list_transactions: database error")
            dispatcher.utter_message(
                text=tr(lang, DB_ERROR_TEXT), buttons=[button(lang, HANDOFF_BUTTON)]
            )
            return []

        if not entries:
            dispatcher.utter_message(
                text=tr(lang, N_("Non ci sono ancora movimenti sul tuo budget welfare.")),
                buttons=[button(lang, BUDGET_BUTTON)],
            )
        else:
            lines = [tr(lang, N_("Ecco gli ultimi {count} movimenti:"), count=len(entries))]
            lines.extend(describe_entry(e, lang) for e in entries)
            dispatcher.utter_message(text="\n".join(lines), buttons=[button(lang, BUDGET_BUTTON)])
        return [SlotSet("citizen_linked", True)]
