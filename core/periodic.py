"""One periodic background job of a process: a tick every ``interval`` seconds.

The gateway runs several (the outbox retries, the retention purge, the appointment
reminders, the hand-off reconcile pass, the renewal of shared limit leases); each used to
write the same loop by hand. Here it is once:

- ``start()`` in a running event loop; the first tick after ``first_delay`` seconds (at
  most one interval);
- a tick that raises is logged with the exception's type and where it was raised, never its
  message (which may quote personal data), and the loop goes on at the next interval;
- ``stop()`` wakes the loop at once, lets a tick in progress finish for up to
  ``stop_timeout`` seconds, then cancels it: it always returns within that bound;
- ``run_once()`` runs one tick with the same error handling (for tests and commands);
- with ``lease`` set (core.lease; several gateway processes sharing a Redis), a tick runs
  only in the process holding the lease, taken or renewed before each tick with a lifetime
  of two intervals (at least 30 s): a job such as the retention purge or the reminders runs
  once per installation, and another process takes it over when the holder stops or dies.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import traceback
from collections.abc import Awaitable, Callable
from typing import Any

from core.lease import Lease

log = logging.getLogger(__name__)

Tick = Callable[[], Awaitable[Any]]


class PeriodicTask:
    def __init__(
        self,
        name: str,
        tick: Tick,
        interval_seconds: float,
        *,
        first_delay_seconds: float = 0.0,
        stop_timeout_seconds: float = 5.0,
    ) -> None:
        if interval_seconds <= 0:
            raise ValueError("interval_seconds must be positive")
        self.name = name
        self.tick = tick
        self.interval = interval_seconds
        self.first_delay = min(max(0.0, first_delay_seconds), interval_seconds)
        self.stop_timeout = stop_timeout_seconds
        self.runs = 0  # ticks finished, failed or not
        self.failures = 0
        self.skipped = 0  # ticks left to the process holding the lease
        self.lease: Lease | None = None
        self._stopping: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """Start the loop in the running event loop (a second call while it runs does
        nothing)."""
        if self.running:
            return
        self._stopping = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._loop(), name=self.name)

    async def stop(self) -> None:
        """Stop the loop: at most ``stop_timeout`` seconds for a tick in progress, then it is
        cancelled."""
        task, self._task = self._task, None
        if task is None:
            return
        lease, self.lease = self.lease, None
        if self._stopping is not None:
            self._stopping.set()
        done, _ = await asyncio.wait({task}, timeout=self.stop_timeout)
        if not done:
            log.warning(
                "%s: tick still running after %.1f s; cancelled", self.name, self.stop_timeout
            )
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if lease is not None:
            await lease.release()
            await lease.aclose()

    async def run_once(self) -> bool:
        """One tick, its error logged and swallowed as in the loop: True when it succeeded."""
        try:
            await self.tick()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.runs += 1
            self.failures += 1
            log.error(
                "%s: tick failed (%s at %s); next in %.0f s",
                self.name,
                type(exc).__name__,
                _where(exc),
                self.interval,
            )
            return False
        self.runs += 1
        return True

    async def _loop(self) -> None:
        assert self._stopping is not None
        if await self._wait(self.first_delay):
            return
        while True:
            if self.lease is None or await self.lease.acquire():
                await self.run_once()
            else:
                self.skipped += 1
            if await self._wait(self.interval):
                return

    async def _wait(self, seconds: float) -> bool:
        """Sleep ``seconds`` or until stop() is called: True when stopping."""
        assert self._stopping is not None
        if seconds <= 0:
            return self._stopping.is_set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)
        return self._stopping.is_set()


class ThreadedPeriodicTask(PeriodicTask):
    """A periodic task whose tick is a blocking function (database work), run in a worker
    thread so that the event loop goes on serving meanwhile."""

    def __init__(
        self, name: str, job: Callable[[], Any], interval_seconds: float, **options: float
    ) -> None:
        self.job = job
        super().__init__(name, self._run_job, interval_seconds, **options)

    async def _run_job(self) -> Any:
        return await asyncio.to_thread(self.job)


def _where(exc: BaseException) -> str:
    """File and line where ``exc`` was raised (no message, no values)."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return "?"
    last = frames[-1]
    return f"{last.filename.rsplit('/', 1)[-1]}:{last.lineno}"
