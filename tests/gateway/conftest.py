"""Fixtures for the gateway: fake protocol peers and the real gateway served by uvicorn."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from care.models import ConversationFlag
from conversations.models import Conversation, Message
from core.db import make_engine
from core.settings import Settings
from server.app import create_app
from tests.fakes.fake_graph import FakeGraph
from tests.fakes.fake_rasa import FakeRasa
from tests.fakes.fake_telegram import FakeTelegram


@pytest.fixture
def fake_rasa() -> Iterator[FakeRasa]:
    rasa = FakeRasa().start()
    yield rasa
    rasa.stop()


@pytest.fixture
def fake_telegram() -> Iterator[FakeTelegram]:
    with FakeTelegram() as telegram:
        yield telegram


@pytest.fixture
def fake_graph() -> Iterator[FakeGraph]:
    with FakeGraph() as graph:
        yield graph


def gateway_settings(tmp_path: Path, database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "var_dir": tmp_path / "var",
        "database_url": database_url,
        "rasa_url": "http://127.0.0.1:9",
        "rasa_auth_token": "test-token",
        "action_server_url": "",
        "outbox_interval_seconds": 0.2,
        "outbox_max_backoff_seconds": 1.0,
        "telegram_poll_timeout": 1,
        "rasa_timeout_seconds": 5.0,
        "upload_max_bytes": 200_000,
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@dataclass
class RunningGateway:
    app: FastAPI
    url: str
    engine: Engine
    server: uvicorn.Server
    thread: threading.Thread
    server_loop: asyncio.AbstractEventLoop

    def call(self, coroutine: Any, timeout: float = 10.0) -> Any:
        """Run a coroutine on the gateway's event loop (e.g. the console's send_text)."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.server_loop).result(timeout)

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=10.0)

    def conversations(self) -> list[Conversation]:
        with Session(self.engine) as session:
            return list(session.exec(select(Conversation).order_by(col(Conversation.id))))

    def messages(self, conversation_id: str | None = None) -> list[Message]:
        with Session(self.engine) as session:
            query = select(Message).order_by(col(Message.id))
            if conversation_id is not None:
                query = query.where(Message.conversation_id == conversation_id)
            return list(session.exec(query))

    def flags(self, chat: int | None = None) -> list[tuple[str, str]]:
        """(kind, priority) of every flag raised for the console, oldest first; with ``chat``,
        only that chat's (a gateway shared by several tests)."""
        query = select(ConversationFlag).order_by(col(ConversationFlag.id))
        if chat is not None:
            conversation = next(c for c in self.conversations() if c.chat_key == str(chat))
            query = query.where(ConversationFlag.conversation_id == conversation.conversation_id)
        with Session(self.engine) as session:
            return [(f.kind, f.priority) for f in session.exec(query)]

    def wait_until(
        self, condition: Callable[[], Any], timeout: float = 10.0, what: str = ""
    ) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = condition()
            if value:
                return value
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what or condition}")

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)


def run_gateway(settings: Settings, engine: Engine) -> RunningGateway:
    app = create_app(settings, engine=engine)
    # proxy_headers=False as `python -m server`: only TRUSTED_PROXIES decides who may forward
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, log_level="warning", lifespan="on", proxy_headers=False
    )
    server = uvicorn.Server(config)
    loop = asyncio.new_event_loop()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(server.serve())
        loop.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the gateway did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    return RunningGateway(app, f"http://127.0.0.1:{port}", engine, server, thread, loop)


@pytest.fixture
def start_gateway(tmp_path: Path, sqlite_url: str) -> Iterator[Callable[..., RunningGateway]]:
    """Start the real gateway (uvicorn, lifespan) with settings overrides; stopped at the end."""
    started: list[RunningGateway] = []
    engines: list[Engine] = []

    def start(database_url: str | None = None, **overrides: Any) -> RunningGateway:
        url = database_url or sqlite_url
        engine = make_engine(url)
        engines.append(engine)
        running = run_gateway(gateway_settings(tmp_path, url, **overrides), engine)
        started.append(running)
        return running

    yield start
    for running in started:
        running.stop()
    for engine in engines:
        engine.dispose()


@pytest.fixture
def telegram_gateway(
    start_gateway: Callable[..., RunningGateway], fake_telegram: FakeTelegram, fake_rasa: FakeRasa
) -> RunningGateway:
    """The gateway polling the fake Bot API, answering with the fake Rasa."""
    running = start_gateway(
        telegram_bot_token=fake_telegram.token,
        telegram_api_base_url=fake_telegram.base_url,
        rasa_url=fake_rasa.url,
        action_server_url=fake_rasa.url,
    )
    fake_telegram.wait_for(lambda c: c.method == "setMyCommands", what="setMyCommands")
    running.wait_until(lambda: fake_telegram.poll_count > 0, what="the first getUpdates")
    return running


def accept_consent(telegram: FakeTelegram, chat_id: int) -> None:
    """First contact on Telegram: /start, the privacy notice, "Accetto"."""
    telegram.send_text(chat_id, "/start")
    telegram.wait_sent(chat_id, "Accetto")
    mark = len(telegram.calls())
    telegram.press(chat_id, "Accetto")
    telegram.wait_sent(chat_id, "Grazie", after=mark)
