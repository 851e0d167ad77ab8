"""The broadcaster inside the real gateway app (server.app.create_app + attach_broadcasts): the
worker starts with the gateway, and a web-chat subscriber gets the announcement through the
gateway's own sending (stored in the conversation's history)."""

from __future__ import annotations

import time
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from broadcast import menu
from conversations.models import Channel, Direction, Message
from core.db import session_scope
from core.timeutil import utcnow
from server.app import create_app
from server.broadcasts import attach_broadcasts
from tests.broadcast.helpers import (
    add_citizen,
    add_subscriber,
    gateway_settings,
    new_broadcast,
    statuses,
)


def test_worker_runs_with_the_gateway(
    sqlite_url: str, sqlite_engine: Engine, tmp_path: Path
) -> None:
    settings = gateway_settings(sqlite_url, tmp_path)
    with session_scope(sqlite_engine) as session:
        web = add_subscriber(session, channel=Channel.webchat)
    app = create_app(settings, engine=sqlite_engine)
    attach_broadcasts(app, settings, engine=sqlite_engine)
    with TestClient(app):
        assert app.state.broadcast_worker is not None
        broadcast_id = new_broadcast(sqlite_engine, title="Mercatino")
        deadline = time.monotonic() + 20
        while statuses(sqlite_engine, broadcast_id) != {"sent": 1}:
            assert time.monotonic() < deadline, statuses(sqlite_engine, broadcast_id)
            time.sleep(0.1)
    with Session(sqlite_engine) as session:
        history = session.exec(
            select(Message).where(
                col(Message.conversation_id) == web, col(Message.direction) == Direction.outbound
            )
        ).all()
    assert [m.text.split("\n")[0] for m in history] == ["Mercatino"]


def test_what_the_gateway_answers_by_itself(sqlite_engine: Engine) -> None:
    now = utcnow()
    with session_scope(sqlite_engine) as session:
        cid = add_citizen(session)
        opened = menu.for_custom(
            session, conversation_id=cid, custom={"type": "subscriptions"}, now=now
        )
        assert [b.payload for b in opened.buttons] == ["sub:on", "sub:done"]
        tapped = menu.intercept(session, conversation_id=cid, payload="sub:on", text="Sì", now=now)
        assert tapped is not None and tapped.changed
        assert (
            menu.intercept(session, conversation_id=cid, payload=None, text="ciao", now=now) is None
        )
        asked = menu.intercept(
            session, conversation_id=cid, payload=None, text="Stop avvisi", now=now
        )
        assert asked is not None and asked.text == menu.ASK_STOP and not asked.changed
        stopped = menu.intercept(
            session, conversation_id=cid, payload="sub:stop:ok", text="Sì, basta avvisi", now=now
        )
        assert stopped is not None and stopped.text.startswith("Non riceverai più avvisi")
        unsub = menu.for_custom(
            session,
            conversation_id=cid,
            custom={"type": "subscriptions", "action": "stop"},
            now=now,
        )
        assert unsub.text.startswith("Non ricevi avvisi")


def test_intercepts_names_exactly_what_intercept_answers(sqlite_engine: Engine) -> None:
    """The gateway skips the menu's transaction when ``intercepts`` says no (issue 18): it
    must agree with ``intercept`` on every kind of message."""
    now = utcnow()
    messages = [
        ("sub:on", "Sì"),
        ("sub:stop:ok", "Sì, basta avvisi"),
        ("sub:done", "Fatto"),
        (None, "Stop avvisi"),
        (None, "stop avvisi!"),
        ("stop_avvisi", "/stop_avvisi@NomeDelBot"),
        (None, "ciao"),
        (None, "stop"),
        (None, "non voglio più avvisi"),
        ("/search_service", "Cerca un servizio"),
        ("gw:lang", "Lingua"),
        (None, ""),
    ]
    with session_scope(sqlite_engine) as session:
        cid = add_citizen(session)
        for payload, text in messages:
            answered = menu.intercept(
                session, conversation_id=cid, payload=payload, text=text, now=now
            )
            assert menu.intercepts(payload=payload, text=text) == (answered is not None), text
