"""Fixtures of the hand-off tests: the real gateway with the console attached (uvicorn, lifespan),
a fake Rasa with the tracker API, a citizen on the web chat API and Care Managers over HTTP."""

from __future__ import annotations

import asyncio
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from argon2 import PasswordHasher
from fastapi import FastAPI
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.handoff.service import HandoffConfig, HandoffService
from care.handoff_models import CsatAnswer, Handoff
from console import security
from console.staff import StaffView, create_staff
from conversations.models import Conversation, Message
from core.db import make_engine, session_scope
from core.timeutil import utcnow
from server.app import create_app
from staff.roles import Role
from tests.fakes.fake_telegram import FakeTelegram
from tests.gateway.conftest import gateway_settings
from tests.handoff.fake_rasa_api import FakeRasaApi

PASSWORD = "cavolo nero e ribollita"
ALWAYS_OPEN = "tutti i giorni 00:00-24:00"
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def closed_today_hours() -> str:
    """Office hours that never include now: tomorrow 9-10 only (so: closed now)."""
    from catalog.hours import DAY_CODES, ROME

    tomorrow = (utcnow().astimezone(ROME) + timedelta(days=1)).weekday()
    return f"{DAY_CODES[tomorrow]} 09:00-10:00"


@pytest.fixture(autouse=True)
def _cheap_hashing() -> Iterator[None]:
    previous = security._hasher
    security.use_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    yield
    security.use_hasher(previous)


@pytest.fixture
def fake_telegram() -> Iterator[FakeTelegram]:
    with FakeTelegram() as telegram:
        yield telegram


@pytest.fixture
def fake_rasa() -> Iterator[FakeRasaApi]:
    rasa = FakeRasaApi().start()
    yield rasa
    rasa.stop()


# --- the gateway with the console ----------------------------------------------------------


@dataclass
class Live:
    app: FastAPI
    url: str
    engine: Engine
    server: uvicorn.Server
    thread: threading.Thread

    @property
    def service(self) -> HandoffService:
        return self.app.state.handoff

    def wait_until(
        self, condition: Callable[[], Any], timeout: float = 10.0, what: str = ""
    ) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = condition()
            if value:
                return value
            time.sleep(0.03)
        raise AssertionError(f"timed out waiting for {what or condition}")

    def handoffs(self) -> list[Handoff]:
        with Session(self.engine) as session:
            return list(session.exec(select(Handoff).order_by(col(Handoff.id))))

    def conversation(self, conversation_id: str) -> Conversation:
        with Session(self.engine) as session:
            found = session.exec(
                select(Conversation).where(Conversation.conversation_id == conversation_id)
            ).one()
            return found

    def conversations(self) -> list[Conversation]:
        with Session(self.engine) as session:
            return list(session.exec(select(Conversation).order_by(col(Conversation.id))))

    def messages(self, conversation_id: str) -> list[Message]:
        with Session(self.engine) as session:
            return list(
                session.exec(
                    select(Message)
                    .where(Message.conversation_id == conversation_id)
                    .order_by(col(Message.id))
                )
            )

    def csat(self) -> list[CsatAnswer]:
        with Session(self.engine) as session:
            return list(session.exec(select(CsatAnswer)))

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=20)


def serve(app: FastAPI, engine: Engine) -> Live:
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the gateway did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    return Live(app, f"http://127.0.0.1:{port}", engine, server, thread)


@pytest.fixture
def start_live(
    tmp_path: Path, sqlite_url: str, fake_rasa: FakeRasaApi
) -> Iterator[Callable[..., Live]]:
    """Start the gateway + console (uvicorn, lifespan); stopped at the end of the test."""
    started: list[Live] = []
    engines: dict[str, Engine] = {}

    def start(
        database_url: str | None = None, *, office: str = ALWAYS_OPEN, **overrides: Any
    ) -> Live:
        url = database_url or sqlite_url
        engine = engines.get(url) or make_engine(url)
        engines[url] = engine
        values = {
            "rasa_url": fake_rasa.url,
            "action_server_url": fake_rasa.url,
            "secret_key": "handoff-test-secret-" + "x" * 32,
            **overrides,
        }
        settings = gateway_settings(tmp_path, url, **values)
        app = create_app(settings, engine=engine)  # with the console (server.console)
        app.state.handoff_config = HandoffConfig(reconcile_seconds=0.2, office_fallback=office)
        live = serve(app, engine)
        started.append(live)
        return live

    yield start
    for live in started:
        live.stop()
    for engine in engines.values():
        engine.dispose()


