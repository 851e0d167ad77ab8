"""The gateway tests' fake Rasa (REST channel) plus the tracker endpoints the hand-off uses:
``POST /conversations/{id}/tracker/events`` (pause, resume: recorded; a paused tracker answers
nothing, as Rasa does) and ``GET /conversations/{id}/tracker`` (slots set by the test)."""

from __future__ import annotations

import json
import threading
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

from tests.fakes.fake_rasa import FakeRasa, _Handler, scripted


class FakeRasaApi(FakeRasa):
    def __init__(self) -> None:
        super().__init__(scripted)
        self.events: list[tuple[str, str]] = []  # (conversation_id, event)
        self.paused: set[str] = set()
        self.slots: dict[str, dict[str, Any]] = {}
        self.ignored: list[str] = []  # messages that reached a paused tracker
        self.event_delay = 0.0  # seconds before a tracker event is recorded (a slow Rasa)

    def start(self) -> FakeRasaApi:
        fake = self

        class Handler(_ApiHandler):
            owner = fake

        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def events_of(self, conversation_id: str) -> list[str]:
        with self._lock:
            return [e for c, e in self.events if c == conversation_id]


class _ApiHandler(_Handler):
    owner: FakeRasaApi

    def _conversation(self) -> tuple[str, str] | None:
        parts = urlsplit(self.path).path.split("/")
        if len(parts) >= 4 and parts[1] == "conversations":
            return unquote(parts[2]), "/".join(parts[3:])
        return None

    def do_GET(self) -> None:
        found = self._conversation()
        if found is not None and found[1] == "tracker":
            with self.owner._lock:
                slots = dict(self.owner.slots.get(found[0], {}))
                paused = found[0] in self.owner.paused
            self._reply(200, {"sender_id": found[0], "slots": slots, "paused": paused})
            return
        super().do_GET()

    def do_POST(self) -> None:
        found = self._conversation()
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) or b"{}"
        if found is not None and found[1] == "tracker/events":
            event = json.loads(raw).get("event", "")
            if self.owner.event_delay:
                threading.Event().wait(self.owner.event_delay)
            with self.owner._lock:
                self.owner.events.append((found[0], event))
                if event == "pause":
                    self.owner.paused.add(found[0])
                elif event == "resume":
                    self.owner.paused.discard(found[0])
            self._reply(200, {"sender_id": found[0]})
            return
        body = json.loads(raw)
        if self.path.startswith("/webhooks/rest/webhook"):
            with self.owner._lock:
                if body.get("sender") in self.owner.paused:
                    self.owner.ignored.append(str(body.get("message")))
                    self._reply(200, [])
                    return
                self.owner.requests.append(body)
            self._reply(200, self.owner.responder(body))
            return
        self._reply(404, {"status": "failure"})
