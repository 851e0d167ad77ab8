"""The outbox worker: messages waiting for Rasa, and replies waiting for a channel, retried.

Each inbound message that found Rasa or the action server down is ``pending`` with a
``next_attempt_at`` (exponential backoff); each reply a channel refused for now is
``queued``. Every few seconds the worker hands the conversations with work due back to the
gateway, which processes them in order. Messages left "received" by a crash are picked up too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from bot.gateway import Gateway

log = logging.getLogger(__name__)


class OutboxWorker:
    def __init__(self, gateway: Gateway, interval_seconds: float) -> None:
        self.gateway = gateway
        self.interval = interval_seconds
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="outbox")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                scheduled = await self.gateway.retry_due()
                if scheduled:
                    log.info("outbox: %d conversations with messages to retry", scheduled)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox pass failed")
            await asyncio.sleep(self.interval)