# --- people --------------------------------------------------------------------------------


def make_care_manager(engine: Engine, *roles: Role, name: str | None = None) -> StaffView:
    n = uuid.uuid4().hex[:6]
    with session_scope(engine) as session:
        return create_staff(
            session,
            email=f"cm-{n}@comune.example.it",
            full_name=name or f"Care Manager {n}",
            roles=roles or (Role.care_manager,),
            password=PASSWORD,
            provider_code="ENTE01" if Role.provider_staff in roles else None,
        )


@dataclass
class StaffClient:
    """A Care Manager at the console, over plain HTTP (the browser test uses Chromium)."""

    base: str
    member: StaffView
    http: httpx.Client = field(init=False)
    csrf: str = ""

    def __post_init__(self) -> None:
        self.http = httpx.Client(base_url=self.base, timeout=15.0, follow_redirects=False)

    def login(self) -> StaffClient:
        page = self.http.get("/console/accesso")
        token = _TOKEN.search(page.text)
        assert token
        response = self.http.post(
            "/console/accesso",
            data={"email": self.member.email, "password": PASSWORD, "csrf_token": token.group(1)},
        )
        assert response.status_code == 303, response.text
        home = self.http.get("/console/")
        found = _TOKEN.search(home.text)
        assert found
        self.csrf = found.group(1)
        return self

    def post(self, path: str, data: dict[str, Any] | None = None, **kwargs: Any) -> httpx.Response:
        return self.http.post(
            f"/console/coda{path}", data={**(data or {}), "csrf_token": self.csrf}, **kwargs
        )

    def claim(self, handoff_id: int) -> httpx.Response:
        return self.post(f"/{handoff_id}/prendi")

    def reply(self, handoff_id: int, text: str) -> httpx.Response:
        return self.http.post(
            f"/console/coda/{handoff_id}/rispondi",
            json={"text": text},
            headers={"X-CSRF-Token": self.csrf, "Accept": "application/json"},
        )

    def close(
        self, handoff_id: int, outcome: str = "resolved", csat: bool = True
    ) -> httpx.Response:
        return self.post(f"/{handoff_id}/chiudi", {"outcome": outcome, "csat": "1" if csat else ""})

    def page(self, handoff_id: int) -> httpx.Response:
        return self.http.get(f"/console/coda/{handoff_id}")

    def queue(self) -> httpx.Response:
        return self.http.get("/console/coda")

    def cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.http.cookies.items())

    def close_client(self) -> None:
        self.http.close()


# --- a citizen on the web chat --------------------------------------------------------------


@dataclass
class Citizen:
    base: str
    token: str = ""
    http: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.http = httpx.Client(base_url=self.base, timeout=15.0)
        if not self.token:
            self.token = self.http.post("/api/chat/session").json()["token"]
        self.http.headers["Authorization"] = f"Bearer {self.token}"

    def say(self, text: str) -> int:
        body = {"client_id": uuid.uuid4().hex, "text": text}
        response = self.http.post("/api/chat/messages", json=body)
        assert response.status_code == 202, response.text
        return int(response.json()["id"])

    def tap(self, ref: str) -> int:
        body = {"client_id": uuid.uuid4().hex, "button": ref}
        response = self.http.post("/api/chat/messages", json=body)
        assert response.status_code == 202, response.text
        return int(response.json()["id"])

    def history(self) -> list[dict[str, Any]]:
        return self.http.get("/api/chat/history").json()["messages"]

    def outbound(self) -> list[dict[str, Any]]:
        return [m for m in self.history() if m["direction"] == "outbound"]

    def wait_for(self, contains: str, timeout: float = 10.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for message in self.outbound():
                if contains in (message.get("text") or "") and message["status"] != "queued":
                    return message
            time.sleep(0.03)
        raise AssertionError(
            f"the citizen never got {contains!r}; got {[m['text'][:40] for m in self.outbound()]}"
        )

    def conversation_id(self, live: Live) -> str:
        import hashlib

        key = hashlib.sha256(self.token.encode("ascii")).hexdigest()
        found = next(c for c in live.conversations() if c.chat_key == key)
        return found.conversation_id

    def start(self) -> None:
        """First contact: consent."""
        self.say("accetto")
        self.wait_for("Grazie")


@pytest.fixture
def people() -> Iterator[list[Any]]:
    """Clients to close at the end."""
    made: list[Any] = []
    yield made
    for item in made:
        item.http.close()
