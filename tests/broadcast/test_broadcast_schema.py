"""Migration 0007 creates exactly the tables broadcast.models describes; the pacer's SQL
works on both databases."""

from __future__ import annotations

import threading
import time

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Engine

from broadcast.ratelimit import ChatGap, SlidingWindow, pause, paused_until, reserve_slots
from catalog.db import session_scope
from welcome.migrate import target_metadata

TABLES = {
    "broadcast",
    "broadcast_delivery",
    "broadcast_pacer",
    "broadcast_subscription",
    "broadcast_subscription_topic",
}


def test_migration_matches_the_models(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = compare_metadata(context, target_metadata())
    ours = [d for d in diffs if any(table in repr(d) for table in TABLES)]
    assert ours == []


def test_pacer_slots_are_shared_and_paused(engine: Engine) -> None:
    now = time.time()
    with session_scope(engine) as session:
        first = reserve_slots(session, channel="telegram", count=3, rate=10.0, now=now)
    with session_scope(engine) as session:  # another worker: continues the same schedule
        second = reserve_slots(session, channel="telegram", count=2, rate=10.0, now=now)
    assert [round(s - now, 3) for s in first + second] == [0.0, 0.1, 0.2, 0.3, 0.4]
    with session_scope(engine) as session:
        pause(session, channel="telegram", until=now + 5)
        pause(session, channel="telegram", until=now + 2)  # never shortens a pause
        assert paused_until(session, channel="telegram") == now + 5
        after = reserve_slots(session, channel="telegram", count=1, rate=10.0, now=now)
    assert after == [now + 5]


def test_chat_gap() -> None:
    gap = ChatGap(1.0, capacity=2)
    assert gap.reserve("a", 10.0) == 0.0
    assert gap.reserve("a", 10.4) == pytest.approx(0.6)  # nothing reserved
    assert gap.reserve("a", 11.0) == 0.0
    gap.reserve("b", 10.0)
    gap.reserve("c", 10.0)
    assert gap.reserve("a", 10.1) == 0.0  # forgotten: capacity bounds the memory
    gap.sent("d")
    assert 0.9 < gap.wait_since_sent("d") <= 1.0


def test_sliding_window_counts_each_request_until_after_its_answer() -> None:
    window = SlidingWindow(2, seconds=0.2)
    first, second = window.acquire(), window.acquire()
    answered = time.monotonic()
    window.release(first)
    threading.Timer(0.1, window.release, args=(second,)).start()
    window.acquire()  # the third waits a full window after the first answer
    assert time.monotonic() - answered >= 0.19
