"""core.periodic with a lease (core.lease) on a real Redis: a job of several gateway
processes runs in one of them, and another takes it over when that one stops."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable

from core.lease import Lease
from core.periodic import PeriodicTask


def test_one_process_ticks_and_another_takes_over(redis_url: str) -> None:
    async def scenario() -> None:
        name, salt = f"job:test-{uuid.uuid4().hex}", uuid.uuid4().hex
        ticks = {"one": 0, "two": 0}

        def task(who: str) -> PeriodicTask:
            async def tick() -> None:
                ticks[who] += 1

            periodic = PeriodicTask(who, tick, 0.05)
            periodic.lease = Lease(redis_url, name, salt=salt, ttl_seconds=1.0)
            return periodic

        async def until(condition: Callable[[], bool]) -> None:
            for _ in range(200):
                if condition():
                    return
                await asyncio.sleep(0.05)
            raise AssertionError("timed out")

        one, two = task("one"), task("two")
        one.start()
        await until(lambda: ticks["one"] >= 2)
        two.start()
        await until(lambda: two.skipped >= 5)
        assert ticks["two"] == 0
        await one.stop()  # releases the lease: the other process goes on with the job
        before = ticks["one"]
        await until(lambda: ticks["two"] >= 3)
        assert ticks["one"] == before
        await two.stop()

    asyncio.run(scenario())


def test_without_a_lease_every_process_ticks() -> None:
    async def scenario() -> list[int]:
        async def tick() -> None:
            return None

        tasks = [PeriodicTask("job", tick, 0.05) for _ in range(2)]
        for periodic in tasks:
            periodic.start()
        for _ in range(200):
            if all(periodic.runs >= 2 for periodic in tasks):
                break
            await asyncio.sleep(0.05)
        for periodic in tasks:
            await periodic.stop()
        return [periodic.skipped for periodic in tasks]

    assert asyncio.run(scenario()) == [0, 0]
