"""A file sent with a caption: always the reimbursement request for Rasa, the caption beside it
in the metadata and stored as the message's text; an emergency in a caption gets the emergency
answer. Telegram (fake Bot API), WhatsApp (fake Graph API) and the web chat, real gateway."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest
from sqlmodel import Session, select

from bot import wording
from care.models import ConversationFlag, FlagKind
from conversations.models import Attachment, Direction, Kind, Message, Mode, Status
from tests.fakes import fake_graph as graph
from tests.fakes.fake_graph import FakeGraph
from tests.fakes.fake_rasa import FakeRasa
from tests.fakes.fake_telegram import FakeTelegram
from tests.gateway.conftest import RunningGateway, accept_consent

CHAT = 555077
WA = "393339876543"
JPEG = b"\xff\xd8\xff\xe0" + os.urandom(3000)
PNG = b"\x89PNG\r\n\x1a\n" + os.urandom(2000)
EMERGENCY_CAPTION = "non voglio più vivere"


def _inbound_files(gateway: RunningGateway) -> list[Message]:
    return [
        m
        for m in gateway.messages()
        if m.direction == Direction.inbound and m.kind == Kind.attachment
    ]


def _attachments(gateway: RunningGateway) -> list[Attachment]:
    with Session(gateway.engine) as session:
        return list(session.exec(select(Attachment)))


def _flags(gateway: RunningGateway) -> list[ConversationFlag]:
    with Session(gateway.engine) as session:
        return list(session.exec(select(ConversationFlag)))


def _reimbursement_requests(fake_rasa: FakeRasa) -> list[dict[str, Any]]:
    return [r for r in fake_rasa.requests if r["message"] == "/request_reimbursement"]


# --- Telegram ---------------------------------------------------------------------------------


@pytest.fixture
def telegram_on(
    start_gateway: Callable[..., RunningGateway],
    fake_telegram: FakeTelegram,
    fake_rasa: FakeRasa,
    db_url: str,
) -> RunningGateway:
    running = start_gateway(
        db_url,
        telegram_bot_token=fake_telegram.token,
        telegram_api_base_url=fake_telegram.base_url,
        rasa_url=fake_rasa.url,
        action_server_url=fake_rasa.url,
    )
    fake_telegram.wait_for(lambda c: c.method == "setMyCommands", what="setMyCommands")
    running.wait_until(lambda: fake_telegram.poll_count > 0, what="the first getUpdates")
    return running


def test_a_telegram_photo_with_a_caption_starts_the_reimbursement(
    telegram_on: RunningGateway, fake_telegram: FakeTelegram, fake_rasa: FakeRasa
) -> None:
    accept_consent(fake_telegram, CHAT)
    fake_telegram.send_photo(CHAT, JPEG, caption="35 euro")  # sendPhoto-like update, captioned
    fake_telegram.wait_sent(CHAT, "ho ricevuto la ricevuta")
    (request,) = _reimbursement_requests(fake_rasa)
    assert "35 euro" not in fake_rasa.messages()  # the caption is never the intent
    (attachment,) = _attachments(telegram_on)
    assert request["metadata"]["attachment"] == {
        "id": attachment.id,
        "mime_type": "image/jpeg",
        "size_bytes": len(JPEG),
    }
    assert request["metadata"]["caption"] == "35 euro"
    (stored,) = _inbound_files(telegram_on)
    assert stored.text == "35 euro" and stored.data["attachment"]["id"] == attachment.id
    assert stored.status == Status.processed and attachment.message_id == stored.id

    mark = len(fake_telegram.calls())
    fake_telegram.send_document(  # a PDF with a caption that reads like a request of its own
        CHAT, b"%PDF-1.4\n...", "application/pdf", "ricevuta.pdf", caption="cerco un nido"
    )
    fake_telegram.wait_sent(CHAT, "ho ricevuto la ricevuta", after=mark)
    assert len(_reimbursement_requests(fake_rasa)) == 2
    assert fake_rasa.requests[-1]["metadata"]["caption"] == "cerco un nido"
    assert fake_rasa.requests[-1]["metadata"]["attachment"]["mime_type"] == "application/pdf"

    mark = len(fake_telegram.calls())
    fake_telegram.send_photo(CHAT, JPEG)  # without a caption: no caption in the metadata
    fake_telegram.wait_sent(CHAT, "ho ricevuto la ricevuta", after=mark)
    assert "caption" not in fake_rasa.requests[-1]["metadata"]


def test_an_emergency_in_a_telegram_caption_gets_the_emergency_answer(
    telegram_on: RunningGateway, fake_telegram: FakeTelegram, fake_rasa: FakeRasa
) -> None:
    accept_consent(fake_telegram, CHAT)
    fake_telegram.send_photo(CHAT, JPEG, caption=EMERGENCY_CAPTION)
    fake_telegram.wait_sent(CHAT, "1522")
    conversation = telegram_on.wait_until(
        lambda: next((c for c in telegram_on.conversations() if c.mode == Mode.human), None),
        what="human mode",
    )
    (flag,) = telegram_on.wait_until(lambda: _flags(telegram_on), what="the flag")
    assert flag.kind == FlagKind.emergency and flag.reason.startswith("safety_net:")
    assert flag.conversation_id == conversation.conversation_id
    (stored,) = telegram_on.wait_until(
        lambda: [m for m in _inbound_files(telegram_on) if m.data.get("safety")],
        what="the message marked by the safety net",
    )
    assert stored.text == EMERGENCY_CAPTION and stored.status == Status.processed
    assert _reimbursement_requests(fake_rasa) == [] and EMERGENCY_CAPTION not in str(
        fake_rasa.requests
    )


# --- WhatsApp ----------------------------------------------------------------------------------


@pytest.fixture
def whatsapp_on(
    start_gateway: Callable[..., RunningGateway], fake_graph: FakeGraph, fake_rasa: FakeRasa
) -> RunningGateway:
    running = start_gateway(
        whatsapp_access_token=graph.ACCESS_TOKEN,
        whatsapp_phone_number_id=graph.PHONE_NUMBER_ID,
        whatsapp_app_secret=graph.APP_SECRET,
        whatsapp_verify_token=graph.VERIFY_TOKEN,
        whatsapp_graph_base_url=fake_graph.base_url,
        whatsapp_api_version=graph.VERSION,
        rasa_url=fake_rasa.url,
        action_server_url=fake_rasa.url,
    )
    fake_graph.webhook_url = running.url + "/whatsapp/webhook"
    return running


def _whatsapp_consent(fake_graph: FakeGraph) -> None:
    assert fake_graph.deliver_text(WA, "ciao")[0] == 200
    notice = fake_graph.wait_text(WA, "Chi li tiene")
    buttons = (notice.body.get("interactive") or {})["action"]["buttons"]
    accept = next(b["reply"] for b in buttons if b["reply"]["title"] == "Accetto")
    fake_graph.deliver_button_reply(WA, accept["id"], accept["title"])
    fake_graph.wait_text(WA, "Grazie")


def test_a_whatsapp_image_with_a_caption_starts_the_reimbursement(
    whatsapp_on: RunningGateway, fake_graph: FakeGraph, fake_rasa: FakeRasa
) -> None:
    _whatsapp_consent(fake_graph)
    fake_graph.deliver_image(WA, PNG, "image/png", caption="scontrino farmacia 12,50")
    fake_graph.wait_text(WA, "ho ricevuto la ricevuta")
    (request,) = _reimbursement_requests(fake_rasa)
    (attachment,) = _attachments(whatsapp_on)
    assert request["metadata"]["attachment"]["id"] == attachment.id
    assert request["metadata"]["caption"] == "scontrino farmacia 12,50"
    (stored,) = _inbound_files(whatsapp_on)
    assert stored.text == "scontrino farmacia 12,50"


def test_an_emergency_in_a_whatsapp_caption_gets_the_emergency_answer(
    whatsapp_on: RunningGateway, fake_graph: FakeGraph, fake_rasa: FakeRasa
) -> None:
    _whatsapp_consent(fake_graph)
    fake_graph.deliver_image(WA, PNG, "image/png", caption=EMERGENCY_CAPTION)
    fake_graph.wait_text(WA, "1522")
    whatsapp_on.wait_until(
        lambda: any(c.mode == Mode.human for c in whatsapp_on.conversations()), what="human mode"
    )
    assert _reimbursement_requests(fake_rasa) == []


# --- web chat ------------------------------------------------------------------------------------


class _WebChat:
    def __init__(self, gateway: RunningGateway) -> None:
        self.gateway = gateway
        self.http = gateway.client()
        self.http.headers["Authorization"] = (
            "Bearer " + (self.http.post("/api/chat/session").json()["token"])
        )

    def send(self, **body: Any) -> None:
        body.setdefault("client_id", uuid.uuid4().hex)
        assert self.http.post("/api/chat/messages", json=body).status_code == 202

    def replies(self) -> list[dict[str, Any]]:
        messages = self.http.get("/api/chat/history").json()["messages"]
        return [m for m in messages if m["direction"] == "outbound" and m["status"] == "sent"]

    def wait_reply(self, contains: str) -> dict[str, Any]:
        return self.gateway.wait_until(
            lambda: next((m for m in self.replies() if contains in m["text"]), None),
            what=f"a reply containing {contains!r}",
        )

    def consent(self) -> None:
        self.send(command="start")
        notice = self.wait_reply("Chi li tiene")
        self.send(button=next(b["ref"] for b in notice["buttons"] if b["title"] == "Accetto"))
        self.wait_reply("Grazie")

    def upload(self, content: bytes, caption: str | None = None, *, raw: str = "") -> Any:
        headers = {"Content-Type": "application/octet-stream"}
        if caption is not None or raw:
            headers["X-Caption"] = raw or quote(caption or "")
        return self.http.post(
            "/api/chat/files",
            params={"client_id": uuid.uuid4().hex},
            content=content,
            headers=headers,
        )


@pytest.fixture
def web_on(start_gateway: Callable[..., RunningGateway], fake_rasa: FakeRasa) -> RunningGateway:
    return start_gateway(rasa_url=fake_rasa.url)


def test_a_web_chat_file_with_a_caption_starts_the_reimbursement(
    web_on: RunningGateway, fake_rasa: FakeRasa
) -> None:
    chat = _WebChat(web_on)
    chat.consent()
    too_long = chat.upload(JPEG, "è" * 1025)  # polite refusal, nothing kept
    assert too_long.status_code == 422 and "troppo lungo" in too_long.json()["detail"]
    garbled = chat.upload(JPEG, raw="%C3%28")  # not UTF-8
    assert garbled.status_code == 422 and "Non riesco a leggere" in garbled.json()["detail"]
    assert _attachments(web_on) == [] and _inbound_files(web_on) == []

    response = chat.upload(JPEG, "Ricevuta del nido, 35 €")
    assert response.status_code == 202
    chat.wait_reply("ho ricevuto la ricevuta")
    (request,) = _reimbursement_requests(fake_rasa)
    (attachment,) = _attachments(web_on)
    assert request["metadata"]["attachment"]["id"] == attachment.id
    assert request["metadata"]["caption"] == "Ricevuta del nido, 35 €"
    (stored,) = _inbound_files(web_on)
    assert stored.text == "Ricevuta del nido, 35 €"
    history = chat.http.get("/api/chat/history").json()["messages"]
    shown = next(m for m in history if m["kind"] == "attachment")
    assert shown["text"] == "Ricevuta del nido, 35 €" and shown["attachment"]["id"] == attachment.id


def test_an_emergency_in_a_web_chat_caption_gets_the_emergency_answer(
    web_on: RunningGateway, fake_rasa: FakeRasa
) -> None:
    chat = _WebChat(web_on)
    chat.consent()
    assert chat.upload(JPEG, EMERGENCY_CAPTION).status_code == 202
    chat.wait_reply(wording.EMERGENCY[:40])
    web_on.wait_until(
        lambda: any(c.mode == Mode.human for c in web_on.conversations()), what="human mode"
    )
    assert _reimbursement_requests(fake_rasa) == []
    (stored,) = _inbound_files(web_on)
    assert stored.text == EMERGENCY_CAPTION
