"""«Cancella i dati» end to end: the real gateway with the console, the fake Telegram, the
fake Rasa, Rasa's tracker table in the same database (SQLite and PostgreSQL).

A citizen sends a photo and asks to erase their data; an admin erases them in the console:
the citizen gets the last message on Telegram, then the messages (that one too), the photo
on disk, the tracker events and the chat address are gone; nothing can be sent to the
erased conversation any more; writing again starts afresh with the privacy notice.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import MetaData, Table, insert, select
from sqlalchemy.engine import Engine
from sqlmodel import Session
from sqlmodel import select as sm_select

from bot.delivery import ConversationErased
from console import audit
from console.staff import create_staff
from conversations.models import Attachment, Conversation
from core.db import make_engine, session_scope
from core.timeutil import utcnow
from privacy import erasure
from staff.roles import Role
from tests.fakes.fake_rasa import FakeRasa
from tests.fakes.fake_telegram import FakeTelegram
from tests.gateway.conftest import RunningGateway, accept_consent, gateway_settings, run_gateway
from tests.gateway.test_retention import _rasa_events

CHAT = 515_151
PASSWORD = "cavolo nero e ribollita"
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
JPEG = b"\xff\xd8\xff\xe0" + b"scontrino" * 50


@pytest.fixture
def running(
    db_url: str, tmp_path: Path, fake_telegram: FakeTelegram, fake_rasa: FakeRasa
) -> Iterator[RunningGateway]:
    engine = make_engine(db_url)
    settings = gateway_settings(
        tmp_path,
        db_url,
        telegram_bot_token=fake_telegram.token,
        telegram_api_base_url=fake_telegram.base_url,
        rasa_url=fake_rasa.url,
        action_server_url=fake_rasa.url,
        rasa_tracker_db_url=db_url,
        secret_key="test-secret-key-" + "x" * 32,
    )
    gateway = run_gateway(settings, engine)
    fake_telegram.wait_for(lambda c: c.method == "setMyCommands", what="setMyCommands")
    yield gateway
    gateway.stop()
    engine.dispose()


def _admin(engine: Engine, base: str) -> tuple[httpx.Client, str]:
    with session_scope(engine) as session:
        create_staff(
            session,
            email="privacy@comune.example.it",
            full_name="Ufficio Privacy",
            roles=(Role.admin,),
            password=PASSWORD,
        )
    http = httpx.Client(base_url=base, timeout=20.0, follow_redirects=False)
    page = http.get("/console/accesso")
    token = _TOKEN.search(page.text)
    assert token
    response = http.post(
        "/console/accesso",
        data={"email": "privacy@comune.example.it", "password": PASSWORD, "csrf_token": token[1]},
    )
    assert response.status_code == 303, response.text
    found = _TOKEN.search(http.get("/console/").text)
    assert found
    return http, found[1]


def _tracker_senders(engine: Engine) -> set[str]:
    events = Table("events", MetaData(), autoload_with=engine)
    with engine.connect() as conn:
        return set(conn.execute(select(events.c.sender_id)).scalars())


def test_the_citizen_is_told_then_everything_of_the_chat_is_gone(
    running: RunningGateway, fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    accept_consent(fake_telegram, CHAT)
    mark = len(fake_telegram.calls())
    fake_telegram.send_photo(CHAT, JPEG)
    fake_telegram.wait_sent(CHAT, "ricevuto la ricevuta", after=mark)
    (conversation,) = running.conversations()
    cid = conversation.conversation_id
    with Session(running.engine) as session:
        (attachment,) = session.exec(sm_select(Attachment)).all()
    photo = tmp_path / "var" / "uploads" / attachment.path
    assert photo.exists()
    events = _rasa_events(running.engine)
    with running.engine.begin() as conn:
        conn.execute(
            insert(events),
            [{"sender_id": cid, "type_name": "user", "timestamp": utcnow().timestamp()}] * 3,
        )
    with session_scope(running.engine) as session:
        request_id = erasure.request_erasure(session, conversation_id=cid, source="rasa_action").id
    assert len(running.messages(cid)) >= 4

    http, csrf = _admin(running.engine, running.url)
    page = http.get(f"/console/cancellazioni/{request_id}")
    assert page.status_code == 200 and "Cancella i dati</button>" in page.text
    mark = len(fake_telegram.calls())
    response = http.post(
        f"/console/cancellazioni/{request_id}/cancella",
        data={"csrf_token": csrf, "conferma": "si"},
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"].endswith("/cancellazioni?msg=erased")
    assert "ha ricevuto la conferma in chat" in http.get(response.headers["location"]).text

    # the last message reached the citizen, then went with the rest
    told = fake_telegram.wait_sent(CHAT, "abbiamo cancellato i tuoi dati", after=mark)
    assert told.params["text"] == erasure.CONFIRMATION_TEXT
    assert running.messages(cid) == []
    assert not photo.exists()
    assert cid not in _tracker_senders(running.engine)
    (conversation,) = running.conversations()
    assert conversation.chat_key == f"purged:{cid}" and conversation.consent_at is not None
    with Session(running.engine) as session:
        assert session.exec(sm_select(Attachment)).all() == []
        assert erasure.open_requests(session) == []
        (entry,) = audit.recent(session, object_type="erasure_request")
        assert entry.action == "erasure.erased" and "consegnata" in entry.detail

    # nothing can be stored for, or sent to, the erased conversation any more
    gateway = running.app.state.gateway
    with pytest.raises(ConversationErased):
        running.call(gateway.send_text(cid, "un rimborso è stato approvato"))
    assert running.messages(cid) == []

    # writing again: a new conversation, the privacy notice first
    mark = len(fake_telegram.calls())
    fake_telegram.send_text(CHAT, "ciao")
    fake_telegram.wait_sent(CHAT, "Accetto", after=mark)
    conversations: Callable[[], list[Conversation]] = running.conversations
    newer = [c for c in conversations() if c.conversation_id != cid]
    assert len(newer) == 1 and not newer[0].has_consent
    http.close()
