"""The console's websocket is checked while it stays open, not only when it opens: after a
logout, a deactivation or a password reset, a watched conversation stops streaming."""

from __future__ import annotations

import json
import time

from sqlmodel import Session, select
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from staff.models import StaffUser
from tests.handoff.conftest import Live, StaffClient, make_care_manager


def _socket(live: Live, cm: StaffClient) -> ClientConnection:
    url = live.url.replace("http://", "ws://") + "/console/coda/diretta"
    ws = connect(
        url, origin=live.url, additional_headers={"Cookie": cm.cookie_header()}, open_timeout=10
    )
    assert json.loads(ws.recv(timeout=5))["type"] == "ready"
    return ws


def _closed_within(ws: ClientConnection, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            try:
                ws.recv(timeout=0.5)
            except TimeoutError:
                continue
    except ConnectionClosed:
        return True
    return False


def test_logout_closes_an_open_websocket(start_live, people: list) -> None:
    live: Live = start_live()
    cm = StaffClient(live.url, make_care_manager(live.engine)).login()
    people.append(cm)
    with _socket(live, cm) as ws:
        assert cm.http.post("/console/esci", data={"csrf_token": cm.csrf}).status_code == 303
        assert _closed_within(ws, 10.0)


def test_deactivation_closes_an_open_websocket(start_live, people: list) -> None:
    live: Live = start_live()
    member = make_care_manager(live.engine)
    cm = StaffClient(live.url, member).login()
    people.append(cm)
    with _socket(live, cm) as ws:
        with Session(live.engine) as session:
            user = session.exec(select(StaffUser).where(StaffUser.email == member.email)).one()
            user.active = False
            session.add(user)
            session.commit()
        assert _closed_within(ws, 10.0)
