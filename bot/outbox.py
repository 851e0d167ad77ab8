"""The outbox worker: messages waiting for Rasa, and replies waiting for a channel, retried.

Each inbound message that found Rasa or the action server down is ``pending`` with a
``next_attempt_at`` (exponential backoff); each reply a channel refused for now is
``queued``. Every few seconds the worker hands the conversations with work due back to the
gateway, which processes them in order. Messages left "received" by a crash are picked up too.
"""

from __future__ import annotations

import logging

from bot.gateway import Gateway
from core.periodic import PeriodicTask

log = logging.getLogger(__name__)


class OutboxWorker:
    """Every ``interval_seconds``, hands the conversations with work due back to the gateway
    (core.periodic: a failed pass is logged and the next one comes all the same)."""

    def __init__(self, gateway: Gateway, interval_seconds: float) -> None:
        self.gateway = gateway
        self.periodic = PeriodicTask("outbox", self.run_pass, interval_seconds)

    def start(self) -> None:
        self.periodic.start()

    async def stop(self) -> None:
        await self.periodic.stop()

    async def run_pass(self) -> int:
        scheduled = await self.gateway.retry_due()
        if scheduled:
            log.info("outbox: %d conversations with messages to retry", scheduled)
        return scheduled
