"""A small fake of Rasa's REST channel for the gateway's own logic (not the dialogue).

A real HTTP server on 127.0.0.1 answering ``POST /webhooks/rest/webhook`` with the
documented REST-channel payload: a list of ``{"recipient_id", "text"?, "buttons"?,
"image"?, "custom"?}``. It can be stopped and started again on the same port ("Rasa down,
then up"). It also answers ``GET /health`` like the action server, so it can stand in for
both. The end-to-end tests use the real Rasa (tests/fixtures/rasa.py).
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Responder = Callable[[dict[str, Any]], list[dict[str, Any]]]

PAGE_1 = "Ho trovato 4 servizi:\n1. Doposcuola Rifredi\n2. Ludoteca Il Castello"
PAGE_2 = "Altri risultati (3-4 di 4):\n3. Centro giovani Novoli\n4. Doposcuola Le Cure"


def scripted(request: dict[str, Any]) -> list[dict[str, Any]]:
    """A tiny scripted assistant covering every reply shape the gateway must render."""
    sender = request.get("sender", "")
    message = str(request.get("message") or "")
    low = message.lower()
    # a payload's intent without its entities (the gateway may add {"language": "en"})
    bare = message.split("{", 1)[0] if message.startswith("/") else message

    def reply(**fields: Any) -> dict[str, Any]:
        return {"recipient_id": sender, **fields}

    if bare == "/greet":
        return [reply(text="Ciao! Sono l'assistente di WEL.CO.ME. Come posso aiutarti?")]
    if bare == "/more_results":
        return [
            reply(
                text=PAGE_2,
                buttons=[
                    {
                        "title": "Dettagli 3",
                        "payload": '/service_details{"service_code":"SRV-0003"}',
                    },
                    {
                        "title": "Dettagli 4",
                        "payload": '/service_details{"service_code":"SRV-0004"}',
                    },
                ],
            ),
            reply(custom={"type": "page", "page_key": "search_results"}),
        ]
    if message.startswith("/service_details"):
        return [reply(text="Doposcuola: dal lunedì al venerdì, 14-18. Costo: gratuito.")]
    if bare == "/find_welcome_point":
        location = (request.get("metadata") or {}).get("location")
        if location:
            return [reply(text="Ecco i Welcome Point più vicini a te:\n1. Welcome Point Rifredi")]
        return [reply(text="Dove ti trovi?"), reply(custom={"type": "location_request"})]
    if bare in ("/human_handoff",) or "operatore" in low:
        return [
            reply(text="Va bene, ti metto in contatto con un operatore."),
            reply(custom={"type": "handoff", "priority": "normal", "reason": "requested"}),
        ]
    if bare == "/request_reimbursement" or (request.get("metadata") or {}).get("attachment"):
        return [reply(text="Grazie, ho ricevuto la ricevuta.")]
    if "cerco" in low:
        return [
            reply(
                text=PAGE_1,
                buttons=[
                    {
                        "title": "Dettagli 1",
                        "payload": '/service_details{"service_code":"SRV-0001"}',
                    },
                    {
                        "title": "Dettagli 2",
                        "payload": '/service_details{"service_code":"SRV-0002"}',
                    },
                    {"title": "Altri risultati", "payload": "/more_results"},
                ],
            )
        ]
    if "foto" in low:
        return [reply(image="https://example.org/mappa.png")]
    if "lungo" in low:
        return [reply(text=("parola " * 1400).strip())]
    if "silenzio" in low:
        return []
    return [reply(text=f"Hai scritto: {message[:50]}")]


class FakeRasa:
    def __init__(self, responder: Responder = scripted) -> None:
        self.responder = responder
        self.requests: list[dict[str, Any]] = []
        self.authorizations: list[str] = []  # the Authorization header of each webhook call
        self.delay = 0.0
        self.health_status = 200
        self._server: ThreadingHTTPServer | None = None
        self._port = 0
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def port(self) -> int:
        if not self._port:
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                self._port = probe.getsockname()[1]
        return self._port

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> FakeRasa:
        fake = self

        class Handler(_Handler):
            owner = fake

        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        """Rasa down: the port refuses connections, and open keep-alive connections drop."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        with self._lock:
            for connection in list(self._connections):
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)
            self._connections.clear()

    def messages(self) -> list[str]:
        with self._lock:
            return [str(r.get("message")) for r in self.requests]


class _Handler(BaseHTTPRequestHandler):
    owner: FakeRasa
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body leave at once, as real servers do

    def setup(self) -> None:
        super().setup()
        with self.owner._lock:
            self.owner._connections.add(self.connection)

    def finish(self) -> None:
        with self.owner._lock:
            self.owner._connections.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _reply(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        if self.path.startswith("/health"):
            self._reply(self.owner.health_status, {"status": "ok"})
        else:
            self._reply(200, {"version": "3.6.21"})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        if not self.path.startswith("/webhooks/rest/webhook"):
            self._reply(404, {"status": "failure"})
            return
        with self.owner._lock:
            self.owner.requests.append(body)
            self.owner.authorizations.append(self.headers.get("Authorization", ""))
        if self.owner.delay:
            threading.Event().wait(self.owner.delay)
        self._reply(200, self.owner.responder(body))
