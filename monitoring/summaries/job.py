"""The gateway's job that keeps the summaries current: shortly after start, then every
MONITORING_SUMMARY_INTERVAL_SECONDS, the days from the last complete one to today are made
again from the raw rows (``refresh.refresh_recent``), in one transaction."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session

from core.periodic import ThreadedPeriodicTask
from monitoring.summaries.refresh import refresh_recent

log = logging.getLogger(__name__)
FIRST_RUN_DELAY_SECONDS = 30.0


def refresh_now(engine: Engine, now: datetime, tracker: Engine | None = None) -> int:
    """One run of the job (``tracker``: Rasa's store); returns the summary rows written."""
    with Session(engine) as session:
        written = refresh_recent(session, now, tracker=tracker)
        session.commit()
    return written


class SummaryWorker(ThreadedPeriodicTask):
    """The job in the gateway (core.periodic: a failed run is logged by type only; the next
    run redoes the same days)."""

    def __init__(
        self,
        job: Callable[[], int],
        interval_seconds: float,
        first_delay_seconds: float = FIRST_RUN_DELAY_SECONDS,
    ) -> None:
        super().__init__(
            "monitoring summaries", job, interval_seconds, first_delay_seconds=first_delay_seconds
        )
