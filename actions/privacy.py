"""Privacy requests that need a person: erasing the citizen's data."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import HANDOFF_BUTTON, db_session, logger
from broadcast.subscriptions import stop as stop_announcements
from core.timeutil import utcnow
from privacy.erasure import request_erasure

FORGET_ME_TEXT = (
    "Ho passato la tua richiesta di cancellare i tuoi dati al team del Comune. "
    "Un operatore la controllerà e ti confermerà qui quando è fatto: per legge hai "
    "una risposta entro un mese. Se hai un budget welfare, quei dati restano "
    "per il tempo che la legge richiede per i pagamenti."
)
FORGET_ME_FAILED_TEXT = (
    "Scusa, in questo momento non riesco a registrare la tua richiesta. "
    "Riprova tra poco oppure chiedi a un operatore."
)


class ActionForgetMe(Action):
    """Answers and stores an erasure request for the team (privacy.erasure; the gateway keeps
    consents)."""

    def name(self) -> str:
        return "action_forget_me"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
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
            dispatcher.utter_message(text=FORGET_ME_FAILED_TEXT, buttons=[HANDOFF_BUTTON])
            return []
        dispatcher.utter_message(text=FORGET_ME_TEXT)
        return []
