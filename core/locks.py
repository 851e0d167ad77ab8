"""Per-conversation locks that exist only while someone holds or waits for them.

The gateway handles one conversation at a time (in order), so it needs a lock per
conversation; a plain ``dict`` of locks would keep one entry for every conversation ever
seen. Here an entry counts its users (holders and waiters) and is dropped when the last
one leaves, so the table holds only the conversations being worked on right now. The
console's hand-off service (bot.handoff.service) uses the same table for its own steps.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field


@dataclass
class _Entry:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0


class KeyedLocks:
    def __init__(self) -> None:
        self._entries: dict[str, _Entry] = {}

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        """Hold ``key``'s lock for the ``async with`` block (waiting for it if needed)."""
        entry = self._entries.get(key)
        if entry is None:
            entry = self._entries[key] = _Entry()
        entry.users += 1
        try:
            async with entry.lock:
                yield
        finally:
            entry.users -= 1
            if entry.users == 0 and self._entries.get(key) is entry:
                del self._entries[key]

    def locked(self, key: str) -> bool:
        """True while someone holds ``key``'s lock."""
        entry = self._entries.get(key)
        return entry is not None and entry.lock.locked()

    def __len__(self) -> int:
        return len(self._entries)
