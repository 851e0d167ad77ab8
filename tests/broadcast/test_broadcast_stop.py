"""Stopping announcements: /stop_avvisi (Telegram's command menu, typed anywhere), consent
withdrawal and erasure requests stop every subscription at once, and the engine re-checks
subscription and consent right before each request, so deliveries already queued (even
claimed by a worker) for a running broadcast are never sent to a citizen who left."""

# ruff: noqa: F811 - the real gateway's fixtures are imported from tests/gateway/conftest.py

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot import consent as gateway_consent
from broadcast import menu
from broadcast import subscriptions as subs
from broadcast.broadcasts import start
from broadcast.engine import BroadcastWorker
from broadcast.models import Delivery, SubscriptionTopic
from broadcast.queue import Go, Pacing, claim, mark_in_flight
from broadcast.report import progress
from broadcast.senders import TelegramSender
from conversations.models import Conversation
from core.db import get_engine, session_scope
from core.settings import get_settings
from core.timeutil import utcnow
from tests.broadcast.helpers import (
    TOKEN,
    add_subscriber,
    chat_key_of,
    fast_config,
    new_broadcast,
    statuses,
    subscribers,
)
from tests.fakes.fake_rasa import FakeRasa
from tests.fakes.fake_telegram import FakeTelegram
from tests.fakes.fake_telegram_limits import LimitedTelegram
from tests.gateway.conftest import (  # noqa: F401 - fixtures
    RunningGateway,
    accept_consent,
    fake_rasa,
    fake_telegram,
    start_gateway,
    telegram_gateway,
)

CHAT = 556001


def _conversation_id(gateway: RunningGateway, chat: int) -> str:
    conversation = gateway.wait_until(
        lambda: next((c for c in gateway.conversations() if c.chat_key == str(chat)), None),
        what="the conversation",
    )
    return conversation.conversation_id


def _subscribe(engine: Engine, conversation_id: str) -> None:
    with session_scope(engine) as session:
        subs.set_choices(
            session,
            conversation_id=conversation_id,
            quartieri=["Q5"],
            interests=["after_school"],
            now=utcnow(),
        )


def _topics(engine: Engine) -> int:
    with Session(engine) as session:
        return len(session.exec(select(SubscriptionTopic)).all())


def _choices(engine: Engine, conversation_id: str) -> subs.Choices:
    with Session(engine) as session:
        return subs.choices(session, conversation_id=conversation_id)


# --- /stop_avvisi and «stop avvisi» -------------------------------------------------------


def test_stop_avvisi_on_telegram_asks_then_stops_everything(
    telegram_gateway: RunningGateway, fake_telegram: FakeTelegram, fake_rasa: FakeRasa
) -> None:
    call = fake_telegram.calls("setMyCommands")[0]  # the Italian menu (then the English one)
    commands = {c["command"]: c["description"] for c in call.params["commands"]}
    assert commands["stop_avvisi"] == "Non ricevere più avvisi"
    assert commands["avvisi"] == "Ricevi gli avvisi del tuo quartiere"

    accept_consent(fake_telegram, CHAT)
    conversation_id = _conversation_id(telegram_gateway, CHAT)
    _subscribe(telegram_gateway.engine, conversation_id)
    assert _choices(telegram_gateway.engine, conversation_id).active

    mark = len(fake_telegram.calls())
    fake_telegram.send_text(CHAT, "/stop_avvisi")
    fake_telegram.wait_sent(CHAT, menu.ASK_STOP, after=mark)  # asked first
    assert _choices(telegram_gateway.engine, conversation_id).active
    mark = len(fake_telegram.calls())
    fake_telegram.press(CHAT, "No, continua")  # «No»: everything stays
    fake_telegram.wait_sent(CHAT, menu.KEPT, after=mark)
    assert _choices(telegram_gateway.engine, conversation_id).active
    mark = len(fake_telegram.calls())
    fake_telegram.send_text(CHAT, "/stop_avvisi")
    fake_telegram.wait_sent(CHAT, menu.ASK_STOP, after=mark)
    mark = len(fake_telegram.calls())
    fake_telegram.press(CHAT, "Sì, basta avvisi")
    reply = fake_telegram.wait_sent(CHAT, "Non riceverai più avvisi", after=mark)
    assert "/avvisi" in reply.params["text"]  # how to subscribe again
    assert _choices(telegram_gateway.engine, conversation_id) == subs.NOT_SUBSCRIBED
    assert _topics(telegram_gateway.engine) == 0  # the choices are forgotten

    mark = len(fake_telegram.calls())
    fake_telegram.send_text(CHAT, "/stop_avvisi@WelcomeTestBot")  # from the command menu
    fake_telegram.wait_sent(CHAT, menu.NOTHING_TO_STOP, after=mark)
    assert fake_rasa.requests == []  # the gateway answered by itself


