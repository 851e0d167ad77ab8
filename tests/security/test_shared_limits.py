"""core.limits: the same limits in this process's memory and in Redis (real Redis); two
stores on one Redis (two gateway processes) share their counts; a crashed process's slots
free themselves; no client address reaches Redis in the clear; Redis down lets requests
through and says so once."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator

import pytest
import redis

from core.limits import LimitStore, MemoryLimitStore, RedisLimitStore, limit_store

ADDRESS = "203.0.113.7"


def redis_store(url: str, salt: str, **kwargs: float) -> RedisLimitStore:
    return RedisLimitStore(url, salt=salt, **kwargs)  # type: ignore[arg-type]


@pytest.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[LimitStore]:
    if request.param == "memory":
        made: LimitStore = MemoryLimitStore()
    else:
        url = request.getfixturevalue("redis_url")
        made = redis_store(url, uuid.uuid4().hex)
    yield made
    await made.aclose()


async def test_sliding_window(store: LimitStore) -> None:
    results = [await store.hit("t.sessions", ADDRESS, limit=3, seconds=0.5) for _ in range(5)]
    assert results == [True, True, True, False, False]
    assert await store.hit("t.sessions", "198.51.100.1", limit=3, seconds=0.5)  # its own count
    assert await store.hit("t.uploads", ADDRESS, limit=3, seconds=0.5)  # another limit
    await asyncio.sleep(0.6)
    assert await store.hit("t.sessions", ADDRESS, limit=3, seconds=0.5)  # the window moved


async def test_distinct_window(store: LimitStore) -> None:
    def hit(member: str) -> object:
        return store.hit_distinct("t.emergencies", ADDRESS, member, limit=2, seconds=0.5)

    assert [await hit("chat-a"), await hit("chat-b"), await hit("chat-c")] == [True, True, False]
    assert await hit("chat-a")  # counted already: passes again
    assert await hit("chat-b")
    await asyncio.sleep(0.6)
    assert await hit("chat-c")


async def test_concurrent_slots(store: LimitStore) -> None:
    first = await store.acquire("t.streams", ADDRESS, limit=2)
    second = await store.acquire("t.streams", ADDRESS, limit=2)
    assert first and second and first != second
    assert await store.acquire("t.streams", ADDRESS, limit=2) is None
    assert await store.acquire("t.streams", "198.51.100.1", limit=2) is not None
    await store.release("t.streams", ADDRESS, first)
    third = await store.acquire("t.streams", ADDRESS, limit=2)
    assert third is not None
    assert await store.acquire("t.streams", ADDRESS, limit=2) is None


async def test_two_processes_share_one_redis(redis_url: str) -> None:
    salt = uuid.uuid4().hex
    one, two = redis_store(redis_url, salt), redis_store(redis_url, salt)
    try:
        hits = []
        for store in (one, two, one, two, one, two):
            hits.append(await store.hit("t.sessions", ADDRESS, limit=4, seconds=60))
        assert hits == [True, True, True, True, False, False]
        assert await one.hit_distinct("t.em", ADDRESS, "chat-a", limit=1, seconds=60)
        assert not await two.hit_distinct("t.em", ADDRESS, "chat-b", limit=1, seconds=60)
        assert await two.hit_distinct("t.em", ADDRESS, "chat-a", limit=1, seconds=60)
        slot = await one.acquire("t.streams", ADDRESS, limit=1)
        assert slot is not None
        assert await two.acquire("t.streams", ADDRESS, limit=1) is None
        await one.release("t.streams", ADDRESS, slot)
        assert await two.acquire("t.streams", ADDRESS, limit=1) is not None
    finally:
        await one.aclose()
        await two.aclose()


async def test_leases_are_renewed_while_held_and_end_when_the_holder_dies(
    redis_url: str,
) -> None:
    salt = uuid.uuid4().hex
    holder = redis_store(redis_url, salt, lease_seconds=0.6)
    other = redis_store(redis_url, salt, lease_seconds=0.6)
    try:
        assert await holder.acquire("t.streams", ADDRESS, limit=1) is not None
        await asyncio.sleep(1.5)  # past two leases: still held, renewed every 0.2 s
        assert await other.acquire("t.streams", ADDRESS, limit=1) is None
        await holder._renewer.stop()  # the holder's process dies: no renewal, no release
        await asyncio.sleep(0.8)
        assert await other.acquire("t.streams", ADDRESS, limit=1) is not None
    finally:
        holder._held.clear()
        await holder.aclose()
        await other.aclose()


async def test_no_client_address_in_redis(redis_url: str) -> None:
    prefix = f"welcome:test:{uuid.uuid4().hex}"
    store = RedisLimitStore(redis_url, salt=uuid.uuid4().hex, prefix=prefix)
    try:
        assert await store.hit("webchat.sessions", ADDRESS, limit=5, seconds=60)
        assert await store.hit_distinct("webchat.em", ADDRESS, "chat-key-1", limit=5, seconds=60)
        client = redis.Redis.from_url(redis_url)
        try:
            keys = [k.decode() for k in client.scan_iter(match=f"{prefix}:*")]
            assert len(keys) == 2
            assert not any(ADDRESS in key for key in keys)
            members = [m.decode() for key in keys for m in client.zrange(key, 0, -1)]
            assert members and not any("chat-key-1" in m for m in members)
            assert all(0 < client.pttl(key) <= 60_000 for key in keys)  # expire by themselves
        finally:
            client.close()
    finally:
        await store.aclose()


async def test_redis_down_lets_requests_through_and_says_so_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = redis_store("redis://127.0.0.1:9/0", "salt", timeout_seconds=0.5)
    with caplog.at_level(logging.WARNING, logger="core.limits"):
        for _ in range(3):
            assert await store.hit("t.sessions", ADDRESS, limit=1, seconds=60)
        assert await store.hit_distinct("t.em", ADDRESS, "chat", limit=0, seconds=60)
        slot = await store.acquire("t.streams", ADDRESS, limit=0)
        assert slot is not None
        await store.release("t.streams", ADDRESS, slot)
    warnings = [r for r in caplog.records if r.name == "core.limits"]
    assert len(warnings) == 1 and "Redis did not answer" in warnings[0].getMessage()
    assert ADDRESS not in caplog.text
    await store.aclose()


def test_the_store_follows_the_setting() -> None:
    assert isinstance(limit_store("", salt=""), MemoryLimitStore)
    shared = limit_store("redis://127.0.0.1:6379/15", salt="s")
    assert isinstance(shared, RedisLimitStore)
    asyncio.run(shared.aclose())
