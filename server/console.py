"""How the gateway serves the console and runs the hand-off: one call in server/app.py.

    app = FastAPI(..., lifespan=lifespan)        # server.app.create_app, as it is
    ...
    attach_console(app, settings, engine=engine)  # at the end of create_app

mounts the console at /console and, inside the gateway's lifespan (after it has built
``app.state.gateway``), starts the HandoffService: the router hook, the live events, the
reconcile loop (with several gateway processes: in one of them at a time, by a lease, and
under per-conversation locks shared through Redis); stops it before the gateway shuts
down. Tests and benchmarks may set ``app.state.handoff_config`` (a HandoffConfig) before
the app starts.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from sqlalchemy.engine import Engine

from bot.handoff.clients import RasaTracker, StaffTelegram
from bot.handoff.service import HandoffConfig, HandoffService
from console.app import build_console
from core.db import make_engine
from core.settings import Settings
from server.cluster import job_lease, share_events, shared_locks

CONSOLE_PATH = "/console"


def build_service(
    gateway: Any, settings: Settings, config: HandoffConfig | None = None
) -> HandoffService:
    rasa = RasaTracker(rasa_url=gateway.rasa.rasa_url, token=gateway.rasa.token)
    telegram = StaffTelegram(
        api_base_url=settings.telegram_api_base_url,
        token=settings.telegram_bot_token.get_secret_value(),
    )
    service = HandoffService(gateway, rasa=rasa, telegram=telegram, config=config)
    # several gateway processes (issue 18): the reconcile pass runs in one of them at a time,
    # or two would finish the same interrupted step twice (the citizen told twice that a
    # person will answer, Rasa paused twice); the hand-off's per-conversation lock holds
    # across processes (its own keys, apart from the gateway's conversation lock)
    service.reconciler.lease = job_lease(settings, "handoff-reconcile", service.reconciler.interval)
    locks = shared_locks(settings, prefix="welcome:lock:handoff:")
    if locks is not None:
        service.locks = locks
    return service


def attach_console(
    app: FastAPI,
    settings: Settings,
    *,
    engine: Engine | None = None,
    config: HandoffConfig | None = None,
) -> FastAPI:
    """Mount the console on the gateway ``app`` and run the hand-off with the gateway.
    Returns the console sub-application."""
    if engine is None:
        engine = make_engine(settings.effective_database_url)
    console = build_console(settings, engine=engine)
    console.state.handoff = None
    app.mount(CONSOLE_PATH, console)
    gateway_lifespan = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(parent: FastAPI) -> AsyncIterator[Any]:
        async with gateway_lifespan(parent) as state:
            chosen = getattr(parent.state, "handoff_config", None) or config
            service = build_service(parent.state.gateway, settings, chosen)
            await service.start()
            relay = await share_events(service.events, settings, "handoff")
            console.state.handoff = service
            parent.state.handoff = service
            try:
                yield state
            finally:
                console.state.handoff = None
                if relay is not None:
                    await relay.stop()
                await service.stop()

    app.router.lifespan_context = lifespan
    return console
