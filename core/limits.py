"""Counters behind the per-client limits, shared by every gateway process through Redis.

Three kinds of limit, each under a name (``"webchat.sessions"``) and a key (a client
address, a chat):

- ``hit``: at most ``limit`` events per key within ``seconds`` (a sliding window);
- ``hit_distinct``: at most ``limit`` distinct members (conversations) per key within
  ``seconds``; a member already counted passes again freely;
- ``acquire``/``release``: at most ``limit`` things open at once per key (event streams).

Two stores behind one interface (``LimitStore``):

- ``MemoryLimitStore``: this process's memory (the embedded default: one gateway process);
- ``RedisLimitStore``: one Redis for every gateway process (REDIS_URL). Each check is one Lua
  script (atomic, on Redis's clock), on a sorted set per key that expires by itself. An open
  slot is a lease that this process renews every ``lease/3`` seconds, so a crashed process's
  streams free their slots within ``lease`` seconds. Keys and members are hashed with a
  secret salt: no client address or conversation is written to Redis in the clear. If Redis
  does not answer, the request is allowed and the failure logged (at most once a minute):
  a limit must never refuse a citizen because a cache is down.

``limit_store(redis_url, salt=...)`` picks the store.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
import uuid
from collections import deque
from typing import Protocol

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from core.logs import ThrottledWarning
from core.periodic import PeriodicTask

log = logging.getLogger(__name__)

LEASE_SECONDS = 60.0
MAX_KEYS = 10_000  # per name, in memory: idle keys are dropped past it


class LimitStore(Protocol):
    async def hit(self, name: str, key: str, *, limit: int, seconds: float) -> bool: ...

    async def hit_distinct(
        self, name: str, key: str, member: str, *, limit: int, seconds: float
    ) -> bool: ...

    async def acquire(self, name: str, key: str, *, limit: int) -> str | None:
        """A slot id when one of the ``limit`` slots of ``key`` was free, else None."""
        ...

    async def release(self, name: str, key: str, slot: str) -> None: ...

    async def aclose(self) -> None: ...


# --- this process's memory -----------------------------------------------------------------


class MemoryLimitStore:
    def __init__(self, max_keys: int = MAX_KEYS) -> None:
        self.max_keys = max_keys
        self._hits: dict[str, dict[str, deque[float]]] = {}
        self._seen: dict[str, dict[str, dict[str, float]]] = {}
        self._open: dict[str, dict[str, set[str]]] = {}

    async def hit(
        self, name: str, key: str, *, limit: int, seconds: float, now: float | None = None
    ) -> bool:
        now = time.monotonic() if now is None else now
        table = self._hits.setdefault(name, {})
        hits = table.get(key)
        if hits is None:
            if len(table) >= self.max_keys:
                for idle in [k for k, v in table.items() if not v or now - v[-1] > seconds]:
                    del table[idle]
            hits = table[key] = deque()
        while hits and now - hits[0] > seconds:
            hits.popleft()
        if len(hits) >= limit:
            return False
        hits.append(now)
        return True

    async def hit_distinct(
        self,
        name: str,
        key: str,
        member: str,
        *,
        limit: int,
        seconds: float,
        now: float | None = None,
    ) -> bool:
        now = time.monotonic() if now is None else now
        table = self._seen.setdefault(name, {})
        seen = table.get(key)
        if seen is None:
            if len(table) >= self.max_keys:
                for idle in [
                    k for k, v in table.items() if all(now - t > seconds for t in v.values())
                ]:
                    del table[idle]
            seen = table[key] = {}
        for old in [m for m, at in seen.items() if now - at > seconds]:
            del seen[old]
        if member in seen:
            return True
        if len(seen) >= limit:
            return False
        seen[member] = now
        return True

    async def acquire(self, name: str, key: str, *, limit: int) -> str | None:
        slots = self._open.setdefault(name, {}).setdefault(key, set())
        if len(slots) >= limit:
            return None
        slot = uuid.uuid4().hex
        slots.add(slot)
        return slot

    async def release(self, name: str, key: str, slot: str) -> None:
        table = self._open.get(name, {})
        slots = table.get(key)
        if slots is None:
            return
        slots.discard(slot)
        if not slots:
            del table[key]

    async def aclose(self) -> None:
        return None


# --- Redis, shared by every gateway process ------------------------------------------------

# Redis's own clock, in milliseconds (the same for every gateway host)
_NOW = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
"""

# KEYS[1] the sorted set; ARGV: window ms, limit, the member, "1" when a member already
# counted in the window passes again (distinct members) or "0" (every hit counts)
WINDOW = (
    _NOW
    + """
local window = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if ARGV[4] == '1' and redis.call('ZSCORE', KEYS[1], ARGV[3]) then return 1 end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('PEXPIRE', KEYS[1], window)
return 1
"""
)

# KEYS[1] the sorted set of leases (score: when each ends); ARGV: lease ms, limit, slot id
ACQUIRE = (
    _NOW
    + """
local lease = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], now + lease, ARGV[3])
if redis.call('PTTL', KEYS[1]) < lease then redis.call('PEXPIRE', KEYS[1], lease) end
return 1
"""
)

# KEYS[1] the sorted set of leases; ARGV: lease ms, slot id (only if still held)
RENEW = (
    _NOW
    + """
local lease = tonumber(ARGV[1])
local renewed = redis.call('ZADD', KEYS[1], 'XX', 'CH', now + lease, ARGV[2])
if redis.call('PTTL', KEYS[1]) < lease then redis.call('PEXPIRE', KEYS[1], lease) end
return renewed
"""
)


