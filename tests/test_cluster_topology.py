"""The deploy/ topology as plain processes on 127.0.0.1 (issue 18): 2 gateways
(``python -m server``, Telegram in webhook mode), 2 Rasa servers sharing the tracker store
in PostgreSQL and the atomic Redis lock store, 2 action servers, each kind behind a small
round-robin proxy (devtools.cluster). Three citizens write on the fake Telegram without
waiting for the answers; their updates reach the two gateways in turn, so each
conversation's messages alternate between them. Every message is answered exactly once,
in order: one Rasa turn each, in the order sent, and every stored answer sent once.
Then six turns of one conversation go to both Rasa servers in the same instant, as the
hand-off's pause and resume may send them: all six are recorded. Rasa's own RedisLockStore
lost one of two user events in that case (its tickets are a non-atomic read-modify-write,
seen in CI); nlu.atomic_lock_store is the lock store used with Redis.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from conversations.models import Conversation, Direction, Message, Status
from core.db import make_engine
from devtools.cluster import Cluster, start_cluster
from devtools.rasa_env import RASA_BIN
from devtools.train import ensure_model
from nlu.internal_auth import bearer
from tests.fakes.fake_telegram import FakeTelegram
from tests.gateway.conftest import accept_consent

pytestmark = [pytest.mark.rasa, pytest.mark.slow, pytest.mark.postgres]

CHATS = [710_001, 710_002, 710_003]  # odd: each chat's messages alternate between gateways
TEXTS = ["ciao", "come funziona?", "cerco un doposcuola a Rifredi", "grazie", "buongiorno"]
DELIVERED = {Status.sent, Status.delivered, Status.read}
SEND_METHODS = {"sendMessage", "sendPhoto", "sendDocument", "sendLocation", "sendVenue"}


@pytest.fixture
def cluster(
    tmp_path: Path, postgres_url: str, redis_url: str
) -> Iterator[tuple[Cluster, FakeTelegram, str]]:
    if not RASA_BIN.exists():
        pytest.skip("the Rasa environment (.venv-rasa) is not installed: scripts/setup.sh rasa")
    model = ensure_model().model
    with FakeTelegram() as telegram:
        running = start_cluster(
            model=model,
            database_url=postgres_url,
            redis_url=redis_url,
            workdir=tmp_path,
            telegram_base_url=telegram.base_url,
            telegram_token=telegram.token,
        )
        try:
            yield running, telegram, postgres_url
        finally:
            running.close()


def _rows(engine: Engine, chat: int) -> tuple[str, list[Message]]:
    with Session(engine) as session:
        conversation = session.exec(
            select(Conversation).where(Conversation.chat_key == str(chat))
        ).one()
        rows = session.exec(
            select(Message)
            .where(Message.conversation_id == conversation.conversation_id)
            .order_by(col(Message.id))
        ).all()
        return conversation.conversation_id, list(rows)


def _user_turns(cluster: Cluster, conversation_id: str) -> list[str]:
    response = httpx.get(
        f"{cluster.rasa_proxy.url}/conversations/{conversation_id}/tracker",
        params={"token": cluster.rasa_token},
        timeout=10,
    )
    response.raise_for_status()
    return [e.get("text") for e in response.json()["events"] if e["event"] == "user"]


def _sent(telegram: FakeTelegram, chat: int) -> list[Any]:
    return [
        call
        for call in telegram.calls()
        if call.method in SEND_METHODS and call.status == 200 and _chat(call) == chat
    ]


def _telegram_ids(row: Message) -> list[int]:
    """The Telegram messages of one stored answer (a long text goes in several parts)."""
    chunks = (row.data or {}).get("chunks")
    return [int(i) for i in chunks] if chunks else [int(row.external_id or 0)]


def _chat(call: Any) -> int:
    try:
        return int(call.params.get("chat_id"))
    except (TypeError, ValueError):
        return 0


def test_messages_alternating_between_two_gateways_are_answered_once_in_order(
    cluster: tuple[Cluster, FakeTelegram, str],
) -> None:
    running, telegram, database_url = cluster
    telegram.wait_for(lambda c: c.method == "setWebhook", what="setWebhook")
    assert telegram.state.webhook and telegram.state.webhook["url"] == running.webhook_url
    for chat in CHATS:
        accept_consent(telegram, chat)
    engine = make_engine(database_url)
    try:
        consented = {chat: len(_sent(telegram, chat)) for chat in CHATS}
        before = list(running.front.served)
        for text in TEXTS:  # no one waits for the answers
            for chat in CHATS:
                telegram.send_text(chat, text)
        served = [after - b for after, b in zip(running.front.served, before, strict=True)]
        assert served[0] > 0 and served[1] > 0 and abs(served[0] - served[1]) <= 1

        def settled(chat: int) -> bool:
            _, rows = _rows(engine, chat)
            inbound = [r for r in rows if r.direction == Direction.inbound and r.text in TEXTS]
            outbound = [r for r in rows if r.direction == Direction.outbound]
            return (
                len(inbound) == len(TEXTS)
                and all(r.status == Status.processed for r in inbound)
                and {r.reply_to_id for r in outbound} >= {r.id for r in inbound}
                and all(r.status in DELIVERED for r in outbound)
            )

        deadline = time.monotonic() + 90
        while not all(settled(chat) for chat in CHATS):
            assert time.monotonic() < deadline, "not every message was answered"
            time.sleep(0.2)

        for chat in CHATS:
            conversation_id, rows = _rows(engine, chat)
            inbound = [r for r in rows if r.direction == Direction.inbound and r.text in TEXTS]
            # each message stored once, in the order sent, and one Rasa turn each, in order
            assert [r.text for r in inbound] == TEXTS
            assert _user_turns(running, conversation_id) == TEXTS
            # every answer sent once: one sendMessage per stored answer, and nothing more
            answers = [
                r
                for r in rows
                if r.direction == Direction.outbound and r.reply_to_id in {m.id for m in inbound}
            ]
            sent = _sent(telegram, chat)[consented[chat] :]
            ids = sorted(int(call.result["message_id"]) for call in sent)
            assert sorted(i for r in answers for i in _telegram_ids(r)) == ids
            assert len(set(ids)) == len(ids)
            # in order: by the time Telegram got them, the answers follow the messages
            by_telegram = sorted(answers, key=lambda r: int(r.external_id or 0))
            order = [m.id for m in inbound]
            positions = [order.index(r.reply_to_id) for r in by_telegram]
            assert positions == sorted(positions)
            assert set(positions) == set(range(len(TEXTS)))
    finally:
        engine.dispose()

    # the lock store (nlu.atomic_lock_store) on its own: turns of one conversation sent to both
    # Rasa servers in the same instant, as the hand-off's pause and resume may, are all recorded
    _simultaneous_turns_are_all_recorded(running)


def _simultaneous_turns_are_all_recorded(running: Cluster) -> None:
    sender = uuid.uuid4().hex
    texts = ["ciao", "grazie", "cerco un doposcuola", "ciao di nuovo", "grazie mille", "ok"]

    def send(text: str) -> int:
        return httpx.post(
            f"{running.rasa_proxy.url}/webhooks/rest/webhook",
            json={"sender": sender, "message": text, "metadata": {}},
            headers=bearer(running.rasa_token),
            timeout=60,
        ).status_code

    before = list(running.rasa_proxy.served)
    with ThreadPoolExecutor(max_workers=len(texts)) as pool:
        assert list(pool.map(send, texts)) == [200] * len(texts)
    served = [after - b for after, b in zip(running.rasa_proxy.served, before, strict=True)]
    assert all(count > 0 for count in served)  # both Rasa servers took some of the turns
    assert sorted(_user_turns(running, sender)) == sorted(texts)
