"""The one way to run database work off the event loop: ``fn(session, **kwargs)`` runs in a
worker thread, in its own transaction, committed before the call returns.

Used by the gateway, the console, the broadcast worker and the welfare jobs alike. Work
functions take the session first and keyword arguments after, flush what they change and
leave the commit to this helper.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from core.db import session_scope

T = TypeVar("T")


class Database:
    """``relaxed_commit``: on PostgreSQL each transaction commits without waiting for the WAL
    flush (``SET LOCAL synchronous_commit = off``): a database crash in the next fraction of
    a second could lose it, never corrupt it. For writes whose loss is detected and repaired
    (the broadcast worker's delivery outcomes); ignored on SQLite."""

    def __init__(self, engine: Engine, *, relaxed_commit: bool = False) -> None:
        self.engine = engine
        self.relaxed_commit = relaxed_commit and engine.dialect.name == "postgresql"

    def run_sync(self, fn: Callable[..., T], /, **kwargs: Any) -> T:
        """``fn(session, **kwargs)`` in one committed transaction, in the calling thread."""
        with session_scope(self.engine) as session:
            if self.relaxed_commit:
                session.execute(text("SET LOCAL synchronous_commit = off"))
            return fn(session, **kwargs)

    async def run(self, fn: Callable[..., T], /, **kwargs: Any) -> T:
        """``fn(session, **kwargs)`` in one committed transaction, off the event loop."""
        return await asyncio.to_thread(self.run_sync, fn, **kwargs)

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)
