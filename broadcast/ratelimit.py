"""Pacing: one global schedule per channel shared by every worker, and a per-chat gap.

Global: the row of ``broadcast_pacer`` for a channel holds ``next_slot`` (epoch seconds).
A worker reserves ``k`` slots with one atomic UPDATE (``next_slot = max(next_slot,
paused_until, now) + k / rate ... RETURNING``) and sends message ``i`` of its batch at
``first + i / rate``: however many workers or processes there are, the channel sees at
most ``rate`` requests per second, evenly spaced (a token bucket of depth one). A 429
moves ``paused_until`` (and ``next_slot``) forward: every worker honours it, at its next
reservation and before each request (``Pacer.paused_until`` is checked in the same UPDATE
that marks a delivery in flight, see broadcast.queue).

Per chat: ``ChatGap`` remembers when this process last sent to each chat and defers a
delivery that would come sooner than ``per_chat_seconds`` after it (two broadcasts to the
same chat, or a retry). Across processes the gap is not coordinated: that needs two
workers to reach the same chat within a second, and Telegram's 429 covers it.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict, deque
from collections.abc import Iterable

from sqlalchemy import func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col

from broadcast.models import Pacer


def ensure_pacers(session: Session, channels: Iterable[str]) -> None:
    """Create the channels' pacer rows if missing (idempotent, safe under concurrency)."""
    dialect = session.get_bind().dialect.name
    for channel in channels:
        values = {"channel": channel, "next_slot": 0.0, "paused_until": 0.0}
        if dialect == "postgresql":
            statement = pg_insert(Pacer).values(**values).on_conflict_do_nothing()
        elif dialect == "sqlite":
            statement = sqlite_insert(Pacer).values(**values).on_conflict_do_nothing()
        else:  # pragma: no cover - other databases are not supported
            if session.get(Pacer, channel) is not None:
                continue
            statement = insert(Pacer).values(**values)
        session.execute(statement)


def _greatest(session: Session, *args: object) -> object:
    name = "greatest" if session.get_bind().dialect.name == "postgresql" else "max"
    return getattr(func, name)(*args)


def reserve_slots(
    session: Session, *, channel: str, count: int, rate: float, now: float | None = None
) -> list[float]:
    """``count`` sending times (epoch seconds) for this worker, 1/rate apart."""
    if count <= 0:
        return []
    now = time.time() if now is None else now
    interval = 1.0 / rate
    end = session.execute(
        update(Pacer)
        .where(col(Pacer.channel) == channel)
        .values(
            next_slot=_greatest(session, Pacer.next_slot, Pacer.paused_until, now)
            + count * interval
        )
        .returning(Pacer.next_slot)
    ).scalar_one()
    first = float(end) - count * interval
    return [first + i * interval for i in range(count)]


def pause(session: Session, *, channel: str, until: float) -> None:
    """Nobody sends on ``channel`` before ``until`` (epoch seconds): Telegram said 429."""
    session.execute(
        update(Pacer)
        .where(col(Pacer.channel) == channel)
        .values(
            paused_until=_greatest(session, Pacer.paused_until, until),
            next_slot=_greatest(session, Pacer.next_slot, until),
        )
    )


def paused_until(session: Session, *, channel: str) -> float:
    value = session.execute(
        select(Pacer.paused_until).where(col(Pacer.channel) == channel)
    ).scalar_one_or_none()
    return float(value or 0.0)


class ChatGap:
    """When this process last sent to each chat (monotonic clock), to keep a minimum gap."""

    def __init__(self, seconds: float, capacity: int = 50_000) -> None:
        self.seconds = seconds
        self.capacity = capacity
        self._last: OrderedDict[str, float] = OrderedDict()

    def wait_needed(self, key: str, at: float | None = None) -> float:
        """Seconds to wait before sending to ``key`` at monotonic time ``at`` (0 = go)."""
        at = time.monotonic() if at is None else at
        last = self._last.get(key)
        return 0.0 if last is None else max(0.0, last + self.seconds - at)

    def mark(self, key: str, at: float | None = None) -> None:
        self._last[key] = time.monotonic() if at is None else at
        self._last.move_to_end(key)
        while len(self._last) > self.capacity:
            self._last.popitem(last=False)


class SlidingWindow:
    """At most ``limit`` request starts in any ``seconds`` (this process, one channel).

    The shared pacer spaces requests evenly, but a request delayed on its way (a slow
    commit, a busy event loop) bunches up with the ones after it; Telegram counts
    messages per sliding second. This last check, right before each request, keeps the
    count of actual starts within the limit.
    """

    def __init__(self, limit: int, seconds: float = 1.0) -> None:
        self.limit = max(1, limit)
        self.seconds = seconds
        self._starts: deque[float] = deque()
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        async with self._lock:
            while True:
                now = time.monotonic()
                while self._starts and self._starts[0] <= now - self.seconds:
                    self._starts.popleft()
                if len(self._starts) < self.limit:
                    self._starts.append(now)
                    return
                await asyncio.sleep(self._starts[0] + self.seconds - now)
