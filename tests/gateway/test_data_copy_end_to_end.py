"""«Manda la copia» end to end: the real gateway with the console, the fake Telegram and the
fake Rasa (SQLite and PostgreSQL); and, with the real Rasa, from the citizen's own words.

A citizen on Telegram asked for a copy of their data: a hub_staff account cannot see the
request, a Care Manager opens the preview (sections and counts, audited) and sends it; the
fake Bot API receives the explanation and two uploaded documents for that chat id only: the
PDF and the JSON, whose bytes match the audit line's SHA-256. A channel failure leaves the
documents to the outbox, which sends them. A request whose conversation was erased meanwhile
is refused and nothing is sent.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from console import audit
from console.staff import create_staff
from core.db import session_scope
from core.timeutil import utcnow
from devtools.stack import RasaStack
from privacy import data_copy
from privacy.retention import erase_conversation
from staff.roles import Role
from tests.fakes.fake_graph import FakeGraph
from tests.fakes.fake_telegram import Call, FakeTelegram
from tests.gateway.conftest import RunningGateway, accept_consent
from tests.gateway.test_dialogue_end_to_end import WebChat
from tests.gateway.test_erasure_end_to_end import running  # noqa: F401  (a fixture)
from tests.gateway.test_welfare_end_to_end import (  # noqa: F401  (e2e_gateway: a fixture)
    Chat,
    buttons,
    conversation_id,
    e2e_gateway,
    text_of,
)
from tests.gateway.test_whatsapp import WA, start_whatsapp  # noqa: F401  (a fixture)
from tests.gateway.test_whatsapp import _consent as whatsapp_consent

CHAT = 616_161
OTHER_CHAT = 616_162
PASSWORD = "cavolo nero e ribollita"
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def login(engine: Engine, base: str, role: Role) -> tuple[httpx.Client, str]:
    email = f"{role.value}@comune.example.it"
    with session_scope(engine) as session:
        create_staff(session, email=email, full_name="Anna Rossi", roles=(role,), password=PASSWORD)
    http = httpx.Client(base_url=base, timeout=60.0, follow_redirects=False)
    token = _TOKEN.search(http.get("/console/accesso").text)
    assert token
    response = http.post(
        "/console/accesso", data={"email": email, "password": PASSWORD, "csrf_token": token[1]}
    )
    assert response.status_code == 303, response.text
    found = _TOKEN.search(http.get("/console/").text)
    assert found
    return http, found[1]


def _request(gateway: RunningGateway, chat_id: int, fake_telegram: FakeTelegram) -> tuple[str, int]:
    """A consenting citizen on Telegram with a few messages, and their open request."""
    accept_consent(fake_telegram, chat_id)
    mark = len(fake_telegram.calls())
    fake_telegram.send_text(chat_id, "abito a Rifredi con mia figlia")
    fake_telegram.wait_for(
        lambda c: c.method == "sendMessage" and fake_telegram.calls().index(c) >= mark,
        what="a reply",
    )
    cid = conversation_id(gateway, chat_id)
    with session_scope(gateway.engine) as session:
        request = data_copy.request_copy(session, conversation_id=cid, source="rasa_action")
    return cid, request.id


def _documents(fake_telegram: FakeTelegram, after: int, count: int = 2) -> list[Call]:
    """The documents the bot uploaded after call number ``after``, once there are ``count``."""
    deadline = time.monotonic() + 30.0
    while time.monotonic() < deadline:
        found = [
            c
            for c in fake_telegram.calls()[after:]
            if c.method == "sendDocument" and c.status == 200
        ]
        if len(found) >= count:
            return found
        time.sleep(0.1)
    raise AssertionError(f"fewer than {count} documents sent")


def test_staff_preview_then_the_copy_reaches_only_that_chat(
    running: RunningGateway,  # noqa: F811
    fake_telegram: FakeTelegram,
) -> None:
    _, request_id = _request(running, CHAT, fake_telegram)
    accept_consent(fake_telegram, OTHER_CHAT)  # a bystander: receives nothing

    # roles: a hub_staff account does not see the section
    hub, _ = login(running.engine, running.url, Role.hub_staff)
    assert hub.get(f"/console/copie-dati/{request_id}").status_code == 403
    assert hub.get("/console/copie-dati").status_code == 403
    hub.close()

    http, csrf = login(running.engine, running.url, Role.care_manager)
    listing = http.get("/console/copie-dati")
    assert listing.status_code == 200 and f'data-data-copy="{request_id}"' in listing.text
    queue = http.get("/console/coda")  # the Care Managers' queue lists it beside the erasures
    assert 'Richieste di una copia dei dati (<span data-count="data_copies">1<' in queue.text
    assert f'data-data-copy="{request_id}"' in queue.text
    page = http.get(f"/console/copie-dati/{request_id}")
    assert page.status_code == 200, page.text
    for words in ("Cosa contiene la copia", "Messaggi della chat", "Manda la copia</button>"):
        assert words in page.text, words
    counts = dict(re.findall(r"<tr><td>([^<]+)</td><td>(\d+)</td></tr>", page.text))
    assert int(counts["Messaggi della chat"]) >= 5  # /start, notice, Accetto, thanks, text...
    assert counts["Movimenti del budget welfare"] == "0"

    # without the box ticked nothing happens
    unticked = http.post(f"/console/copie-dati/{request_id}/invia", data={"csrf_token": csrf})
    assert unticked.status_code == 422 and "spunta la casella" in unticked.text
    assert fake_telegram.calls("sendDocument") == []

    # the first upload fails (Telegram down for a moment): the outbox sends it later
    fake_telegram.fail_next("sendDocument", error_code=502)
    mark = len(fake_telegram.calls())
    response = http.post(
        f"/console/copie-dati/{request_id}/invia", data={"csrf_token": csrf, "conferma": "si"}
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"].endswith("/copie-dati?msg=queued")
    fake_telegram.wait_sent(CHAT, "Ecco la copia dei tuoi dati", after=mark)
    pdf_call, json_call = _documents(fake_telegram, after=mark)
    assert {pdf_call.params["chat_id"], json_call.params["chat_id"]} == {CHAT}
    assert all(c.params.get("chat_id") != OTHER_CHAT for c in fake_telegram.calls()[mark:])
    pdf = pdf_call.params["document"]
    js = json_call.params["document"]
    assert pdf["filename"].endswith(".pdf") and pdf["content"].startswith(b"%PDF-")
    assert js["filename"].endswith(".json")
    data = json.loads(js["content"])
    assert data["schema"] == "welcome.data-copy" and data["channel"] == "telegram"
    assert any(m["text"] == "abito a Rifredi con mia figlia" for m in data["messages"])
    assert "PDF" in pdf_call.params["caption"] and "JSON" in json_call.params["caption"]

    with Session(running.engine) as session:
        assert data_copy.open_requests(session) == []
        entries = audit.recent(session, object_type="data_copy_request")
    actions = [e.action for e in reversed(entries)]
    assert actions == ["data_copy.requested", "data_copy.preview", "data_copy.sent"]
    sent = entries[0]
    assert sent.actor_id is not None
    for content in (pdf["content"], js["content"]):
        assert f"{len(content)} B sha256 {hashlib.sha256(content).hexdigest()}" in sent.detail
    assert "Rifredi" not in sent.detail

    # the request is done: sending again does nothing
    uploads = len(fake_telegram.calls("sendDocument"))
    again = http.post(
        f"/console/copie-dati/{request_id}/invia", data={"csrf_token": csrf, "conferma": "si"}
    )
    assert again.status_code == 303 and again.headers["location"].endswith("msg=gone")
    assert len(fake_telegram.calls("sendDocument")) == uploads
    http.close()


def test_a_conversation_erased_meanwhile_gets_nothing(
    running: RunningGateway,  # noqa: F811
    fake_telegram: FakeTelegram,
    tmp_path: Path,
) -> None:
    cid, request_id = _request(running, CHAT, fake_telegram)
    http, csrf = login(running.engine, running.url, Role.admin)
    assert http.get(f"/console/copie-dati/{request_id}").status_code == 200
    with session_scope(running.engine) as session:
        erase_conversation(
            session, conversation_id=cid, uploads_root=tmp_path / "var" / "uploads", now=utcnow()
        )
    page = http.get(f"/console/copie-dati/{request_id}")
    assert "non esiste più" in page.text and "Manda la copia</button>" not in page.text
    mark = len(fake_telegram.calls())
    refused = http.post(
        f"/console/copie-dati/{request_id}/invia", data={"csrf_token": csrf, "conferma": "si"}
    )
    assert refused.status_code == 409 and "non esiste più" in refused.text
    assert all(c.method != "sendDocument" for c in fake_telegram.calls()[mark:])
    # staff close it by hand, with its audit line
    done = http.post(f"/console/copie-dati/{request_id}/evasa", data={"csrf_token": csrf})
    assert done.status_code == 303 and done.headers["location"].endswith("msg=done")
    with Session(running.engine) as session:
        assert data_copy.open_requests(session) == []
        assert audit.recent(session, object_type="data_copy_request")[0].action == "data_copy.done"
    http.close()


# --- WhatsApp: uploaded to /media, then document messages ----------------------------------


def test_on_whatsapp_the_copy_is_uploaded_then_sent_as_documents(
    db_url: str,
    start_whatsapp: Callable[..., RunningGateway],  # noqa: F811
    fake_graph: FakeGraph,
) -> None:
    gateway = start_whatsapp(database_url=db_url, secret_key="test-secret-key-" + "x" * 32)
    whatsapp_consent(fake_graph)
    (conversation,) = gateway.conversations()
    with session_scope(gateway.engine) as session:
        request = data_copy.request_copy(
            session, conversation_id=conversation.conversation_id, source="rasa_action"
        )
    http, csrf = login(gateway.engine, gateway.url, Role.care_manager)
    response = http.post(
        f"/console/copie-dati/{request.id}/invia", data={"csrf_token": csrf, "conferma": "si"}
    )
    assert response.status_code == 303 and response.headers["location"].endswith("msg=sent")
    documents = [m for m in fake_graph.messages_to(WA) if m["type"] == "document"]
    assert [d["document"]["filename"][-4:] for d in documents] == [".pdf", "json"]
    uploaded = {media_id: (mime, size) for media_id, mime, size in fake_graph.uploads}
    pdf_id, json_id = (d["document"]["id"] for d in documents)
    assert uploaded[pdf_id][0] == "application/pdf"
    assert uploaded[json_id][0] == "text/plain"  # WhatsApp takes no application/json
    data = json.loads(fake_graph.media[json_id][0])
    assert data["channel"] == "whatsapp" and data["schema_version"] == 1
    http.close()


# --- the web chat: a download with the chat's own token ------------------------------------


def test_in_the_web_chat_the_copy_is_downloaded_with_the_chats_token(
    running: RunningGateway,  # noqa: F811
) -> None:
    chat = WebChat(running)
    chat.consent()
    (conversation,) = [c for c in running.conversations() if c.channel == "webchat"]
    with session_scope(running.engine) as session:
        request = data_copy.request_copy(
            session, conversation_id=conversation.conversation_id, source="rasa_action"
        )
    http, csrf = login(running.engine, running.url, Role.care_manager)
    response = http.post(
        f"/console/copie-dati/{request.id}/invia", data={"csrf_token": csrf, "conferma": "si"}
    )
    assert response.status_code == 303 and response.headers["location"].endswith("msg=sent")
    http.close()
    messages = chat.http.get("/api/chat/history").json()["messages"]
    documents = [m for m in messages if m.get("document")]
    assert [d["document"]["mime_type"] for d in documents] == [
        "application/pdf",
        "application/json",
    ]
    pdf = chat.http.get(f"/api/chat/documents/{documents[0]['id']}")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    assert pdf.headers["content-disposition"].startswith("attachment; filename=")
    assert pdf.headers["cache-control"] == "no-store"
    js = chat.http.get(f"/api/chat/documents/{documents[1]['id']}")
    assert json.loads(js.content)["channel"] == "webchat"
    assert len(js.content) == documents[1]["document"]["size_bytes"]

    # another chat's token, a message without a document, no token: nothing
    stranger = WebChat(running)
    stranger.consent()
    assert stranger.http.get(f"/api/chat/documents/{documents[0]['id']}").status_code == 404
    plain = next(m for m in messages if m["direction"] == "outbound" and not m.get("document"))
    assert chat.http.get(f"/api/chat/documents/{plain['id']}").status_code == 404
    assert running.client().get(f"/api/chat/documents/{documents[0]['id']}").status_code == 401


# --- with the real Rasa: the citizen's own words ---------------------------------------------

CHAT_RASA = 720_101


@pytest.mark.rasa
@pytest.mark.slow
@pytest.mark.timeout(900)
def test_from_the_citizens_words_to_the_document(
    e2e_gateway: RunningGateway,  # noqa: F811
    rasa_stack: RasaStack,
    fake_telegram: FakeTelegram,
) -> None:
    chat = Chat(fake_telegram, CHAT_RASA)
    accept_consent(fake_telegram, CHAT_RASA)
    cid = conversation_id(e2e_gateway, CHAT_RASA)

    def requests() -> int:
        with Session(e2e_gateway.engine) as session:
            return sum(r.conversation_id == cid for r in data_copy.open_requests(session))

    asked = chat.say("voglio una copia dei miei dati")
    assert "Vuoi ricevere una copia" in text_of(asked), text_of(asked)
    assert {"Sì, voglio la copia", "No, lascia stare"} <= set(buttons(asked))
    assert requests() == 0  # one message alone changes nothing
    done = chat.tap("Sì, voglio la copia")
    assert "in questa chat" in text_of(done), text_of(done)
    assert requests() == 1

    with Session(e2e_gateway.engine) as session:
        (request,) = [r for r in data_copy.open_requests(session) if r.conversation_id == cid]
    http, csrf = login(e2e_gateway.engine, e2e_gateway.url, Role.care_manager)
    assert http.get(f"/console/copie-dati/{request.id}").status_code == 200
    mark = len(fake_telegram.calls())
    response = http.post(
        f"/console/copie-dati/{request.id}/invia", data={"csrf_token": csrf, "conferma": "si"}
    )
    assert response.status_code == 303 and response.headers["location"].endswith("msg=sent")
    documents = _documents(fake_telegram, after=mark)
    assert [c.params["chat_id"] for c in documents] == [CHAT_RASA, CHAT_RASA]
    data = json.loads(documents[1].params["document"]["content"])
    assert any(m["text"] == "voglio una copia dei miei dati" for m in data["messages"])
    http.close()
