"""The welfare parts that run with the gateway: one call in server/app.py::

    attach_welfare(app, engine=engine)   # at the end of create_app

includes the voucher QR route and, inside the gateway's lifespan (after it has built
``app.state.gateway``), runs the appointment reminder loop: every ``REMINDER_EVERY_SECONDS``
it claims tomorrow's bookings not yet reminded (``mark_reminded``, so several gateways never
remind twice) and sends the reminder through ``gateway.send_text`` (stored, then delivered
by the gateway's outbox like every outgoing message).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from fastapi import FastAPI
from sqlalchemy.engine import Engine

from conversations.models import Author
from core.database import Database
from core.periodic import PeriodicTask
from core.settings import Settings, get_settings
from core.timeutil import utcnow
from server.cluster import job_lease
from welfare import web
from welfare.appointments import claim_reminders

log = logging.getLogger(__name__)

REMINDER_EVERY_SECONDS = 300.0
Send = Callable[[str, str], Awaitable[Any]]


async def send_reminders(engine: Engine, send: Send, *, now: datetime | None = None) -> int:
    pairs = await Database(engine).run(claim_reminders, now=now or utcnow())
    for conversation_id, text in pairs:
        try:
            await send(conversation_id, text)
        except Exception:
            log.exception("appointment reminder not sent")
    return len(pairs)


def attach_welfare(
    app: FastAPI, *, engine: Engine | None = None, settings: Settings | None = None
) -> None:
    """``settings``: the gateway's (the QR's public base URL); None means get_settings()."""
    app.include_router(web.router)
    app.state.welfare_engine = engine
    app.state.welfare_settings = settings
    gateway_lifespan = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(parent: FastAPI) -> AsyncIterator[Any]:
        async with gateway_lifespan(parent) as state:
            gateway = parent.state.gateway

            async def send(conversation_id: str, text: str) -> Any:
                return await gateway.send_text(conversation_id, text, author=Author.gateway)

            reminders = PeriodicTask(
                "appointment reminders",
                lambda: send_reminders(gateway.db.engine, send),
                REMINDER_EVERY_SECONDS,
            )
            reminders.lease = job_lease(
                settings or get_settings(), "appointment-reminders", REMINDER_EVERY_SECONDS
            )
            reminders.start()
            try:
                yield state
            finally:
                await reminders.stop()

    app.router.lifespan_context = lifespan
