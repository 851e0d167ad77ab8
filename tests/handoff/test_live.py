"""The console's websocket: a new hand-off is announced to every Care Manager, the open
conversation's messages arrive live (within a second), delivery statuses follow."""

from __future__ import annotations

import json
import time
from typing import Any

from websockets.sync.client import ClientConnection, connect

from tests.handoff.conftest import Citizen, Live, StaffClient, make_care_manager


def _socket(live: Live, cm: StaffClient, query: str = "") -> ClientConnection:
    url = live.url.replace("http://", "ws://") + "/console/coda/diretta" + query
    ws = connect(
        url, origin=live.url, additional_headers={"Cookie": cm.cookie_header()}, open_timeout=10
    )
    assert json.loads(ws.recv(timeout=5))["type"] == "ready"
    return ws


def _next(ws: ClientConnection, predicate: Any, timeout: float = 5.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        event = json.loads(ws.recv(timeout=max(0.01, deadline - time.monotonic())))
        if predicate(event):
            return event


def test_queue_and_conversation_events(start_live, people: list) -> None:
    live: Live = start_live()
    cm = StaffClient(live.url, make_care_manager(live.engine)).login()
    citizen = Citizen(live.url)
    people.extend([cm, citizen])
    citizen.start()
    with _socket(live, cm) as queue_ws:
        assert live.service.staff_online
        citizen.say("/operatore")
        new = _next(queue_ws, lambda e: e.get("type") == "queue" and e["event"] == "new")
        assert new["priority"] == "normal" and set(new) >= {"handoff_id", "status"}
        assert "text" not in json.dumps(new)  # no message content in queue events
        told = citizen.wait_for("Care Manager")
        assert "a breve" in told["text"]  # a Care Manager was online
    handoff_id = new["handoff_id"]
    assert cm.claim(handoff_id).status_code == 303
    with _socket(live, cm, f"?handoff={handoff_id}&after=999999") as ws:
        started = time.monotonic()
        citizen.say("sono qui, grazie")
        event = _next(
            ws, lambda e: e.get("type") == "message" and e["message"]["direction"] == "inbound"
        )
        assert event["message"]["text"] == "sono qui, grazie"
        assert time.monotonic() - started < 1.0
        assert cm.reply(handoff_id, "Arrivo!").status_code == 200
        sent = _next(ws, lambda e: e.get("type") == "message" and e["message"]["author"] == "staff")
        assert sent["message"]["status"] == "sent"


def test_a_colleague_cannot_watch_a_conversation_held_by_another(start_live, people: list) -> None:
    live: Live = start_live()
    anna = StaffClient(live.url, make_care_manager(live.engine)).login()
    bruno = StaffClient(live.url, make_care_manager(live.engine)).login()
    citizen = Citizen(live.url)
    people.extend([anna, bruno, citizen])
    citizen.start()
    citizen.say("/operatore")
    (handoff,) = live.wait_until(live.handoffs)
    assert anna.claim(handoff.id).status_code == 303
    assert bruno.claim(handoff.id).headers["location"].endswith("msg=taken")
    with _socket(live, bruno, f"?handoff={handoff.id}") as ws:
        citizen.say("ci sei?")
        time.sleep(0.6)
        events = []
        try:
            while True:
                events.append(json.loads(ws.recv(timeout=0.5)))
        except TimeoutError:
            pass
        assert not [e for e in events if e.get("type") == "message"]
