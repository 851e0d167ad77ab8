"""Migrations 0007 and 0012 create exactly the tables broadcast.models describes; the
pacing SQL shared by every worker (pacer, window tokens, per-chat hold) works on both
databases."""

from __future__ import annotations

import time

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Engine

from broadcast import subscriptions
from broadcast.ratelimit import (
    ChatGap,
    chat_free_at,
    ensure_pacers,
    give_back_token,
    hold_chat,
    next_free_token,
    pause,
    paused_until,
    release_chat,
    reserve_slots,
    take_token,
)
from core.db import session_scope
from core.migrate import target_metadata
from core.timeutil import utcnow
from tests.broadcast.helpers import add_subscriber

TABLES = {
    "broadcast",
    "broadcast_delivery",
    "broadcast_pacer",
    "broadcast_subscription",
    "broadcast_subscription_topic",
    "broadcast_window",
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


def test_window_tokens_hold_a_request_until_a_window_after_its_answer(engine: Engine) -> None:
    now = time.time()
    with session_scope(engine) as session:
        ensure_pacers(session, ["telegram"], {"telegram": 2})
        ensure_pacers(session, ["telegram"], {"telegram": 2})  # idempotent
        first = take_token(
            session, channel="telegram", limit=2, send_at=now, hold_until=now + 9, wait=0.2
        )
    with session_scope(engine) as session:  # another worker
        second = take_token(
            session, channel="telegram", limit=2, send_at=now, hold_until=now + 9, wait=0.2
        )
        third = take_token(
            session, channel="telegram", limit=2, send_at=now, hold_until=now + 9, wait=0.2
        )
    assert first is not None and second is not None and first[0] != second[0]
    assert third is None  # both in flight: the channel would see a third in the same second
    with session_scope(engine) as session:
        give_back_token(session, channel="telegram", token=first[0], free_at=now + 1.0)
        assert next_free_token(session, channel="telegram", limit=2) == now + 1.0
        too_early = take_token(
            session, channel="telegram", limit=2, send_at=now + 0.5, hold_until=now + 9, wait=0.2
        )
        later = take_token(
            session, channel="telegram", limit=2, send_at=now + 0.9, hold_until=now + 9, wait=0.2
        )
    assert too_early is None
    assert later == (first[0], now + 1.0)  # it may leave when the token is free again


def test_chat_hold_needs_the_gap_the_subscription_and_the_consent(engine: Engine) -> None:
    now = time.time()
    with session_scope(engine) as session:
        chat = add_subscriber(session)
        other = add_subscriber(session)
    with session_scope(engine) as session:
        assert hold_chat(session, conversation_id=chat, send_at=now, hold_until=now + 12)
    with session_scope(engine) as session:  # another worker, same chat, while in flight
        assert not hold_chat(session, conversation_id=chat, send_at=now + 0.5, hold_until=now + 9)
        release_chat(session, conversation_id=chat, next_send_at=now + 1.0)  # answered
        assert chat_free_at(session, conversation_id=chat) == now + 1.0
        assert not hold_chat(session, conversation_id=chat, send_at=now + 0.9, hold_until=now + 9)
        assert hold_chat(session, conversation_id=chat, send_at=now + 1.0, hold_until=now + 9)
    with session_scope(engine) as session:
        subscriptions.stop(session, conversation_id=other, now=utcnow())
        assert not hold_chat(session, conversation_id=other, send_at=now, hold_until=now + 9)
