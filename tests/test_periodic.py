"""core.periodic.PeriodicTask: the loop outlives a failing tick, logs no message of it, and
stop() returns within its bound even when a tick hangs."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from core.periodic import PeriodicTask


async def test_a_failing_tick_does_not_stop_the_loop(caplog: pytest.LogCaptureFixture) -> None:
    calls: list[int] = []
    fifth = asyncio.Event()

    async def tick() -> None:
        calls.append(len(calls))
        if len(calls) == 5:
            fifth.set()
        if len(calls) == 2:
            raise ValueError("mario.rossi@example.it wrote 'aiuto'")

    task = PeriodicTask("probe", tick, 0.02)
    with caplog.at_level(logging.ERROR, logger="core.periodic"):
        task.start()
        await asyncio.wait_for(fifth.wait(), 5)
        await task.stop()
    assert len(calls) >= 5  # went on after the second tick failed
    assert task.failures == 1 and task.runs >= 5
    failed = [r.getMessage() for r in caplog.records if "tick failed" in r.getMessage()]
    assert len(failed) == 1
    assert "ValueError" in failed[0] and "test_periodic.py" in failed[0]
    assert "mario.rossi" not in caplog.text and "aiuto" not in caplog.text
    assert not task.running


async def test_stop_returns_within_its_bound_when_a_tick_hangs() -> None:
    started = asyncio.Event()
    cancelled = asyncio.Event()

    async def tick() -> None:
        started.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    task = PeriodicTask("hang", tick, 60, stop_timeout_seconds=0.3)
    task.start()
    await asyncio.wait_for(started.wait(), 5)
    begun = time.monotonic()
    await task.stop()
    took = time.monotonic() - begun
    assert 0.25 <= took < 1.5
    assert cancelled.is_set() and not task.running


async def test_stop_wakes_the_loop_between_ticks_and_lets_a_short_tick_finish() -> None:
    finished: list[bool] = []

    async def tick() -> None:
        await asyncio.sleep(0.1)
        finished.append(True)

    task = PeriodicTask("short", tick, 3600, stop_timeout_seconds=5)
    task.start()
    await asyncio.sleep(0.02)  # the first tick is in progress
    begun = time.monotonic()
    await task.stop()
    assert finished == [True]  # finished, not cancelled
    assert time.monotonic() - begun < 1.0  # and no wait for the hour-long interval
    assert task.runs == 1


async def test_first_delay_and_run_once() -> None:
    calls: list[float] = []

    async def tick() -> None:
        calls.append(time.monotonic())

    task = PeriodicTask("delayed", tick, 3600, first_delay_seconds=3600)
    task.start()
    await asyncio.sleep(0.1)
    assert calls == []  # still waiting for its first run
    await task.stop()

    assert await task.run_once() is True and len(calls) == 1

    async def broken() -> None:
        raise RuntimeError("boom")

    assert await PeriodicTask("broken", broken, 1).run_once() is False
    with pytest.raises(ValueError):
        PeriodicTask("never", tick, 0)
