"""In-process publish/subscribe of conversation events (new message, typing, mode, status).

The web chat streams its conversation's events to the browser; the console (issue 5) can
subscribe to every conversation. Slow subscribers lose events rather than slowing the
gateway: they catch up from the stored history (events carry message ids).

With several gateway processes, a relay (core.event_relay) is attached with ``add_relay``:
every event published here is also handed to it, and the events it receives from the other
processes are ``deliver``-ed here only, marked ``"remote": True`` so that work done once
per event (the hand-off's "for_staff") stays with the process that published it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

log = logging.getLogger(__name__)

Event = dict[str, Any]
Relay = Callable[[str, Event], None]
ALL = "*"
REMOTE = "remote"


class EventBus:
    def __init__(self, queue_size: int = 200) -> None:
        self._subscribers: dict[str, set[asyncio.Queue[Event]]] = {}
        self._queue_size = queue_size
        self._relays: list[Relay] = []

    def add_relay(self, relay: Relay) -> None:
        self._relays.append(relay)

    def remove_relay(self, relay: Relay) -> None:
        if relay in self._relays:
            self._relays.remove(relay)

    def publish(self, conversation_id: str, event: Event) -> None:
        """To this process's subscribers, and to the other processes through the relays."""
        self.deliver(conversation_id, event)
        for relay in self._relays:
            relay(conversation_id, event)

    def deliver(self, conversation_id: str, event: Event) -> None:
        """To this process's subscribers only."""
        event = {**event, "conversation_id": conversation_id}
        for key in (conversation_id, ALL):
            for queue in list(self._subscribers.get(key, ())):
                try:
                    queue.put_nowait(event)
                except asyncio.QueueFull:
                    log.warning("event subscriber of %s too slow; event dropped", key[:32])

    @asynccontextmanager
    async def subscribe(self, conversation_id: str = ALL) -> AsyncIterator[asyncio.Queue[Event]]:
        """A queue receiving the events of one conversation (or of all, with ALL)."""
        queue: asyncio.Queue[Event] = asyncio.Queue(self._queue_size)
        self._subscribers.setdefault(conversation_id, set()).add(queue)
        try:
            yield queue
        finally:
            subscribers = self._subscribers.get(conversation_id)
            if subscribers is not None:
                subscribers.discard(queue)
                if not subscribers:
                    del self._subscribers[conversation_id]

    def subscriber_count(self, conversation_id: str) -> int:
        return len(self._subscribers.get(conversation_id, ()))
