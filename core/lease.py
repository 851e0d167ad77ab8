"""A lease in Redis: one process of several does a job at a time (issue 18).

Telegram long polling must have exactly one consumer (a second getUpdates ends the first
with 409 Conflict), so with several gateway processes only the holder of the lease polls.
``while_leader(lease, work)`` runs ``work()`` only while this process holds ``lease``:
it tries to take the lease every ``ttl/3`` seconds, renews it as often while the work
runs, and cancels the work at once if the lease was lost (another process took it after
this one failed to renew in time). A crashed holder's lease frees itself within ``ttl``.

If Redis does not answer, the current holder keeps working and nobody new takes over
(a warning at most once a minute): a cache outage must not stop a running channel, and two
pollers would only fight. With no lease (one process, no Redis URL) ``work()`` just runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import uuid
from collections.abc import Awaitable, Callable

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from core.logs import ThrottledWarning

log = logging.getLogger(__name__)

RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""
RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class Lease:
    def __init__(self, redis_url: str, name: str, *, salt: str, ttl_seconds: float) -> None:
        digest = hashlib.sha256(f"{salt}:{name}".encode()).hexdigest()[:24]
        self.key = f"welcome:lease:{digest}"
        self.name = name
        self.ttl = ttl_seconds
        self.token = uuid.uuid4().hex
        self._redis = aioredis.Redis.from_url(redis_url)
        self._renew = self._redis.register_script(RENEW)
        self._release = self._redis.register_script(RELEASE)
        self._warning = ThrottledWarning(log)

    def _warn(self, error: Exception) -> None:
        self._warning("lease %s: Redis unavailable (%s)", self.name, type(error).__name__)

    async def acquire(self) -> bool:
        """True if this process holds the lease now (taken, or already held and renewed)."""
        try:
            if await self._redis.set(self.key, self.token, nx=True, px=int(self.ttl * 1000)):
                return True
            return bool(await self._renew(keys=[self.key], args=[self.token, int(self.ttl * 1000)]))
        except RedisError as error:
            self._warn(error)
            return False

    async def renew(self) -> bool:
        """False only when another process holds the lease; True also when Redis is down."""
        try:
            return bool(await self._renew(keys=[self.key], args=[self.token, int(self.ttl * 1000)]))
        except RedisError as error:
            self._warn(error)
            return True

    async def release(self) -> None:
        try:
            await self._release(keys=[self.key], args=[self.token])
        except RedisError as error:
            self._warn(error)

    async def aclose(self) -> None:
        await self._redis.aclose()


async def while_leader(lease: Lease | None, work: Callable[[], Awaitable[None]]) -> None:
    """Runs ``work()`` whenever this process holds ``lease`` (see the module's docstring).
    Returns when ``work()`` returns by itself (for example a refused bot token)."""
    if lease is None:
        await work()
        return
    try:
        while True:
            if not await lease.acquire():
                await asyncio.sleep(lease.ttl / 3)
                continue
            log.info("lease %s: taken; this process does the work", lease.name)
            task = asyncio.ensure_future(work())
            try:
                while True:
                    done, _ = await asyncio.wait({task}, timeout=lease.ttl / 3)
                    if done:
                        task.result()  # work ended by itself: so does the leadership
                        return
                    if not await lease.renew():
                        log.warning("lease %s: lost; the work stops here", lease.name)
                        break
            finally:
                if not task.done():
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
    finally:
        with contextlib.suppress(Exception):
            await lease.release()
        await lease.aclose()
