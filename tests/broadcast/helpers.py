"""Helpers of the broadcast tests: citizens (gateway conversations) with or without consent,
subscriptions, broadcasts, an engine config with small limits."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from broadcast import subscriptions
from broadcast.broadcasts import Draft, create_broadcast
from broadcast.models import Delivery, DeliveryStatus
from conversations import repository as gateway_repo
from conversations.models import Channel
from core.db import session_scope
from core.timeutil import utcnow

if TYPE_CHECKING:
    from broadcast.engine import EngineConfig
    from core.settings import Settings

TOKEN = "123456:TEST-token_abc"
_chat_ids = itertools.count(700_001)


def add_citizen(
    session: Session,
    *,
    channel: Channel = Channel.telegram,
    chat_key: str | None = None,
    consent: bool = True,
    now: datetime | None = None,
) -> str:
    """A gateway conversation (with consent unless told otherwise); returns its id."""
    now = now or utcnow()
    conversation = gateway_repo.get_or_create_conversation(
        session, channel=channel, chat_key=chat_key or str(next(_chat_ids))
    )
    if consent:
        gateway_repo.set_consent(
            session, conversation_id=conversation.conversation_id, version="2026-11", now=now
        )
    conversation.last_inbound_at = now
    session.add(conversation)
    session.flush()
    return conversation.conversation_id


def add_subscriber(
    session: Session,
    *,
    quartieri: list[str] | None = None,
    interests: list[str] | None = None,
    channel: Channel = Channel.telegram,
    chat_key: str | None = None,
) -> str:
    conversation_id = add_citizen(session, channel=channel, chat_key=chat_key)
    subscriptions.set_choices(
        session,
        conversation_id=conversation_id,
        quartieri=quartieri or [],
        interests=interests or [],
        now=utcnow(),
    )
    return conversation_id


def subscribers(engine: Engine, count: int, **kwargs: object) -> list[str]:
    with session_scope(engine) as session:
        return [add_subscriber(session, **kwargs) for _ in range(count)]  # type: ignore[arg-type]


def chat_key_of(engine: Engine, conversation_id: str) -> int:
    with session_scope(engine) as session:
        conversation = gateway_repo.get_conversation(session, conversation_id=conversation_id)
        assert conversation is not None
        return int(conversation.chat_key)


def new_broadcast(
    engine: Engine,
    *,
    title: str = "Festa al Welcome Hub",
    body: str = "Sabato alle 16 <b>merenda</b> per tutti.",
    quartieri: list[str] | None = None,
    interests: list[str] | None = None,
    at: datetime | None = None,
    **extra: object,
) -> int:
    with session_scope(engine) as session:
        broadcast = create_broadcast(
            session,
            draft=Draft(
                title=title,
                body=body,
                quartieri=quartieri or [],
                interests=interests or [],
                scheduled_at=at or utcnow(),
                **extra,  # type: ignore[arg-type]
            ),
            created_by=None,
            now=utcnow() - timedelta(seconds=1),
        )
        assert broadcast.id is not None
        return broadcast.id


def statuses(engine: Engine, broadcast_id: int) -> dict[str, int]:
    with Session(engine) as session:
        rows = session.execute(
            select(Delivery.status, func.count())
            .where(col(Delivery.broadcast_id) == broadcast_id)
            .group_by(Delivery.status)
        ).all()
    return {str(status): int(n) for status, n in rows}


def gateway_settings(sqlite_url: str, tmp_path: Path) -> Settings:
    """Settings of a gateway whose broadcast worker polls often (Rasa unreachable)."""
    from core.settings import Settings

    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        var_dir=tmp_path,
        database_url=sqlite_url,
        rasa_url="http://127.0.0.1:9",
        rasa_auth_token="test-token",
        secret_key="test-secret-key-" + "x" * 32,
        broadcast_poll_seconds=0.1,
    )


def fast_config(tmp_path: Path, **overrides: object) -> EngineConfig:
    """Small limits so the tests stay fast."""
    from broadcast.engine import EngineConfig
    from broadcast.queue import RetryPolicy

    config = EngineConfig(
        rates={"telegram": 25.0, "whatsapp": 25.0, "webchat": 50.0},
        per_chat_seconds=1.0,
        batch_size=10,
        concurrency=4,
        lease_seconds=6.0,
        send_timeout=2.0,
        poll_seconds=0.1,
        retry=RetryPolicy(max_attempts=4, base_seconds=0.2, max_seconds=1.0),
        var_dir=tmp_path,
    )
    return replace(config, **overrides)  # type: ignore[arg-type]


def open_rows(engine: Engine, broadcast_id: int) -> int:
    counts = statuses(engine, broadcast_id)
    return counts.get(DeliveryStatus.pending, 0) + counts.get(DeliveryStatus.sending, 0)
