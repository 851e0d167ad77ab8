"""Conversation events shared by several gateway processes through Redis pub/sub (issue 18).

One relay per ``EventBus`` and Redis channel. Every event published on this process's bus is
sent to the channel, tagged with this relay's origin; every event read from the channel
with another origin is delivered to this process's subscribers only, marked
``"remote": True``. So a Care Manager whose console is connected to one gateway sees a
citizen message received by another, and a citizen whose web chat stream is open on one
gateway gets a reply sent by another.

Pub/sub keeps nothing: a process that is not listening at that instant misses the event,
exactly as a slow local subscriber does; both catch up from the stored history (events
carry message ids; the web chat stream and the console read the history first). Events
are sent in the order they were published (one connection, one sender task); a queue of
``queue_size`` events absorbs a slow Redis, and past it events are dropped with a warning
rather than slowing the gateway. The payloads are what the local subscribers already get
(message views, ids, modes); Redis is inside the same trust boundary as the database
(docs/security.md), and nothing is stored there.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from core.events import REMOTE, Event, EventBus

log = logging.getLogger(__name__)

RECONNECT_SECONDS = 1.0


class RedisEventRelay:
    def __init__(
        self, bus: EventBus, redis_url: str, channel: str, *, queue_size: int = 10_000
    ) -> None:
        self.bus = bus
        self.channel = channel
        self.origin = uuid.uuid4().hex
        self._redis = aioredis.Redis.from_url(redis_url)
        self._outgoing: asyncio.Queue[bytes] = asyncio.Queue(queue_size)
        self._tasks: list[asyncio.Task[None]] = []
        self._listening = asyncio.Event()

    async def start(self) -> None:
        """Subscribes (waiting until Redis confirms, so no event after this is missed) and
        starts relaying this bus's events."""
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._listen(), name=f"event-relay-listen:{self.channel}"),
            loop.create_task(self._send(), name=f"event-relay-send:{self.channel}"),
        ]
        self.bus.add_relay(self._relay)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._listening.wait(), 5)

    async def stop(self) -> None:
        self.bus.remove_relay(self._relay)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._redis.aclose()

    def _relay(self, conversation_id: str, event: Event) -> None:
        payload = {"o": self.origin, "c": conversation_id, "e": event}
        try:
            self._outgoing.put_nowait(json.dumps(payload, default=str).encode())
        except asyncio.QueueFull:
            log.warning("event relay %s: Redis too slow; event not shared", self.channel)

    async def _send(self) -> None:
        while True:
            data = await self._outgoing.get()
            while True:
                try:
                    await self._redis.publish(self.channel, data)
                    break
                except RedisError as error:
                    log.warning("event relay %s: %s; retrying", self.channel, type(error).__name__)
                    await asyncio.sleep(RECONNECT_SECONDS)

    async def _listen(self) -> None:
        while True:
            try:
                async with self._redis.pubsub() as pubsub:
                    await pubsub.subscribe(self.channel)
                    async for message in pubsub.listen():
                        if message.get("type") == "subscribe":
                            self._listening.set()
                        elif message.get("type") == "message":
                            self._receive(message["data"])
            except RedisError as error:
                log.warning("event relay %s: %s; reconnecting", self.channel, type(error).__name__)
                await asyncio.sleep(RECONNECT_SECONDS)

    def _receive(self, data: bytes) -> None:
        try:
            payload: dict[str, Any] = json.loads(data)
            if payload["o"] == self.origin:
                return
            self.bus.deliver(str(payload["c"]), {**payload["e"], REMOTE: True})
        except (ValueError, KeyError, TypeError):
            log.warning("event relay %s: an unreadable event was ignored", self.channel)
