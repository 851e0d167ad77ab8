"""The conversation router: who answers a conversation, the assistant or a person.

``Router.switch`` is the ONE place where a conversation changes mode. In "bot" mode the
citizen's messages go to Rasa; in "human" mode they are stored for the console and Rasa is
not called. The console (issue 5) switches back with ``router.switch(..., Mode.bot, ...)``
and can register ``on_switch`` hooks (e.g. to pause and resume Rasa's tracker).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from conversations import repository as repo
from conversations.models import Conversation, Mode
from core.database import Database
from core.events import EventBus
from core.timeutil import utcnow

log = logging.getLogger(__name__)

SwitchHook = Callable[[str, Mode, Mode, str], Awaitable[None]]


class Router:
    def __init__(self, db: Database, events: EventBus) -> None:
        self._db = db
        self._events = events
        self.on_switch: list[SwitchHook] = []

    @staticmethod
    def destination(conversation: Conversation) -> Mode:
        return Mode(conversation.mode)

    async def switch(self, conversation_id: str, mode: Mode, *, reason: str) -> bool:
        """Put the conversation in ``mode``; True when it changed. Hooks run after the commit."""
        previous = await self._db.run(
            repo.set_mode, conversation_id=conversation_id, mode=mode, reason=reason, now=utcnow()
        )
        if previous == mode:
            return False
        log.info("conversation %s: mode %s -> %s (%s)", conversation_id, previous, mode, reason)
        self._events.publish(
            conversation_id, {"type": "mode", "mode": mode.value, "reason": reason}
        )
        for hook in self.on_switch:
            try:
                await hook(conversation_id, previous, mode, reason)
            except Exception:
                log.exception("mode switch hook failed for conversation %s", conversation_id)
        return True