class RedisLimitStore:
    def __init__(
        self,
        url: str,
        *,
        salt: str,
        prefix: str = "welcome:limit",
        lease_seconds: float = LEASE_SECONDS,
        timeout_seconds: float = 1.0,
    ) -> None:
        self.redis = aioredis.Redis.from_url(
            url, socket_timeout=timeout_seconds, socket_connect_timeout=timeout_seconds
        )
        self.salt = salt.encode("utf-8")
        self.prefix = prefix
        self.lease_ms = int(lease_seconds * 1000)
        self._hit = self.redis.register_script(WINDOW)
        self._acquire = self.redis.register_script(ACQUIRE)
        self._renew = self.redis.register_script(RENEW)
        self._held: dict[str, str] = {}  # slot -> its Redis key, renewed while held here
        self._releasing: set[asyncio.Future[None]] = set()
        self._renewer = PeriodicTask("limit leases", self.renew_leases, lease_seconds / 3)
        self._warning = ThrottledWarning(log)

    def _digest(self, value: str) -> str:
        return hashlib.blake2b(
            value.encode("utf-8"), key=self.salt[:64], digest_size=16
        ).hexdigest()

    def _key(self, name: str, key: str) -> str:
        return f"{self.prefix}:{name}:{self._digest(key)}"

    def _unavailable(self, exc: Exception) -> None:
        self._warning("limits: Redis did not answer (%s); requests allowed", type(exc).__name__)

    async def hit(self, name: str, key: str, *, limit: int, seconds: float) -> bool:
        return await self._window(name, key, uuid.uuid4().hex, limit, seconds, distinct=False)

    async def hit_distinct(
        self, name: str, key: str, member: str, *, limit: int, seconds: float
    ) -> bool:
        member = self._digest(member)
        return await self._window(name, key, member, limit, seconds, distinct=True)

    async def _window(
        self, name: str, key: str, member: str, limit: int, seconds: float, *, distinct: bool
    ) -> bool:
        args = [int(seconds * 1000), limit, member, "1" if distinct else "0"]
        try:
            return bool(await self._hit(keys=[self._key(name, key)], args=args))
        except RedisError as exc:
            self._unavailable(exc)
            return True

    async def acquire(self, name: str, key: str, *, limit: int) -> str | None:
        slot = uuid.uuid4().hex
        redis_key = self._key(name, key)
        try:
            if not await self._acquire(keys=[redis_key], args=[self.lease_ms, limit, slot]):
                return None
        except RedisError as exc:
            self._unavailable(exc)
            return slot  # allowed, and not held in Redis
        self._held[slot] = redis_key
        self._renewer.start()
        return slot

    async def release(self, name: str, key: str, slot: str) -> None:
        redis_key = self._held.pop(slot, None)  # no longer renewed, whatever happens next
        if redis_key is None:
            return
        # shielded: a stream's release runs while its request is being cancelled (the client
        # left), and the slot must be given back all the same
        forget = asyncio.ensure_future(self._forget(redis_key, slot))
        self._releasing.add(forget)
        forget.add_done_callback(self._releasing.discard)
        await asyncio.shield(forget)

    async def _forget(self, redis_key: str, slot: str) -> None:
        try:
            await self.redis.zrem(redis_key, slot)
        except RedisError as exc:  # the lease ends by itself
            self._unavailable(exc)

    async def renew_leases(self) -> None:
        """Extend the lease of every slot this process holds (the renewer's tick)."""
        for slot, redis_key in list(self._held.items()):
            if slot in self._held:
                await self._renew(keys=[redis_key], args=[self.lease_ms, slot])

    async def aclose(self) -> None:
        await self._renewer.stop()
        if self._releasing:
            await asyncio.gather(*self._releasing, return_exceptions=True)
        held, self._held = self._held, {}
        try:
            for slot, redis_key in held.items():
                await self.redis.zrem(redis_key, slot)
        except RedisError as exc:
            self._unavailable(exc)
        await self.redis.aclose()


def limit_store(redis_url: str, *, salt: str) -> LimitStore:
    """Redis when a URL is given (several gateway processes), else this process's memory."""
    if redis_url:
        return RedisLimitStore(redis_url, salt=salt)
    return MemoryLimitStore()


# --- one limit, bound to its store ---------------------------------------------------------


class SlidingWindow:
    """At most ``limit`` events per key within ``seconds``."""

    def __init__(self, store: LimitStore, name: str, *, limit: int, seconds: float) -> None:
        self.store, self.name, self.limit, self.seconds = store, name, limit, seconds

    async def allow(self, key: str) -> bool:
        return await self.store.hit(self.name, key, limit=self.limit, seconds=self.seconds)


class DistinctWindow:
    """At most ``limit`` distinct members per key within ``seconds``; a member already counted
    passes again freely."""

    def __init__(self, store: LimitStore, name: str, *, limit: int, seconds: float) -> None:
        self.store, self.name, self.limit, self.seconds = store, name, limit, seconds

    async def allow(self, key: str, member: str) -> bool:
        return await self.store.hit_distinct(
            self.name, key, member, limit=self.limit, seconds=self.seconds
        )


class Concurrent:
    """At most ``limit`` things open at once per key: ``acquire`` gives a slot (or None),
    ``release`` gives it back."""

    def __init__(self, store: LimitStore, name: str, *, limit: int) -> None:
        self.store, self.name, self.limit = store, name, limit

    async def acquire(self, key: str) -> str | None:
        return await self.store.acquire(self.name, key, limit=self.limit)

    async def release(self, key: str, slot: str) -> None:
        await self.store.release(self.name, key, slot)
