"""bot.outbox: what a crash or a restart left behind is handled when the gateway starts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy.engine import Engine

from conversations import repository as repo
from conversations.inbound import Inbound
from conversations.models import Author, Channel, Direction, Kind, Status
from core.db import make_engine, session_scope
from core.timeutil import utcnow
from tests.fakes.fake_rasa import FakeRasa
from tests.gateway.conftest import RunningGateway


def _leave_work_behind(engine: Engine) -> tuple[int, int]:
    """As if the gateway died: a stored but unhandled message and an unsent reply."""
    now = utcnow()
    with session_scope(engine) as session:
        stored = repo.store_inbound(
            session,
            inbound=Inbound(
                channel=Channel.webchat,
                chat_key="k" * 64,
                kind=Kind.text,
                text="ci sei?",
                dedupe_key="web:crash:1",
                received_at=now - timedelta(minutes=2),
            ),
        )
        conversation_id = stored.conversation.conversation_id
        repo.set_consent(session, conversation_id=conversation_id, version="t", now=now)
        reply = repo.store_outbound(
            session,
            conversation_id=conversation_id,
            channel=Channel.webchat,
            author=Author.bot,
            kind=Kind.text,
            text="risposta rimasta",
            now=now - timedelta(minutes=2),
        )
        return stored.message.id or 0, reply.id or 0


def test_a_restart_finishes_what_a_crash_left(
    start_gateway: Callable[..., RunningGateway], fake_rasa: FakeRasa, sqlite_url: str
) -> None:
    engine = make_engine(sqlite_url)
    message_id, reply_id = _leave_work_behind(engine)
    engine.dispose()
    running = start_gateway(rasa_url=fake_rasa.url)

    def answered(rows: list) -> bool:
        return any(
            m.direction == Direction.outbound
            and m.text == "Hai scritto: ci sei?"
            and m.status == Status.sent
            for m in rows
        )

    def done() -> bool:
        rows = running.messages()
        by_id = {m.id: m for m in rows}
        return (
            by_id[message_id].status == Status.processed
            and by_id[reply_id].status == Status.sent
            and answered(rows)  # the answer is sent after the message is marked processed
        )

    running.wait_until(done, timeout=45, what="the outbox to finish the leftovers")
    assert fake_rasa.messages() == ["ci sei?"]