def test_stop_avvisi_typed_on_the_web_chat(start_gateway, fake_rasa: FakeRasa) -> None:  # type: ignore[no-untyped-def]
    gateway = start_gateway(rasa_url=fake_rasa.url, action_server_url=fake_rasa.url)
    client = gateway.client()
    token = client.post("/api/chat/session").json()["token"]
    headers = {"Authorization": f"Bearer {token}"}

    def post(client_id: str, **body: object) -> None:
        response = client.post(
            "/api/chat/messages", json={"client_id": client_id, **body}, headers=headers
        )
        assert response.status_code == 202, response.text

    post("client-1", text="Accetto")
    gateway.wait_until(
        lambda: any(c.consent_at for c in gateway.conversations()), what="the consent"
    )
    (conversation,) = gateway.conversations()
    for n, body in enumerate(({"text": "Stop avvisi!"}, {"command": "stop_avvisi"})):
        _subscribe(gateway.engine, conversation.conversation_id)
        post(f"client-{n + 2}", **body)
        gateway.wait_until(  # «Sei sicuro?» first
            lambda n=n: sum(m.text == menu.ASK_STOP for m in gateway.messages()) == n + 1,
            what="the question",
        )
        assert _choices(gateway.engine, conversation.conversation_id).active
        question = [m for m in gateway.messages() if m.text == menu.ASK_STOP][-1]
        post(f"client-yes-{n}", button=f"b:{question.id}:0")  # «Sì, basta avvisi»
        gateway.wait_until(
            lambda: not _choices(gateway.engine, conversation.conversation_id).active,
            what="the subscription stopped",
        )
        gateway.wait_until(
            lambda n=n: (
                sum(m.text.startswith("Non riceverai più avvisi") for m in gateway.messages())
                == n + 1
            ),
            what="the confirmation",
        )
    assert fake_rasa.requests == []


def test_stop_words() -> None:
    for text in ("stop avvisi", "STOP AVVISI!", "/stop_avvisi", "/stop_avvisi@WelcomeBot"):
        assert menu.is_stop_request(text), text
    for text in ("stop", "avvisi", "/avvisi", "non voglio stop avvisi di ieri"):
        assert not menu.is_stop_request(text), text


# --- consent withdrawal and erasure ------------------------------------------------------------


def test_withdrawing_consent_in_chat_stops_the_subscription(
    telegram_gateway: RunningGateway, fake_telegram: FakeTelegram
) -> None:
    accept_consent(fake_telegram, CHAT)
    conversation_id = _conversation_id(telegram_gateway, CHAT)
    _subscribe(telegram_gateway.engine, conversation_id)
    mark = len(fake_telegram.calls())
    fake_telegram.press(CHAT, "Non accetto")  # the notice's button, after consent
    fake_telegram.wait_sent(CHAT, "senza il tuo consenso", after=mark)
    assert _choices(telegram_gateway.engine, conversation_id) == subs.NOT_SUBSCRIBED
    assert _topics(telegram_gateway.engine) == 0
    mark = len(fake_telegram.calls())
    fake_telegram.press(CHAT, "Accetto")  # consent again: announcements stay off
    fake_telegram.wait_sent(CHAT, "Grazie", after=mark)
    assert not _choices(telegram_gateway.engine, conversation_id).active


def test_withdraw_consent_stops_in_the_same_transaction(engine: Engine) -> None:
    with session_scope(engine) as session:
        conversation_id = add_subscriber(session, quartieri=["Q1"])
    with session_scope(engine) as session:
        gateway_consent.withdraw(session, conversation_id=conversation_id, now=utcnow())
        assert not subs.choices(session, conversation_id=conversation_id).active
        session.rollback()  # nothing committed: neither change happened
    assert _choices(engine, conversation_id).active
    with session_scope(engine) as session:
        gateway_consent.withdraw(session, conversation_id=conversation_id, now=utcnow())
    assert _choices(engine, conversation_id) == subs.NOT_SUBSCRIBED


