"""Per-conversation locks that hold across gateway processes, through Redis (issue 18).

The gateway handles one conversation's messages one at a time and oldest first
(``bot.gateway.Gateway.process_conversation`` reads the unhandled messages from the
database under the lock). With several gateway processes the lock has to be shared, or two
processes answer the same conversation at once and out of order.

``SharedKeyedLocks`` keeps the in-process ``KeyedLocks`` (so a process's own waiters queue
in memory, and only one of them at a time talks to Redis) and adds a Redis lock per key:
``SET key token NX PX ttl``, renewed every ``ttl/3`` while held, and released by a Lua
compare-and-delete, so a process never frees a lock another one took after its own expired.
A crashed process's locks free themselves within ``ttl``. Keys are hashed with a salt (no
conversation id in Redis). If Redis does not answer, the lock falls back to this process
only, with a warning at most once a minute: a cache outage must not stop the answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from core.lease import RELEASE, RENEW
from core.locks import KeyedLocks
from core.logs import ThrottledWarning

log = logging.getLogger(__name__)


class SharedKeyedLocks:
    def __init__(
        self,
        redis_url: str,
        *,
        salt: str,
        prefix: str = "welcome:lock:conversation:",
        ttl_seconds: float = 30.0,
        poll_seconds: float = 0.02,
    ) -> None:
        self._local = KeyedLocks()
        self._redis = aioredis.Redis.from_url(redis_url)
        self._release = self._redis.register_script(RELEASE)
        self._renew = self._redis.register_script(RENEW)
        self._salt = salt
        self._prefix = prefix
        self._ttl_ms = int(ttl_seconds * 1000)
        self._poll = poll_seconds
        self._warning = ThrottledWarning(log)

    def _name(self, key: str) -> str:
        digest = hashlib.sha256(f"{self._salt}:{key}".encode()).hexdigest()[:32]
        return self._prefix + digest

    def _warn(self, error: Exception) -> None:
        self._warning(
            "shared locks: Redis unavailable (%s); this process only", type(error).__name__
        )

    async def _acquire(self, name: str, token: str) -> bool:
        """True once held in Redis; False when Redis does not answer."""
        wait = self._poll
        while True:
            try:
                if await self._redis.set(name, token, nx=True, px=self._ttl_ms):
                    return True
            except RedisError as error:
                self._warn(error)
                return False
            await asyncio.sleep(wait)
            wait = min(wait * 2, 0.2)

    async def _keep(self, name: str, token: str) -> None:
        while True:
            await asyncio.sleep(self._ttl_ms / 3000)
            try:
                await self._renew(keys=[name], args=[token, self._ttl_ms])
            except RedisError as error:
                self._warn(error)

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        """Hold ``key``'s lock in this process and in Redis for the ``async with`` block."""
        async with self._local.hold(key):
            name, token = self._name(key), uuid.uuid4().hex
            held = await self._acquire(name, token)
            keeper = (
                asyncio.get_running_loop().create_task(self._keep(name, token)) if held else None
            )
            try:
                yield
            finally:
                if keeper is not None:
                    keeper.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await keeper
                    try:
                        await self._release(keys=[name], args=[token])
                    except RedisError as error:
                        self._warn(error)

    def locked(self, key: str) -> bool:
        """True while this process holds or waits for ``key`` (the outbox skips those)."""
        return self._local.locked(key)

    def __len__(self) -> int:
        return len(self._local)

    async def aclose(self) -> None:
        await self._redis.aclose()
