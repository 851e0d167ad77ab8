"""Privacy requests that need a person (erasing the citizen's data, a copy of it) and
stopping the announcements: all ask «Sei sicuro?» first (actions/confirmation.py)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import HANDOFF_BUTTON, db_session, logger
from actions.confirmation import (
    KEPT_TEXT,
    NOTHING_PENDING_TEXT,
    ask,
    confirmed,
    done,
    pending,
)
from actions.wording import N_, button, language_of, tr
from broadcast.subscriptions import choices as subscription_choices
from broadcast.subscriptions import stop as stop_announcements
from core.timeutil import utcnow
from privacy.data_copy import request_copy
from privacy.erasure import request_erasure

FORGET_ME_ASK_TEXT = N_(
    "Vuoi davvero chiedere la cancellazione dei tuoi dati? Il team del Comune cancellerà "
    "i messaggi di questa chat e smetterai di ricevere gli avvisi. Non si può tornare indietro."
)
FORGET_ME_TEXT = N_(
    "Ho passato la tua richiesta di cancellare i tuoi dati al team del Comune. "
    "Un operatore la controllerà e ti confermerà qui quando è fatto: per legge hai "
    "una risposta entro un mese. Se hai un budget welfare, quei dati restano "
    "per il tempo che la legge richiede per i pagamenti."
)
FORGET_ME_FAILED_TEXT = N_(
    "Scusa, in questo momento non riesco a registrare la tua richiesta. "
    "Riprova tra poco oppure chiedi a un operatore."
)
DATA_COPY_ASK_TEXT = N_(
    "Vuoi ricevere una copia di tutti i tuoi dati? Un operatore del Comune la prepara e "
    "te la manda qui in questa chat: un documento PDF da leggere e un file con gli stessi "
    "dati per il computer. I tuoi dati non vengono cancellati."
)
DATA_COPY_TEXT = N_(
    "Ho passato la tua richiesta al team del Comune. Riceverai la copia dei tuoi dati "
    "qui, in questa chat, e solo qui: per legge entro un mese."
)
DATA_COPY_FAILED_TEXT = N_(
    "Scusa, in questo momento non riesco a registrare la tua richiesta. "
    "Riprova tra poco oppure chiedi a un operatore."
)
UNSUBSCRIBE_ASK_TEXT = N_(
    "Vuoi smettere di ricevere tutti gli avvisi? Le tue scelte di quartieri e argomenti "
    "verranno cancellate."
)
NOT_SUBSCRIBED_TEXT = N_("Non ricevi avvisi in questo momento. Se vuoi riceverli, scrivi /avvisi.")
STOP_CUSTOM = {"type": "subscriptions", "action": "stop"}


class ActionForgetMe(Action):
    """Asks for confirmation, then stores an erasure request for the team (privacy.erasure;
    the gateway keeps consents)."""

    def name(self) -> str:
        return "action_forget_me"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        lang = language_of(tracker)
        if not confirmed(tracker, "forget_me", also_intents=frozenset({"forget_me"})):
            return ask(
                dispatcher,
                tracker,
                kind="forget_me",
                text=tr(lang, FORGET_ME_ASK_TEXT),
                yes_title=N_("Sì, cancella i dati"),
                intent="forget_me",
            )
        try:
            with db_session() as session:
                # its own kind: the team's erasure queue, apart from any hand-off (asking
                # again while a request is open changes nothing)
                request_erasure(session, conversation_id=tracker.sender_id, source="rasa_action")
                # asking for erasure stops every announcement at once (and forgets the
                # choices), in the same transaction as the request
                stop_announcements(session, conversation_id=tracker.sender_id, now=utcnow())
        except Exception:
            logger.exception("action_forget_me: could not store the request")
            dispatcher.utter_message(
                text=tr(lang, FORGET_ME_FAILED_TEXT), buttons=[button(lang, HANDOFF_BUTTON)]
            )
            return []
        dispatcher.utter_message(text=tr(lang, FORGET_ME_TEXT))
        return [done()]


class ActionRequestDataCopy(Action):
    """Asks for confirmation, then stores a request for a copy of the citizen's data
    (privacy.data_copy); staff send it from the console into this same conversation."""

    def name(self) -> str:
        return "action_request_data_copy"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        lang = language_of(tracker)
        if not confirmed(tracker, "data_copy", also_intents=frozenset({"request_data_copy"})):
            return ask(
                dispatcher,
                tracker,
                kind="data_copy",
                text=tr(lang, DATA_COPY_ASK_TEXT),
                yes_title=N_("Sì, voglio la copia"),
                intent="request_data_copy",
            )
        try:
            with db_session() as session:
                # asking again while a request is open changes nothing
                request_copy(session, conversation_id=tracker.sender_id, source="rasa_action")
        except Exception:
            logger.exception("action_request_data_copy: could not store the request")
            dispatcher.utter_message(
                text=tr(lang, DATA_COPY_FAILED_TEXT), buttons=[button(lang, HANDOFF_BUTTON)]
            )
            return []
        dispatcher.utter_message(text=tr(lang, DATA_COPY_TEXT))
        return [done()]


class ActionUnsubscribeNews(Action):
    """«Basta avvisi»: asks, then the gateway stops every subscription (custom payload
    ``{"type": "subscriptions", "action": "stop"}``, broadcast.menu.for_custom)."""

    def name(self) -> str:
        return "action_unsubscribe_news"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        if confirmed(tracker, "unsubscribe", also_intents=frozenset({"unsubscribe_news"})):
            # the gateway stops everything and says so (broadcast.menu.STOPPED)
            dispatcher.utter_message(json_message=STOP_CUSTOM)
            return [done()]
        try:
            with db_session() as session:
                active = subscription_choices(session, conversation_id=tracker.sender_id).active
        except Exception:
            logger.exception("action_unsubscribe_news: could not read the subscription")
            active = True  # ask anyway: the answer stops whatever there is
        lang = language_of(tracker)
        if not active:
            dispatcher.utter_message(text=tr(lang, NOT_SUBSCRIBED_TEXT))
            return [done()]
        return ask(
            dispatcher,
            tracker,
            kind="unsubscribe",
            text=tr(lang, UNSUBSCRIBE_ASK_TEXT),
            yes_title=N_("Sì, basta avvisi"),
            intent="unsubscribe_news",
        )


class ActionKeepEverything(Action):
    """«No» / «annulla» to a «Sei sicuro?» question: nothing happens, the question is over."""

    def name(self) -> str:
        return "action_keep_everything"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        text = KEPT_TEXT if pending(tracker) else NOTHING_PENDING_TEXT
        dispatcher.utter_message(text=tr(language_of(tracker), text))
        return [done()]