@pytest.fixture
def actions_db(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    get_settings.cache_clear()
    get_engine.cache_clear()
    yield get_engine()
    get_engine().dispose()
    get_engine.cache_clear()
    get_settings.cache_clear()


def test_asking_for_erasure_stops_the_announcements(actions_db: Engine) -> None:
    from actions.privacy import ActionForgetMe

    with session_scope(actions_db) as session:
        conversation_id = add_subscriber(session, quartieri=["Q2"])
    tracker = Tracker(
        conversation_id,
        {},
        {"intent": {"name": "forget_me", "confidence": 1.0}, "text": "cancella i miei dati"},
        [],
        False,
        None,
        {},
        "action_listen",
    )
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionForgetMe().run(dispatcher, tracker, {}))
    assert "Vuoi davvero" in dispatcher.messages[0]["text"]  # asked first: nothing stopped
    assert _choices(actions_db, conversation_id).active
    pending = next(e["value"] for e in events if e.get("name") == "pending_confirmation")
    yes = Tracker(
        conversation_id,
        {"pending_confirmation": pending},
        {
            "intent": {"name": "forget_me", "confidence": 1.0},
            "text": "/forget_me",
            "entities": [{"entity": "confirm_nonce", "value": pending["nonce"]}],
        },
        [],
        False,
        None,
        {},
        "action_listen",
    )
    dispatcher = CollectingDispatcher()
    asyncio.run(ActionForgetMe().run(dispatcher, yes, {}))
    assert "cancellare i tuoi dati" in dispatcher.messages[0]["text"]
    assert _choices(actions_db, conversation_id) == subs.NOT_SUBSCRIBED


# --- queued deliveries are re-checked at send time ------------------------------------------


def test_claimed_deliveries_are_rechecked_right_before_the_request(engine: Engine) -> None:
    """A worker claimed the batch; then one citizen withdrew consent, one stopped the
    announcements: marking their deliveries in flight settles them instead."""
    recipients = subscribers(engine, 3)
    broadcast_id = new_broadcast(engine)
    now = utcnow()
    with session_scope(engine) as session:
        start(session, broadcast_id=broadcast_id, now=now)
        batch = claim(session, token="a" * 32, now=now, lease_seconds=30, limit=10)
    assert len(batch) == 3
    with session_scope(engine) as session:
        gateway_consent.withdraw(session, conversation_id=recipients[0], now=utcnow())
        subs.stop(session, conversation_id=recipients[1], now=utcnow())
    decisions = {}
    for item in batch:
        with session_scope(engine) as session:
            mark = mark_in_flight(
                session,
                delivery_id=item.recipient.delivery_id,
                token="a" * 32,
                channel="telegram",
                conversation_id=item.recipient.conversation_id,
                now=utcnow(),
                epoch=0.0,
                send_at=0.0,
                min_lease_until=utcnow(),
                pacing=Pacing(),
            )
        decisions[item.recipient.conversation_id] = mark.go
    assert decisions == {recipients[0]: Go.skipped, recipients[1]: Go.skipped, recipients[2]: Go.go}
    with Session(engine) as session:
        rows = {
            r.conversation_id: r
            for r in session.exec(
                select(Delivery).where(col(Delivery.broadcast_id) == broadcast_id)
            )
        }
        report = progress(session, broadcast_id=broadcast_id)
    assert (rows[recipients[0]].status, rows[recipients[0]].last_error) == ("skipped", "no-consent")
    assert (rows[recipients[1]].status, rows[recipients[1]].last_error) == (
        "skipped",
        "unsubscribed",
    )
    assert rows[recipients[0]].attempts == rows[recipients[1]].attempts == 0  # never sent
    assert report is not None and report.reasons == {"no-consent": 1, "unsubscribed": 1}


async def test_consent_withdrawn_during_a_running_broadcast(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    """The worker has the whole audience claimed and paced (5/s); the last citizens withdraw
    consent after the first message went out: they never get it."""
    recipients = subscribers(sqlite_engine, 10)
    late = recipients[-3:]
    broadcast_id = new_broadcast(sqlite_engine, title="Ultimo avviso")
    config = fast_config(tmp_path, rates={"telegram": 5.0}, batch_size=10, concurrency=2)
    with LimitedTelegram(global_rate=25) as telegram:
        sender = TelegramSender(base_url=telegram.base_url, token=TOKEN, timeout=2.0)
        worker = BroadcastWorker(sqlite_engine, config, {"telegram": sender})
        task = asyncio.create_task(worker.run(until_idle=True))
        while not telegram.accepted:  # noqa: ASYNC110 - the fake runs in its own threads
            await asyncio.sleep(0.02)
        with session_scope(sqlite_engine) as session:
            assert session.exec(
                select(Delivery).where(col(Delivery.status) == "sending")
            ).all()  # claimed by the worker, waiting for their slots
            for conversation_id in late:
                gateway_consent.withdraw(session, conversation_id=conversation_id, now=utcnow())
        await asyncio.wait_for(task, 30)
        await worker.aclose()
        received = telegram.received("Ultimo avviso")
    assert sorted(received) == sorted(chat_key_of(sqlite_engine, c) for c in recipients[:-3])
    assert statuses(sqlite_engine, broadcast_id) == {"sent": 7, "skipped": 3}
    with Session(sqlite_engine) as session:
        consent = session.exec(
            select(Conversation.consent_at).where(col(Conversation.conversation_id).in_(late))
        ).all()
    assert consent == [None, None, None]
