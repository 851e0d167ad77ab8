"""Broadcasts in the subscribers' languages (issue 17): the console's form takes a version
in each other language of locale/languages.yml, and each subscriber gets the version of their
conversation's language, else the Italian one."""

from __future__ import annotations

import time
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from broadcast.models import Broadcast
from conversations import language
from conversations.models import Channel, Direction, Message
from core.db import session_scope
from server.app import create_app
from server.broadcasts import attach_broadcasts
from tests.broadcast.helpers import add_subscriber, gateway_settings, new_broadcast, statuses
from tests.broadcast.test_broadcast_console import (  # noqa: F401 (fixtures)
    CONSOLE,
    _cheap_hashing,
    _form,
    client,
    hub,
    settings,
)


def test_the_form_takes_an_english_version(
    client: TestClient,  # noqa: F811
    hub: str,  # noqa: F811
    sqlite_engine: Engine,
) -> None:
    page = client.get(f"{CONSOLE}/avvisi/nuovo").text
    assert "Versione in inglese (facoltativa)" in page and 'name="body_en"' in page
    half = client.post(f"{CONSOLE}/avvisi/nuovo", data=_form(hub, title_en="Workshop"))
    assert half.status_code == 400
    assert "Per la versione in inglese scrivi sia il titolo sia il testo." in half.text
    assert 'value="Workshop"' in half.text  # nothing typed is lost
    created = client.post(
        f"{CONSOLE}/avvisi/nuovo",
        data=_form(hub, title_en="Workshop", body_en="Tuesday <b>at 5 pm</b>"),
    )
    assert created.status_code == 303
    with Session(sqlite_engine) as session:
        broadcast = session.exec(select(Broadcast)).one()
    english = broadcast.translations["en"]
    assert english["title"] == "Workshop"
    assert english["body"].startswith("<b>Workshop</b>\n\nTuesday <b>at 5 pm</b>")
    assert "«stop news»" in english["body"] and "stop avvisi" in broadcast.body


def test_each_subscriber_gets_their_language(
    sqlite_url: str, sqlite_engine: Engine, tmp_path: Path
) -> None:
    config = gateway_settings(sqlite_url, tmp_path)
    with session_scope(sqlite_engine) as session:
        italian = add_subscriber(session, channel=Channel.webchat)
        english = add_subscriber(session, channel=Channel.webchat)
        language.choose(session, conversation_id=english, language="en")
    app = create_app(config, engine=sqlite_engine)
    attach_broadcasts(app, config, engine=sqlite_engine)
    with TestClient(app):
        both = new_broadcast(
            sqlite_engine,
            title="Festa al Welcome Hub",
            translations={"en": ("Party at the Welcome Hub", "Saturday at 4 pm, snacks for all.")},
            link_url="https://www.comune.fi.it",
        )
        only_italian = new_broadcast(sqlite_engine, title="Mercatino")
        deadline = time.monotonic() + 20
        while statuses(sqlite_engine, both) != {"sent": 2} or statuses(
            sqlite_engine, only_italian
        ) != {"sent": 2}:
            assert time.monotonic() < deadline, statuses(sqlite_engine, both)
            time.sleep(0.1)
    with Session(sqlite_engine) as session:
        received = {
            cid: [
                m.text
                for m in session.exec(
                    select(Message)
                    .where(
                        col(Message.conversation_id) == cid,
                        col(Message.direction) == Direction.outbound,
                    )
                    .order_by(col(Message.id))
                )
            ]
            for cid in (italian, english)
        }
    assert [text.split("\n")[0] for text in received[italian]] == [
        "Festa al Welcome Hub",
        "Mercatino",
    ]
    first, second = received[english]
    assert first.startswith("Party at the Welcome Hub") and "stop news" in first
    assert second.startswith("Mercatino")  # no English version: the Italian one
