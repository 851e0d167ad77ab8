"""The web chat's JSON API and server-sent events, against the real gateway."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlmodel import Session, select

from bot import wording
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

    def listen(
        self, after: int, done: Callable[[list[tuple[str, dict[str, Any]]]], bool]
    ) -> EventStream:
        """Reads ``/api/chat/events`` in a thread until ``done(events)``; ``ready`` is set
        once the stream is open."""
        stream = EventStream()

        def read() -> None:
            headers = {"Authorization": f"Bearer {self.token}"}
            with (
                httpx.Client(base_url=self.gateway.url, timeout=10) as client,
                client.stream(
                    "GET", "/api/chat/events", params={"after": after}, headers=headers
                ) as response,
            ):
                stream.ready.set()
                event = ""
                for line in response.iter_lines():
                    if line.startswith("event: "):
                        event = line[7:]
                    elif line.startswith("data: "):
                        stream.events.append((event, json.loads(line[6:])))
                        if done(stream.events):
                            return

        stream.thread = threading.Thread(target=read, daemon=True)
        stream.thread.start()
        return stream


class EventStream:
    """The server-sent events one ``Chat.listen`` has read so far."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.ready = threading.Event()
        self.thread: threading.Thread | None = None

    def join(self, timeout: float) -> None:
        assert self.thread is not None
        self.thread.join(timeout)


def test_the_page_is_italian_accessible_and_needs_no_build(web_gateway: RunningGateway) -> None:
    with web_gateway.client() as client:
        page = client.get("/")
        assert page.status_code == 200 and '<html lang="it">' in page.text
        assert 'aria-live="polite"' in page.text and 'role="log"' in page.text
        assert '<label for="text"' in page.text and "Condividi posizione" in page.text
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
    assert chat.history() == {"consent": False, "mode": "bot", "language": "it", "messages": []}
    chat.send(command="start")
    notice = chat.wait_reply("Chi li tiene")
    assert [b["title"] for b in notice["buttons"]] == ["Accetto", "Non accetto", "🌐 Lingua"]
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

    def echoed(events: list[tuple[str, dict[str, Any]]]) -> bool:
        kind, data = events[-1]
        return kind == "message" and "Hai scritto" in data["text"]

    stream = chat.listen(last_id, echoed)
    stream.ready.wait(5)
    chat.send(text="in diretta")
    stream.join(10)
    events = stream.events
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


JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 8


def _upload(chat: Chat, content: bytes, client_id: str | None = None, **headers: str) -> Any:
    return chat.http.post(
        "/api/chat/files",
        params={"client_id": client_id or uuid.uuid4().hex},
        content=content,
        headers={"Content-Type": "application/octet-stream", **headers},
    )


def _stored_files(gateway: RunningGateway) -> list[Any]:
    from pathlib import Path

    from conversations.models import Attachment

    with Session(gateway.engine) as session:
        rows = list(session.exec(select(Attachment)))
    root = Path(gateway.app.state.gateway.uploads.root)
    on_disk = sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []
    return [rows, on_disk]


def test_a_file_reaches_rasa_like_a_telegram_photo(
    web_gateway: RunningGateway, fake_rasa: FakeRasa
) -> None:
    import stat

    chat = Chat(web_gateway)
    refused = _upload(chat, JPEG)  # no conversation, no consent: nothing is kept
    assert refused.status_code == 409 and "Accetto" in refused.json()["detail"]
    chat.consent()
    assert _stored_files(web_gateway) == [[], []]

    client_id = uuid.uuid4().hex
    response = _upload(chat, JPEG, client_id)
    assert response.status_code == 202 and response.json()["duplicate"] is False
    chat.wait_reply("ho ricevuto la ricevuta")
    request = fake_rasa.requests[-1]
    assert request["message"] == "/request_reimbursement"
    attachment = request["metadata"]["attachment"]
    assert attachment["mime_type"] == "image/jpeg" and attachment["size_bytes"] == len(JPEG)
    again = _upload(chat, JPEG, client_id)  # the browser retried: the same message
    assert again.status_code == 202 and again.json() == {**response.json(), "duplicate": True}
    rows, files = _stored_files(web_gateway)
    assert len(rows) == 1 and len(files) == 1 and rows[0].id == attachment["id"]
    assert files[0].read_bytes() == JPEG and files[0].suffix == ".jpg"
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
    inbound = next(m for m in chat.history()["messages"] if m["kind"] == "attachment")
    assert inbound["attachment"] == {"id": attachment["id"], "mime_type": "image/jpeg"}
    assert len([r for r in fake_rasa.requests if r["message"] == "/request_reimbursement"]) == 1


def test_files_too_big_of_the_wrong_type_or_empty_are_refused_politely(
    web_gateway: RunningGateway, fake_rasa: FakeRasa
) -> None:
    chat = Chat(web_gateway)
    chat.consent()
    big = _upload(chat, b"\xff\xd8\xff" + b"\0" * 200_001)  # UPLOAD_MAX_BYTES is 200,000 here
    assert big.status_code == 413 and "troppo grande" in big.json()["detail"]

    def chunks() -> Any:  # no Content-Length: the body is cut off while it streams
        yield b"%PDF-1.4\n"
        for _ in range(30):
            yield b"\0" * 10_000

    streamed = chat.http.post(
        "/api/chat/files", params={"client_id": uuid.uuid4().hex}, content=chunks()
    )
    assert streamed.status_code == 413
    exe = _upload(chat, b"MZ\x90\x00" + b"\0" * 100)
    assert exe.status_code == 415 and exe.json()["detail"] == wording.FILE_TYPE_NOT_ALLOWED
    fake_type = _upload(chat, b"<html>ciao</html>", **{"Content-Type": "image/jpeg"})
    assert fake_type.status_code == 415  # the declared type is not trusted
    empty = _upload(chat, b"")
    assert empty.status_code == 422 and empty.json()["detail"] == wording.FILE_EMPTY
    no_id = chat.http.post("/api/chat/files", content=JPEG)
    assert no_id.status_code == 422
    no_token = web_gateway.client().post(
        "/api/chat/files", params={"client_id": uuid.uuid4().hex}, content=JPEG
    )
    assert no_token.status_code == 401
    assert _stored_files(web_gateway) == [[], []]
    assert all(r["message"] != "/request_reimbursement" for r in fake_rasa.requests)
    attachments = [m for m in web_gateway.messages() if m.kind == "attachment"]
    assert attachments == []
