"""conversations: conversations, messages and their dedupe keys, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import timedelta

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from conversations import repository as repo
from conversations.inbound import Inbound
from conversations.models import (
    Author,
    Channel,
    DeliveryEvent,
    Kind,
    Message,
    Mode,
    Status,
)
from core.db import session_scope
from core.migrate import target_metadata
from core.timeutil import utcnow

GATEWAY_TABLES = {"conversation", "conversation_message", "message_attachment", "delivery_event"}


def _inbound(text: str = "ciao", key: str | None = "tg:1:100", chat: str = "42") -> Inbound:
    return Inbound(
        channel=Channel.telegram, chat_key=chat, kind=Kind.text, text=text, dedupe_key=key
    )


def test_migration_matches_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diffs = compare_metadata(context, target_metadata())

    def table_of(diff: object) -> str | None:
        item = diff[0] if isinstance(diff, list) else diff
        for part in item[1:] if isinstance(item, tuple) else ():
            name = getattr(part, "name", None)
            table = getattr(part, "table", None)
            if table is not None and getattr(table, "name", None):
                return table.name
            if isinstance(part, str) and part in GATEWAY_TABLES:
                return part
            if name in GATEWAY_TABLES:
                return name
        return None

    ours = [d for d in diffs if table_of(d) in GATEWAY_TABLES]
    assert ours == []


def test_conversation_ids_are_opaque_and_stable(engine: Engine) -> None:
    with session_scope(engine) as session:
        first = repo.get_or_create_conversation(
            session, channel=Channel.telegram, chat_key="987654321"
        )
        again = repo.get_or_create_conversation(
            session, channel=Channel.telegram, chat_key="987654321"
        )
        other = repo.get_or_create_conversation(
            session, channel=Channel.whatsapp, chat_key="987654321"
        )
    assert first.conversation_id == again.conversation_id != other.conversation_id
    assert len(first.conversation_id) == 32 and int(first.conversation_id, 16) >= 0
    assert "987654321" not in first.conversation_id
    assert first.mode == Mode.bot and not first.has_consent


def test_a_redelivered_message_is_stored_once(engine: Engine) -> None:
    with session_scope(engine) as session:
        first = repo.store_inbound(session, inbound=_inbound())
    with session_scope(engine) as session:
        second = repo.store_inbound(session, inbound=_inbound(text="altro"))
    assert not first.duplicate and second.duplicate
    assert second.message.id == first.message.id and second.message.text == "ciao"
    with Session(engine) as session:
        assert len(session.exec(select(Message)).all()) == 1


def test_concurrent_redeliveries_store_one_message(engine: Engine) -> None:
    results: list[bool] = []
    barrier = threading.Barrier(4)

    def deliver() -> None:
        barrier.wait()
        with session_scope(engine) as session:
            results.append(
                repo.store_inbound(session, inbound=_inbound(key="wa:wamid.X")).duplicate
            )

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False, True, True, True]
    with Session(engine) as session:
        assert len(session.exec(select(Message)).all()) == 1


def test_inbound_opens_the_window_and_unblocks(engine: Engine) -> None:
    with session_scope(engine) as session:
        stored = repo.store_inbound(session, inbound=_inbound())
        repo.mark_blocked(
            session, conversation_id=stored.conversation.conversation_id, now=utcnow()
        )
    with session_scope(engine) as session:
        again = repo.store_inbound(session, inbound=_inbound(key="tg:1:101"))
    assert again.conversation.last_inbound_at is not None
    assert again.conversation.blocked_at is None


def test_outbound_status_only_moves_forward(engine: Engine) -> None:
    now = utcnow()
    with session_scope(engine) as session:
        conversation = repo.get_or_create_conversation(
            session, channel=Channel.whatsapp, chat_key="39"
        )
        row = repo.store_outbound(
            session,
            conversation_id=conversation.conversation_id,
            channel=Channel.whatsapp,
            author=Author.bot,
            kind=Kind.text,
            text="ciao",
            now=now,
        )
        repo.mark_sent(session, message_id=row.id, external_id="wamid.1", now=now)
    for status in (Status.read, Status.delivered):
        with session_scope(engine) as session:
            repo.apply_delivery_status(
                session, channel=Channel.whatsapp, external_id="wamid.1", status=status, at=now
            )
    with Session(engine) as session:
        message = session.get(Message, row.id)
        assert message is not None and message.status == Status.read
        events = session.exec(select(DeliveryEvent).where(DeliveryEvent.message_id == row.id)).all()
        assert [e.status for e in events] == [Status.sent, Status.read, Status.delivered]
    with session_scope(engine) as session:
        unknown = repo.apply_delivery_status(
            session, channel=Channel.whatsapp, external_id="wamid.nope", status=Status.read, at=now
        )
    assert unknown is None


def test_buttons_resolve_only_in_their_conversation(engine: Engine) -> None:
    now = utcnow()
    with session_scope(engine) as session:
        mine = repo.get_or_create_conversation(session, channel=Channel.webchat, chat_key="a")
        theirs = repo.get_or_create_conversation(session, channel=Channel.webchat, chat_key="b")
        row = repo.store_outbound(
            session,
            conversation_id=mine.conversation_id,
            channel=Channel.webchat,
            author=Author.bot,
            kind=Kind.text,
            text="scegli",
            now=now,
            data={"buttons": [{"title": "Sì", "payload": "/affirm"}]},
        )
        ref = repo.button_ref(row.id, 0)
        found = repo.resolve_button(session, conversation_id=mine.conversation_id, ref=ref)
        assert found is not None and found[:2] == ("Sì", "/affirm")
        assert repo.resolve_button(session, conversation_id=theirs.conversation_id, ref=ref) is None
        for bad in ("b:1", "b:x:0", f"b:{row.id}:9", "/affirm", "", "b:-1:0"):
            assert (
                repo.resolve_button(session, conversation_id=mine.conversation_id, ref=bad) is None
            )


def test_outbox_finds_due_pending_and_stale_messages(engine: Engine) -> None:
    now = utcnow()
    with session_scope(engine) as session:
        waiting = repo.store_inbound(session, inbound=_inbound(key="k1")).message
        stale = repo.store_inbound(session, inbound=_inbound(key="k2", chat="43")).message
        fresh = repo.store_inbound(session, inbound=_inbound(key="k3", chat="44")).message
        repo.defer_inbound(
            session,
            message_id=waiting.id,
            now=now - timedelta(seconds=10),
            error="rasa:ConnectError",
            base_seconds=2,
            max_seconds=60,
        )
        stale.created_at = now - timedelta(minutes=5)
        session.add(stale)
    with session_scope(engine) as session:
        due = repo.due_for_retry(session, now=now, stale_before=now - timedelta(seconds=30))
    ids = {d.message_id for d in due}
    assert waiting.id in ids and stale.id in ids and fresh.id not in ids


def test_backoff_doubles_up_to_the_maximum(engine: Engine) -> None:
    now = utcnow()
    with session_scope(engine) as session:
        message = repo.store_inbound(session, inbound=_inbound()).message
        delays = []
        for _ in range(6):
            deferred = repo.defer_inbound(
                session, message_id=message.id, now=now, error="x", base_seconds=2, max_seconds=20
            )
            delays.append((deferred.next_attempt_at - now).total_seconds())
    assert delays == [2, 4, 8, 16, 20, 20]
