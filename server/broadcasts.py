"""How the gateway runs the broadcaster: one call in server/app.py, like the hand-off's.

    attach_broadcasts(app, settings, engine=engine)   # at the end of create_app

Inside the gateway's lifespan (after it has built ``app.state.gateway``) it starts a
``BroadcastWorker`` (Telegram and WhatsApp senders from the settings, the web chat through
``gateway.send_text``) and stops it gracefully before the gateway shuts down. It also gives
the console section «Avvisi» (console/broadcasts/) the gateway's settings.
Tests may set ``app.state.broadcast_worker_enabled = False``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from sqlalchemy.engine import Engine

from broadcast.engine import BroadcastWorker, build_worker
from broadcast.senders import CallbackSender
from console.broadcasts import routes as web
from core.db import make_engine
from core.settings import Settings


def webchat_sender(gateway: Any) -> CallbackSender:
    """The web chat has no push API: the gateway stores the message and shows it live."""
    from conversations.models import Author

    async def send(conversation_id: str, text: str) -> str:
        message = await gateway.send_text(conversation_id, text, author=Author.gateway)
        return str(message.id)

    return CallbackSender(send)


def attach_broadcasts(app: FastAPI, settings: Settings, *, engine: Engine | None = None) -> None:
    web.configure(settings)
    gateway_lifespan = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(parent: FastAPI) -> AsyncIterator[Any]:
        async with gateway_lifespan(parent) as state:
            worker: BroadcastWorker | None = None
            own_engine = None
            if getattr(parent.state, "broadcast_worker_enabled", True):
                db_engine = engine or (own_engine := make_engine(settings.effective_database_url))
                worker = build_worker(
                    settings,
                    db_engine,
                    extra_senders={"webchat": webchat_sender(parent.state.gateway)},
                )
                worker.start()
            parent.state.broadcast_worker = worker
            try:
                yield state
            finally:
                if worker is not None:
                    await worker.aclose()
                if own_engine is not None:
                    own_engine.dispose()

    app.router.lifespan_context = lifespan
