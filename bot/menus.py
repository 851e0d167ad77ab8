"""Menus the gateway answers by itself, without Rasa: the announcements menu (broadcast/).

``intercept`` answers a ``sub:`` button or a typed «stop avvisi»; ``for_custom`` turns Rasa's
``{"type": "subscriptions"}`` custom payload into the menu. Both change the subscription in
the same transaction that reads it.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlmodel import Session

from broadcast import menu
from broadcast.subscriptions import NoConsent
from conversations.outgoing import Outgoing
from core.timeutil import utcnow

log = logging.getLogger(__name__)

CUSTOM_TYPE = "subscriptions"


def _outgoing(reply: menu.MenuReply | None) -> Outgoing | None:
    if reply is None:
        return None
    return Outgoing(text=reply.text, buttons=list(reply.buttons), gateway=True)


def intercepts(*, payload: str | None, text: str) -> bool:
    """Whether ``intercept`` may answer this message: a ``sub:`` button or a typed «stop
    avvisi». Read from the message alone, so that every other message goes on to Rasa
    without a database transaction for the menu."""
    return menu.intercepts(payload=payload, text=text)


def intercept(
    session: Session, *, conversation_id: str, payload: str | None, text: str
) -> Outgoing | None:
    try:
        reply = menu.intercept(
            session, conversation_id=conversation_id, payload=payload, text=text, now=utcnow()
        )
    except NoConsent:
        return None
    return _outgoing(reply)


def for_custom(
    session: Session, *, conversation_id: str, custom: dict[str, Any]
) -> Outgoing | None:
    try:
        reply = menu.for_custom(
            session, conversation_id=conversation_id, custom=custom, now=utcnow()
        )
    except NoConsent:
        return None
    return _outgoing(reply)
