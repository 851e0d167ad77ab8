"""bot.gateway: the pipeline in-process, with a recording channel and the fake Rasa."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot import menus, safety
from bot.channels.base import Delivered, FilePayload
from bot.gateway import Gateway, GatewayConfig
from bot.rasa_client import RasaClient
from care.models import ConversationFlag
from channels.outcome import ChannelError, Outcome, Result
from conversations import repository as repo
from conversations.inbound import Inbound
from conversations.models import Author, Channel, Conversation, Kind, Message, Mode, Status
from conversations.outgoing import Outgoing
from conversations.uploads import UploadStore
from core.database import Database
from core.db import session_scope
from core.events import EventBus
from tests.fakes.fake_rasa import FakeRasa


class RecordingChannel:
    name = Channel.webchat

    def __init__(self) -> None:
        self.sent: list[tuple[str, Outgoing]] = []
        self.rows: list[int] = []
        self.fail_next = 0

    async def deliver(
        self, conversation, row, outgoing, *, reply_to=None, sent_parts=(), on_part=None
    ):  # type: ignore[no-untyped-def]
        if self.fail_next:
            self.fail_next -= 1
            raise ChannelError(Outcome(Result.transient, error="test:down", retry_after=0.01))
        self.sent.append((conversation.conversation_id, outgoing))
        self.rows.append(row.id)
        return Delivered(f"x-{row.id}")

    async def typing(self, conversation, reply_to=None):  # type: ignore[no-untyped-def]
        return None

    async def fetch_file(self, conversation, message):  # type: ignore[no-untyped-def]
        return FilePayload(b"%PDF-1.4 test")

    def texts(self) -> list[str]:
        return [o.text for _, o in self.sent]


@pytest.fixture
async def setup(
    sqlite_engine: Engine, fake_rasa: FakeRasa, tmp_path: Path
) -> AsyncIterator[tuple[Gateway, RecordingChannel]]:
    gateway = Gateway(
        db=Database(sqlite_engine),
        rasa=RasaClient(rasa_url=fake_rasa.url),
        uploads=UploadStore(tmp_path / "uploads", 10_000),
        events=EventBus(),
        config=GatewayConfig(consent_version="test-1", retry_base_seconds=0.01),
    )
    channel = RecordingChannel()
    gateway.register(channel)
    yield gateway, channel
    await gateway.shutdown()
    await gateway.rasa.aclose()


def _in(text: str = "", kind: Kind = Kind.text, key: str | None = None, **extra: object) -> Inbound:
    return Inbound(
        channel=Channel.webchat, chat_key="chat-1", kind=kind, text=text, dedupe_key=key, **extra
    )  # type: ignore[arg-type]


async def _consented(gateway: Gateway) -> str:
    stored = await gateway.receive(_in("accetto"))
    await gateway.drain()
    return stored.conversation.conversation_id


async def test_consent_by_typing_and_version(setup: tuple[Gateway, RecordingChannel]) -> None:
    gateway, channel = setup
    conversation_id = await _consented(gateway)
    conversation = await gateway._conversation(conversation_id)
    assert conversation.consent_version == "test-1" and channel.texts()[-1].startswith("Grazie")


async def test_typed_intents_are_never_forwarded(
    setup: tuple[Gateway, RecordingChannel], fake_rasa: FakeRasa
) -> None:
    gateway, channel = setup
    await _consented(gateway)
    await gateway.receive(_in('/inform{"citizen_id":"1"}', Kind.command, payload="inform"))
    await gateway.receive(_in("/check_budget"))  # as text, e.g. from WhatsApp or the web chat
    await gateway.drain()
    assert fake_rasa.requests == []
    assert all("Non conosco questo comando" in t for t in channel.texts()[-2:])


async def test_commands_map_to_intents(
    setup: tuple[Gateway, RecordingChannel], fake_rasa: FakeRasa
) -> None:
    gateway, _ = setup
    await _consented(gateway)
    for name in ("start", "aiuto", "saldo", "avvisi"):
        await gateway.receive(_in(f"/{name}", Kind.command, payload=name))
    await gateway.drain()
    assert fake_rasa.messages() == ["/greet", "/help", "/check_budget", "/subscribe_news"]
    assert fake_rasa.requests[0]["metadata"]["command"] == "start"


async def test_a_top_priority_handoff_from_rasa_raises_an_emergency_flag(
    setup: tuple[Gateway, RecordingChannel], fake_rasa: FakeRasa, sqlite_engine: Engine
) -> None:
    gateway, _ = setup
    fake_rasa.responder = lambda request: [
        {"text": "Chiama il 112."},
        {"custom": {"type": "handoff", "priority": "top", "reason": "emergency"}},
    ]
    conversation_id = await _consented(gateway)
    await gateway.receive(_in("qualcosa di grave"))
    await gateway.drain()
    with Session(sqlite_engine) as session:
        flag = session.exec(select(ConversationFlag)).one()
        conversation = session.exec(select(Conversation)).one()
    assert (flag.kind, flag.priority, flag.conversation_id) == ("emergency", "top", conversation_id)
    assert conversation.mode == Mode.human and conversation.mode_reason == "emergency"


async def test_replies_keep_their_order_when_a_send_fails(
    setup: tuple[Gateway, RecordingChannel], fake_rasa: FakeRasa, sqlite_engine: Engine
) -> None:
    gateway, channel = setup
    fake_rasa.responder = lambda request: [{"text": "uno"}, {"text": "due"}, {"text": "tre"}]
    await _consented(gateway)
    channel.fail_next = 1
    await gateway.receive(_in("conta"))
    await gateway.drain()
    assert channel.texts()[-3:] != ["uno", "due", "tre"]  # "uno" failed: all three wait
    for _ in range(30):  # the outbox's passes; the first retry is due after a second
        await asyncio.sleep(0.1)
        await gateway.retry_due()
        await gateway.drain()
        if channel.texts()[-3:] == ["uno", "due", "tre"]:
            break
    assert channel.texts()[-3:] == ["uno", "due", "tre"]
    with Session(sqlite_engine) as session:
        rows = session.exec(select(Message).where(Message.author == Author.bot)).all()
    assert [r.status for r in rows] == [Status.sent] * 3


async def test_console_messages_are_stored_then_sent(
    setup: tuple[Gateway, RecordingChannel], sqlite_engine: Engine
) -> None:
    gateway, channel = setup
    conversation_id = await _consented(gateway)
    row = await gateway.send_text(conversation_id, "Buongiorno, sono Laura.", staff_user_id=7)
    assert channel.texts()[-1] == "Buongiorno, sono Laura."
    with Session(sqlite_engine) as session:
        stored = session.get(Message, row.id)
    assert stored is not None and stored.author == Author.staff and stored.staff_user_id == 7
    assert stored.status == Status.sent


async def test_router_hooks_see_every_switch(setup: tuple[Gateway, RecordingChannel]) -> None:
    gateway, _ = setup
    conversation_id = await _consented(gateway)
    seen: list[tuple[str, str, str]] = []

    async def hook(cid: str, previous: Mode, mode: Mode, reason: str) -> None:
        seen.append((previous, mode, reason))

    async def broken(cid: str, previous: Mode, mode: Mode, reason: str) -> None:
        raise RuntimeError("hook failure must not stop the switch")

    gateway.router.on_switch.extend([broken, hook])
    async with gateway.events.subscribe(conversation_id) as events:
        assert await gateway.router.switch(conversation_id, Mode.human, reason="requested")
        assert not await gateway.router.switch(conversation_id, Mode.human, reason="again")
        assert await gateway.router.switch(conversation_id, Mode.bot, reason="closed")
        published = [events.get_nowait() for _ in range(events.qsize())]
    assert seen == [("bot", "human", "requested"), ("human", "bot", "closed")]
    assert [e["mode"] for e in published if e["type"] == "mode"] == ["human", "bot"]


async def test_the_help_command_is_not_a_plea_but_its_words_are_checked(
    setup: tuple[Gateway, RecordingChannel], fake_rasa: FakeRasa
) -> None:
    gateway, channel = setup
    await _consented(gateway)
    await gateway.receive(_in("/aiuto", Kind.command, payload="aiuto"))
    await gateway.drain()
    assert fake_rasa.messages() == ["/help"]
    await gateway.receive(_in("/aiuto mio marito mi picchia", Kind.command, payload="aiuto"))
    await gateway.drain()
    assert "1522" in channel.texts()[-1] and fake_rasa.messages() == ["/help"]


async def test_the_announcements_menu_is_answered_without_rasa(
    setup: tuple[Gateway, RecordingChannel], fake_rasa: FakeRasa
) -> None:
    gateway, channel = setup
    fake_rasa.responder = lambda request: [
        {"text": "Certo!"},
        {"custom": {"type": "subscriptions"}},
    ]
    await _consented(gateway)
    await gateway.receive(_in("/avvisi", Kind.command, payload="avvisi"))
    await gateway.drain()
    menu = channel.sent[-1][1]
    assert channel.texts()[-2] == "Certo!" and menu.buttons
    assert all(b.payload.startswith("sub:") for b in menu.buttons)
    asked = len(fake_rasa.requests)
    ref = f"b:{channel.rows[-1]}:0"  # "Sì, voglio gli avvisi"
    await gateway.receive(_in(kind=Kind.button, payload=ref))
    await gateway.drain()
    assert len(fake_rasa.requests) == asked and channel.sent[-1][1].buttons
    await gateway.receive(_in("stop avvisi"))
    await gateway.drain()
    assert len(fake_rasa.requests) == asked


# --- work done once per message (issue 18: the gateway's CPU) ------------------------------


async def test_the_safety_net_reads_a_message_once(
    setup: tuple[Gateway, RecordingChannel], fake_rasa: FakeRasa, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``receive`` reads every message; the ordered pass does not read it a second time."""
    gateway, _channel = setup
    await _consented(gateway)
    read: list[str] = []
    check = safety.check
    monkeypatch.setattr(safety, "check", lambda text: read.append(text) or check(text))
    await gateway.receive(_in("cerco un doposcuola a rifredi"))
    await gateway.drain()
    assert read == ["cerco un doposcuola a rifredi"]
    assert fake_rasa.messages()[-1] == "cerco un doposcuola a rifredi"


