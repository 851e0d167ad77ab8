"""First contact: the privacy notice and the explicit consent that unlocks the assistant.

Nothing a citizen writes is processed before consent, except by the emergency safety net
(vital interest, GDPR art. 9(2)(c)), which runs first on every message.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from bot import language, wording
from broadcast import subscriptions
from conversations import repository as repo
from conversations.outgoing import Button, Outgoing

ACCEPT_PAYLOAD = "gw:consent:accept"
DECLINE_PAYLOAD = "gw:consent:decline"

_ACCEPT_WORDS = {"accetto", "si accetto", "sì accetto", "ok accetto", "acconsento",
                 "i accept", "accept", "i agree", "agree"}  # fmt: skip
_DECLINE_WORDS = {"non accetto", "rifiuto", "no non accetto", "i do not accept",
                  "i don't accept", "decline", "i decline"}  # fmt: skip


def notice(*, reminder: bool = False) -> Outgoing:
    """The privacy notice with its two buttons (or a short reminder with the same buttons),
    and a third that opens the language switch (bot/language.py) before anything is read.
    Written in Italian; the sender puts it in the conversation's language."""
    return Outgoing(
        text=wording.CONSENT_REMINDER if reminder else wording.PRIVACY_NOTICE,
        buttons=[
            Button(wording.CONSENT_ACCEPT_TITLE, ACCEPT_PAYLOAD),
            Button(wording.CONSENT_DECLINE_TITLE, DECLINE_PAYLOAD),
            Button(language.SWITCH_BUTTON, language.ASK_PAYLOAD),
        ],
        gateway=True,
    )


def _words(text: str) -> str:
    return " ".join(text.lower().replace(",", " ").replace(".", " ").replace("!", " ").split())


def is_accept(*, payload: str | None, text: str) -> bool:
    return payload == ACCEPT_PAYLOAD or _words(text) in _ACCEPT_WORDS


def is_decline(*, payload: str | None, text: str) -> bool:
    return payload == DECLINE_PAYLOAD or _words(text) in _DECLINE_WORDS


def withdraw(session: Session, *, conversation_id: str, now: datetime) -> None:
    """Consent withdrawn: in the same transaction every announcement stops and the choices
    are forgotten (a later consent does not bring them back)."""
    repo.withdraw_consent(session, conversation_id=conversation_id, now=now)
    subscriptions.stop(session, conversation_id=conversation_id, now=now)
