"""The gateway's job that keeps the summaries current: shortly after start, then every
MONITORING_SUMMARY_INTERVAL_SECONDS, the days from the last complete one to today are made
again from the raw rows (``refresh.refresh_recent``), in one transaction."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session

from monitoring.summaries.refresh import refresh_recent

log = logging.getLogger(__name__)
FIRST_RUN_DELAY_SECONDS = 30.0


def refresh_now(engine: Engine, now: datetime) -> int:
    """One run of the job: returns the summary rows written."""
    with Session(engine) as session:
        written = refresh_recent(session, now)
        session.commit()
    return written


class SummaryWorker:
    def __init__(
        self,
        job: Callable[[], int],
        interval_seconds: float,
        first_delay_seconds: float = FIRST_RUN_DELAY_SECONDS,
    ) -> None:
        self.job = job
        self.interval = interval_seconds
        self.first_delay = min(first_delay_seconds, interval_seconds)
        self.runs = 0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="summaries")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        await asyncio.sleep(self.first_delay)
        while True:
            try:
                await asyncio.to_thread(self.job)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the next run redoes the same days; the type only
                log.error(
                    "monitoring summaries failed (%s); next try in %.0f s",
                    type(exc).__name__,
                    self.interval,
                )
            self.runs += 1
            await asyncio.sleep(self.interval)
