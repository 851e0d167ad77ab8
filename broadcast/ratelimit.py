"""Pacing shared by every worker process: a global schedule per channel, a sliding-second
window per channel, and a per-chat gap, all in the database.

Global schedule: the row of ``broadcast_pacer`` for a channel holds ``next_slot`` (epoch
seconds). A worker reserves ``k`` slots with one atomic UPDATE (``next_slot = max(next_slot,
paused_until, now) + k / rate ... RETURNING``) and sends message ``i`` of its batch at
``first + i / rate``: however many workers or processes there are, the channel sees at
most ``rate`` requests per second, evenly spaced (a token bucket of depth one). A 429
moves ``paused_until`` (and ``next_slot``) forward: every worker honours it, at its next
reservation and before each request (``Pacer.paused_until`` is checked in the same UPDATE
that marks a delivery in flight, see broadcast.queue).

Sliding window (``broadcast_window``, ``take_token`` / ``give_back_token``): a channel has
``limit`` tokens; a request takes one before it leaves (in the transaction that marks the
delivery in flight) and gives it back a window after its answer. A request reaches the
channel somewhere between the moment it leaves and its answer, so the channel never sees
more than ``limit`` requests in any sliding second, from all workers together, whatever
the delays on the way (a late thread, a slow answer). A dead worker's token comes back by
itself when its hold (send time + timeout + window) expires.

Per chat (``broadcast_subscription.next_send_at``, ``hold_chat`` / ``release_chat``): the
same transaction holds the chat while the request is in flight, only if the chat's previous
answer is at least ``per_chat_seconds`` old, and the outcome's transaction sets the gap from
the answer. The hold is a row lock plus a conditional UPDATE: of two workers reaching the
same chat at once, exactly one gets it, the other defers its delivery. The UPDATE also
requires the subscription active and the conversation's consent: a citizen who stopped
announcements or withdrew consent a moment ago is never sent to.

``ChatGap`` keeps the same gap in memory, per process, to defer such deliveries before
asking the database (two broadcasts to one chat in one batch, a retry).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Iterable

from sqlalchemy import and_, exists, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col

from broadcast.models import Pacer, Subscription, WindowToken
from conversations.models import Conversation


def ensure_pacers(
    session: Session, channels: Iterable[str], limits: dict[str, int] | None = None
) -> None:
    """Create the channels' pacer rows and window tokens (``limits[channel]`` of them) if
    missing (idempotent, safe under concurrency)."""
    for channel in channels:
        _insert_missing(session, Pacer, {"channel": channel, "next_slot": 0.0, "paused_until": 0.0})
        for token in range((limits or {}).get(channel, 0)):
            _insert_missing(
                session,
                WindowToken,
                {"channel": channel, "token": token, "free_at": 0.0, "taken_free_at": 0.0},
            )


def _insert_missing(session: Session, table: type, values: dict[str, object]) -> None:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        statement = pg_insert(table).values(**values).on_conflict_do_nothing()
    elif dialect == "sqlite":
        statement = sqlite_insert(table).values(**values).on_conflict_do_nothing()
    else:  # pragma: no cover - other databases are not supported
        key = tuple(values[c.name] for c in table.__table__.primary_key)  # type: ignore[attr-defined]
        if session.get(table, key) is not None:
            return
        statement = insert(table).values(**values)
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


def take_token(
    session: Session, *, channel: str, limit: int, send_at: float, hold_until: float, wait: float
) -> tuple[int, float] | None:
    """Take the channel's earliest free window token if it is free by ``send_at + wait``;
    returns (token, when it was free: the request may leave at the later of that and
    ``send_at``) or None (all ``limit`` busy until later). The token is held until
    ``hold_until`` (the answer gives it back earlier)."""
    if limit <= 0:
        return None
    picked = (
        select(WindowToken.token)
        .where(
            col(WindowToken.channel) == channel,
            col(WindowToken.token) < limit,
            col(WindowToken.free_at) <= send_at + wait,
        )
        .order_by(col(WindowToken.free_at))
        .limit(1)
    )
    if session.get_bind().dialect.name == "postgresql":
        picked = picked.with_for_update(skip_locked=True)
    chosen = picked.cte("chosen").prefix_with("MATERIALIZED", dialect="postgresql")
    row = session.execute(
        update(WindowToken)
        .where(
            col(WindowToken.channel) == channel,
            col(WindowToken.token).in_(select(chosen.c.token)),
            col(WindowToken.free_at) <= send_at + wait,
        )
        .values(taken_free_at=WindowToken.free_at, free_at=hold_until)
        .returning(WindowToken.token, WindowToken.taken_free_at)
        .execution_options(synchronize_session=False)
    ).first()
    if row is None:
        return None
    return int(row[0]), float(row[1])


def next_free_token(session: Session, *, channel: str, limit: int) -> float:
    """When the channel's earliest window token frees up (epoch seconds)."""
    value = session.execute(
        select(func.min(WindowToken.free_at)).where(
            col(WindowToken.channel) == channel, col(WindowToken.token) < limit
        )
    ).scalar_one_or_none()
    return float(value or 0.0)


def give_back_token(session: Session, *, channel: str, token: int, free_at: float) -> None:
    """The request holding ``token`` was answered (free a window later) or never left."""
    session.execute(
        update(WindowToken)
        .where(col(WindowToken.channel) == channel, col(WindowToken.token) == token)
        .values(free_at=free_at)
        .execution_options(synchronize_session=False)
    )


def hold_chat(session: Session, *, conversation_id: str, send_at: float, hold_until: float) -> bool:
    """Hold the chat for a request leaving at ``send_at``: only if its subscription is active,
    its consent on record, not blocked, and its previous answer at least the gap before."""
    allowed = exists().where(
        col(Conversation.conversation_id) == conversation_id,
        col(Conversation.consent_at).is_not(None),
        col(Conversation.blocked_at).is_(None),
    )
    held = session.execute(
        update(Subscription)
        .where(
            and_(
                col(Subscription.conversation_id) == conversation_id,
                col(Subscription.active).is_(True),
                col(Subscription.next_send_at) <= send_at,
                allowed,
            )
        )
        .values(next_send_at=hold_until)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    return bool(held)


def release_chat(session: Session, *, conversation_id: str, next_send_at: float) -> None:
    """The chat's request was answered (next one ``per_chat_seconds`` later) or never left."""
    session.execute(
        update(Subscription)
        .where(col(Subscription.conversation_id) == conversation_id)
        .values(next_send_at=next_send_at)
        .execution_options(synchronize_session=False)
    )


def chat_free_at(session: Session, *, conversation_id: str) -> float:
    value = session.execute(
        select(Subscription.next_send_at).where(
            col(Subscription.conversation_id) == conversation_id
        )
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
