"""Care Managers see the citizen's language in the queue and in the conversation (issue 17);
what they write goes out as they wrote it."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from bot.language import localized
from care import handoff as core
from conversations import language
from conversations import repository as repo
from conversations.inbound import Inbound
from conversations.models import Channel, Kind
from conversations.outgoing import Outgoing
from core.db import session_scope
from core.timeutil import utcnow
from tests.handoff.conftest import make_care_manager
from tests.handoff.test_roles import OPEN, gateway, sign_in  # noqa: F401 (fixture)


def _conversation(engine: Engine, chat_key: str, code: str | None) -> str:
    with session_scope(engine) as session:
        stored = repo.store_inbound(
            session,
            inbound=Inbound(channel=Channel.telegram, chat_key=chat_key, kind=Kind.text, text="x"),
        )
        conversation_id = stored.conversation.conversation_id
        if code:
            language.choose(session, conversation_id=conversation_id, language=code)
    return conversation_id


def test_the_queue_and_the_page_show_the_citizens_language(
    gateway: FastAPI,  # noqa: F811
    engine: Engine,
) -> None:
    anna = make_care_manager(engine, name="Anna")
    english = _conversation(engine, "900001", "en")
    italian = _conversation(engine, "900002", None)
    now = utcnow()
    with session_scope(engine) as session:
        ids = [
            core.request_handoff(session, conversation_id=cid, now=now, office=OPEN).handoff.id
            for cid in (english, italian)
        ]
    with TestClient(gateway, follow_redirects=False) as client:
        sign_in(client, anna.email)
        queue = client.get("/console/coda/elenco").text
        assert queue.count("<strong>inglese</strong>") == 1  # Italian needs no mark
        page = client.get(f"/console/coda/{ids[0]}").text
        assert '<dd id="citizen-language">inglese' in page
        assert "le tue risposte partono come le scrivi" in page
        other = client.get(f"/console/coda/{ids[1]}").text
        assert '<dd id="citizen-language">italiano</dd>' in other


def test_a_care_managers_reply_goes_out_as_written() -> None:
    reply = Outgoing(text="Grazie, ti scrivo io. Hello, I am Anna.")
    assert localized(reply, "en") is reply  # not the gateway's words: never translated
