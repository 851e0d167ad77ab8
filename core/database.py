"""Async access to the (synchronous) repository: each call runs in a worker thread, in its
own transaction, committed before the call returns."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.engine import Engine
from sqlmodel import Session

from core.db import session_scope

T = TypeVar("T")


class Database:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def run_sync(self, fn: Callable[..., T], /, **kwargs: Any) -> T:
        with session_scope(self.engine) as session:
            return fn(session, **kwargs)

    async def run(self, fn: Callable[..., T], /, **kwargs: Any) -> T:
        """``fn(session, **kwargs)`` in one committed transaction, off the event loop."""
        return await asyncio.to_thread(self.run_sync, fn, **kwargs)

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)