async def test_a_message_not_received_here_is_still_read_by_the_safety_net(
    setup: tuple[Gateway, RecordingChannel], fake_rasa: FakeRasa, sqlite_engine: Engine
) -> None:
    """Stored but never read on receipt (a crash, or another gateway process): the ordered
    pass reads it, and an emergency gets the numbers and a person, not Rasa."""
    gateway, channel = setup
    conversation_id = await _consented(gateway)
    with session_scope(sqlite_engine) as session:
        repo.store_inbound(session, inbound=_in("mio marito mi picchia", key="crash:1"))
    gateway.schedule(conversation_id)
    await gateway.drain()
    assert "1522" in channel.texts()[-1]
    assert "mio marito mi picchia" not in fake_rasa.messages()


async def test_the_announcements_menu_costs_nothing_to_other_messages(
    setup: tuple[Gateway, RecordingChannel], fake_rasa: FakeRasa, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The menu's transaction runs only for what it may answer (a ``sub:`` button, «stop
    avvisi»); everything else goes to Rasa as before."""
    gateway, _channel = setup
    await _consented(gateway)
    asked: list[str] = []
    intercept = menus.intercept
    monkeypatch.setattr(
        menus,
        "intercept",
        lambda session, **kw: asked.append(kw["text"]) or intercept(session, **kw),
    )
    await gateway.receive(_in("ciao"))
    await gateway.drain()
    assert asked == [] and fake_rasa.messages()[-1] == "ciao"
    await gateway.receive(_in("stop avvisi"))
    await gateway.drain()
    assert asked == ["stop avvisi"] and fake_rasa.messages()[-1] == "ciao"
