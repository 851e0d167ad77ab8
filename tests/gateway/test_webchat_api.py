"""The web chat's JSON API and server-sent events, against the real gateway."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.fakes.fake_rasa import FakeRasa
from tests.gateway.conftest import RunningGateway


@pytest.fixture
def web_gateway(
    start_gateway: Callable[..., RunningGateway], fake_rasa: FakeRasa
) -> RunningGateway:
    return start_gateway(rasa_url=fake_rasa.url)


class Chat:
    def __init__(self, gateway: RunningGateway) -> None:
        self.gateway = gateway
        self.http = gateway.client()
        self.token = self.http.post("/api/chat/session").json()["token"]
        self.http.headers["Authorization"] = f"Bearer {self.token}"

    def send(self, **body: Any) -> httpx.Response:
        body.setdefault("client_id", uuid.uuid4().hex)
        return self.http.post("/api/chat/messages", json=body)

    def history(self) -> dict[str, Any]:
        return self.http.get("/api/chat/history").json()

    def wait_reply(self, contains: str) -> dict[str, Any]:
        def found() -> dict[str, Any] | None:
            return next(
                (
                    m
                    for m in self.history()["messages"]
                    if m["direction"] == "outbound"
                    and contains in m["text"]
                    and m["status"] == "sent"
                ),
                None,
            )

        return self.gateway.wait_until(found, what=f"a reply containing {contains!r}")

    def consent(self) -> None:
        self.send(command="start")
        notice = self.wait_reply("Chi li tiene")
        accept = next(b for b in notice["buttons"] if b["title"] == "Accetto")
        self.send(button=accept["ref"])
        self.wait_reply("Grazie")


def test_the_page_is_italian_accessible_and_needs_no_build(web_gateway: RunningGateway) -> None:
    with web_gateway.client() as client:
        page = client.get("/")
        assert page.status_code == 200 and '<html lang="it">' in page.text
        assert 'aria-live="polite"' in page.text and 'role="log"' in page.text
        assert '<label for="text">' in page.text and "Condividi posizione" in page.text
        assert client.get("/static/webchat/chat.js").status_code == 200
        assert client.get("/static/webchat/chat.css").status_code == 200
        assert client.get("/healthz").json()["status"] == "ok"


def test_a_token_is_required(web_gateway: RunningGateway) -> None:
    with web_gateway.client() as client:
        body = {"client_id": "abcdefgh", "text": "ciao"}
        assert client.post("/api/chat/messages", json=body).status_code == 401
        bad = {"Authorization": "Bearer short"}
        assert client.post("/api/chat/messages", json=body, headers=bad).status_code == 401
        assert client.get("/api/chat/history", headers=bad).status_code == 401


def test_consent_then_conversation(web_gateway: RunningGateway, fake_rasa: FakeRasa) -> None:
    chat = Chat(web_gateway)
    assert chat.history() == {"consent": False, "mode": "bot", "messages": []}
    chat.send(command="start")
    notice = chat.wait_reply("Chi li tiene")
    assert [b["title"] for b in notice["buttons"]] == ["Accetto", "Non accetto"]
    assert all("payload" not in b and b["ref"].startswith("b:") for b in notice["buttons"])
    assert fake_rasa.requests == []
    chat.send(button=notice["buttons"][0]["ref"])
    chat.wait_reply("Grazie")
    assert chat.history()["consent"] is True
    chat.send(text="cerco un doposcuola")
    results = chat.wait_reply("Ho trovato")
    more = next(b for b in results["buttons"] if b["title"] == "Altri risultati")
    chat.send(button=more["ref"])
    chat.wait_reply("Altri risultati (3-4")
    assert fake_rasa.messages() == ["cerco un doposcuola", "/more_results"]


def test_duplicates_empty_long_and_foreign_buttons(
    web_gateway: RunningGateway, fake_rasa: FakeRasa
) -> None:
    chat = Chat(web_gateway)
    chat.consent()
    first = chat.send(client_id="same-id-123", text="una volta")
    again = chat.send(client_id="same-id-123", text="una volta")
    assert first.status_code == again.status_code == 202
    assert not first.json()["duplicate"] and again.json()["duplicate"]
    chat.wait_reply("Hai scritto: una volta")
    chat.send(text="   \x00 ")
    chat.wait_reply("Non ho ricevuto nessun testo")
    assert chat.send(text="x" * 50_001).status_code == 422
    assert fake_rasa.messages().count("una volta") == 1

    other = Chat(web_gateway)
    other.consent()
    mine = chat.history()["messages"]
    ref = next(m for m in mine if m.get("buttons"))["buttons"][0]["ref"]
    other.send(button=ref)  # a button of someone else's conversation
    other.wait_reply("non è più valido")


def test_location(web_gateway: RunningGateway, fake_rasa: FakeRasa) -> None:
    chat = Chat(web_gateway)
    chat.consent()
    chat.send(location={"lat": 43.7711, "lon": 11.2486})
    chat.wait_reply("Welcome Point più vicini")
    assert fake_rasa.requests[-1]["metadata"]["location"] == {"lat": 43.7711, "lon": 11.2486}
    assert fake_rasa.requests[-1]["metadata"]["channel"] == "webchat"
    assert chat.send(location={"lat": 123, "lon": 0}).status_code == 422


def test_rate_limit(web_gateway: RunningGateway) -> None:
    chat = Chat(web_gateway)
    statuses = [chat.send(text=f"messaggio {i}").status_code for i in range(25)]
    assert statuses[:20] == [202] * 20 and 429 in statuses[20:]


def test_server_sent_events_bring_replies(web_gateway: RunningGateway) -> None:
    chat = Chat(web_gateway)
    chat.consent()
    last_id = chat.history()["messages"][-1]["id"]
    events: list[tuple[str, dict[str, Any]]] = []
    ready = threading.Event()

    def listen() -> None:
        headers = {"Authorization": f"Bearer {chat.token}"}
        with (
            httpx.Client(base_url=web_gateway.url, timeout=10) as client,
            client.stream(
                "GET", "/api/chat/events", params={"after": last_id}, headers=headers
            ) as response,
        ):
            ready.set()
            event = ""
            for line in response.iter_lines():
                if line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: "):
                    events.append((event, json.loads(line[6:])))
                    if event == "message" and "Hai scritto" in events[-1][1]["text"]:
                        return

    thread = threading.Thread(target=listen, daemon=True)
    thread.start()
    ready.wait(5)
    chat.send(text="in diretta")
    thread.join(10)
    texts = [data["text"] for kind, data in events if kind == "message"]
    assert "in diretta" in texts and any("Hai scritto: in diretta" in t for t in texts)
    assert any(kind == "typing" for kind, _ in events)


@pytest.mark.postgres
def test_a_conversation_on_postgresql(
    start_gateway: Callable[..., RunningGateway], fake_rasa: FakeRasa, postgres_url: str
) -> None:
    gateway = start_gateway(database_url=postgres_url, rasa_url=fake_rasa.url)
    chat = Chat(gateway)
    chat.consent()
    first = chat.send(client_id="pg-client-1", text="cerco un doposcuola")
    assert chat.send(client_id="pg-client-1", text="cerco un doposcuola").json()["duplicate"]
    results = chat.wait_reply("Ho trovato")
    more = next(b for b in results["buttons"] if b["title"] == "Altri risultati")
    chat.send(button=more["ref"])
    chat.wait_reply("Altri risultati (3-4")
    assert first.status_code == 202 and fake_rasa.messages().count("cerco un doposcuola") == 1
