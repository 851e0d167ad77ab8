"""How the gateway serves the public adhesion page (``providers.web``): one call in
server/app.py, ``attach_adhesion(app, settings, engine=engine)``."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy.engine import Engine

from conversations.uploads import UploadStore
from core.database import Database
from core.db import make_engine
from core.limits import LimitStore, MemoryLimitStore, SlidingWindow
from core.settings import Settings
from providers import web


def attach_adhesion(
    app: FastAPI,
    settings: Settings,
    *,
    engine: Engine | None = None,
    limits: LimitStore | None = None,
) -> None:
    """``limits``: the gateway's shared counters (core.limits); None means this process's."""
    if engine is None:
        engine = make_engine(settings.effective_database_url)
    app.state.adhesion = web.AdhesionPage(
        db=Database(engine),
        store=UploadStore(settings.var_dir / "adhesions", settings.upload_max_bytes),
        limiter=SlidingWindow(
            limits or MemoryLimitStore(),
            "adhesion.applications",
            limit=settings.adhesion_applications_per_address_per_hour,
            seconds=3600.0,
        ),
        trusted_proxies=settings.trusted_proxies,
    )
    app.include_router(web.router)
