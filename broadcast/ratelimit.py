"""Pacing: one global schedule per channel shared by every worker, and a per-chat gap.

Global: the row of ``broadcast_pacer`` for a channel holds ``next_slot`` (epoch seconds).
A worker reserves ``k`` slots with one atomic UPDATE (``next_slot = max(next_slot,
paused_until, now) + k / rate ... RETURNING``) and sends message ``i`` of its batch at
``first + i / rate``: however many workers or processes there are, the channel sees at
most ``rate`` requests per second, evenly spaced (a token bucket of depth one). A 429
moves ``paused_until`` (and ``next_slot``) forward: every worker honours it, at its next
reservation and before each request (``Pacer.paused_until`` is checked in the same UPDATE
that marks a delivery in flight, see broadcast.queue).

Per process: ``SlidingWindow`` counts each request from its start until a window after its
answer, so the channel never sees more than the limit in a sliding second whatever the
delays on the way. Per chat: ``ChatGap`` remembers when this process last sent to each
chat (until the answer) and defers a delivery that would come sooner than
``per_chat_seconds`` after it (two broadcasts to the same chat, or a retry). Across
processes neither is coordinated beyond the shared pacer: two workers bunching up, or
reaching the same chat within a second, get a 429, which every worker honours.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
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
    """A minimum gap between two messages to the same chat, in this process (monotonic
    clock). ``reserve`` is called when a delivery is scheduled (with its planned time);
    ``wait_since_sent`` and ``sent`` right before and at its request, against the times
    requests really left (a thread held up on a busy machine must not shorten the gap).
    Thread-safe."""

    def __init__(self, seconds: float, capacity: int = 50_000) -> None:
        self.seconds = seconds
        self.capacity = capacity
        self._planned: OrderedDict[str, float] = OrderedDict()
        self._sent: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def reserve(self, key: str, at: float) -> float:
        """0 and the slot is ``key``'s, or the seconds to wait (nothing reserved)."""
        with self._lock:
            last = max(self._planned.get(key, -1e18), self._sent.get(key, -1e18))
            wait = last + self.seconds - at
            if wait > 0:
                return wait
            self._remember(self._planned, key, at)
            return 0.0

    def wait_since_sent(self, key: str) -> float:
        with self._lock:
            last = self._sent.get(key)
        return 0.0 if last is None else max(0.0, last + self.seconds - time.monotonic())

    def sent(self, key: str) -> None:
        with self._lock:
            self._remember(self._sent, key, time.monotonic())

    def _remember(self, table: OrderedDict[str, float], key: str, at: float) -> None:
        table[key] = at
        table.move_to_end(key)
        while len(table) > self.capacity:
            table.popitem(last=False)


class SlidingWindow:
    """At most ``limit`` requests per sliding ``seconds`` *as the channel sees them*.

    A request reaches the channel somewhere between the moment it leaves and the moment its
    answer comes back, so each request counts from its start until ``seconds`` after its
    answer: the (limit+1)-th request after it may only leave a full window after that
    answer. Whatever the delays on the way, the channel never sees more than ``limit`` in
    any sliding window (from this process). Requests in flight count too. Thread-safe.
    """

    def __init__(self, limit: int, seconds: float = 1.0) -> None:
        self.limit = max(1, limit)
        self.seconds = seconds
        self._entries: list[list[float]] = []  # [end]; inf while in flight
        self._cond = threading.Condition()

    def acquire(self) -> list[float]:
        """Wait for room, then take it; give the result to ``release`` after the answer."""
        with self._cond:
            while True:
                now = time.monotonic()
                self._entries = [e for e in self._entries if e[0] > now - self.seconds]
                if len(self._entries) < self.limit:
                    entry = [math.inf]
                    self._entries.append(entry)
                    return entry
                oldest = min(e[0] for e in self._entries)
                wait = oldest + self.seconds - now if oldest != math.inf else 0.05
                self._cond.wait(timeout=max(0.001, min(wait, 0.05)))

    def release(self, entry: list[float]) -> None:
        with self._cond:
            entry[0] = time.monotonic()
            self._cond.notify_all()


class AdaptiveRate:
    """The pace of one channel in this worker: the configured rate, one message per second
    less after each 429 (down to half of it), half a message more after every
    ``recover_seconds`` without one. On a jittery machine requests bunch up on their way and
    the channel's sliding second overflows; each 429 costs a whole retry_after of silence,
    so a slightly slower pace sends more."""

    def __init__(self, rate: float, *, recover_seconds: float = 20.0) -> None:
        self.rate = rate
        self.floor = rate / 2
        self.recover_seconds = recover_seconds
        self._current = rate
        self._since = time.monotonic()
        self._lock = threading.Lock()

    def current(self) -> float:
        with self._lock:
            now = time.monotonic()
            steps = int((now - self._since) // self.recover_seconds)
            if steps and self._current < self.rate:
                self._current = min(self.rate, self._current + 0.5 * steps)
                self._since += steps * self.recover_seconds
            elif self._current >= self.rate:
                self._since = now
            return self._current

    def limited(self) -> None:
        with self._lock:
            self._current = max(self.floor, self._current - 1.0)
            self._since = time.monotonic()
