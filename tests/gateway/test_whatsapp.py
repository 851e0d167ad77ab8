"""WhatsApp end to end against the fake Graph API: signed webhooks in, Cloud API calls out."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from conversations.models import Attachment, Conversation, DeliveryEvent, Direction, Mode, Status
from core.timeutil import utcnow
from tests.fakes import fake_graph as graph
from tests.fakes.fake_graph import FakeGraph
from tests.fakes.fake_rasa import FakeRasa
from tests.gateway.conftest import RunningGateway

WA = "393331234567"


def _interactive(body: dict) -> dict:
    return body.get("interactive") or {}


@pytest.fixture
def start_whatsapp(
    start_gateway: Callable[..., RunningGateway], fake_graph: FakeGraph, fake_rasa: FakeRasa
) -> Callable[..., RunningGateway]:
    def start(**overrides: object) -> RunningGateway:
        running = start_gateway(
            whatsapp_access_token=graph.ACCESS_TOKEN,
            whatsapp_phone_number_id=graph.PHONE_NUMBER_ID,
            whatsapp_app_secret=graph.APP_SECRET,
            whatsapp_verify_token=graph.VERIFY_TOKEN,
            whatsapp_graph_base_url=fake_graph.base_url,
            whatsapp_api_version=graph.VERSION,
            rasa_url=fake_rasa.url,
            **overrides,
        )
        fake_graph.webhook_url = running.url + "/whatsapp/webhook"
        return running

    return start


@pytest.fixture
def whatsapp_gateway(start_whatsapp: Callable[..., RunningGateway]) -> RunningGateway:
    return start_whatsapp()


def _consent(fake_graph: FakeGraph) -> None:
    assert fake_graph.deliver_text(WA, "ciao")[0] == 200
    notice = fake_graph.wait_text(WA, "Chi li tiene")
    buttons = _interactive(notice.body)["action"]["buttons"]
    accept = next(b["reply"] for b in buttons if b["reply"]["title"] == "Accetto")
    fake_graph.deliver_button_reply(WA, accept["id"], accept["title"])
    fake_graph.wait_text(WA, "Grazie")


def test_verification_handshake(whatsapp_gateway: RunningGateway) -> None:
    with whatsapp_gateway.client() as client:
        ok = client.get(
            "/whatsapp/webhook",
            params={
                "hub.mode": "subscribe",
                "hub.verify_token": graph.VERIFY_TOKEN,
                "hub.challenge": "1158201444",
            },
        )
        assert ok.status_code == 200 and ok.text == "1158201444"
        for params in (
            {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
            {
                "hub.mode": "unsubscribe",
                "hub.verify_token": graph.VERIFY_TOKEN,
                "hub.challenge": "1",
            },
            {},
        ):
            assert client.get("/whatsapp/webhook", params=params).status_code == 403


def test_forged_webhooks_are_refused(
    whatsapp_gateway: RunningGateway, fake_graph: FakeGraph
) -> None:
    body = json.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": "1",
                    "changes": [
                        {
                            "field": "messages",
                            "value": {
                                "metadata": {"phone_number_id": graph.PHONE_NUMBER_ID},
                                "messages": [
                                    {
                                        "from": WA,
                                        "id": "wamid.forged",
                                        "timestamp": "1",
                                        "type": "text",
                                        "text": {"body": "ciao"},
                                    }
                                ],
                            },
                        }
                    ],
                }
            ],
        }
    ).encode()
    assert fake_graph.post_webhook(body, sign_with=None) == 403
    assert fake_graph.post_webhook(body, sign_with="another-secret") == 403
    with whatsapp_gateway.client() as client:
        tampered = body.replace(b"ciao", b"CIAO")
        headers = {"X-Hub-Signature-256": graph.sign(body), "Content-Type": "application/json"}
        assert (
            client.post("/whatsapp/webhook", content=tampered, headers=headers).status_code == 403
        )
        assert (
            client.post(
                "/whatsapp/webhook",
                content=b"{bad",
                headers={"X-Hub-Signature-256": graph.sign(b"{bad")},
            ).status_code
            == 400
        )
    assert whatsapp_gateway.conversations() == []
    assert fake_graph.post_webhook(body) == 200  # the same body, correctly signed


def test_consent_search_buttons_and_lists(
    whatsapp_gateway: RunningGateway, fake_graph: FakeGraph, fake_rasa: FakeRasa
) -> None:
    _consent(fake_graph)
    assert fake_rasa.requests == []
    fake_graph.deliver_text(WA, "cerco un doposcuola")
    results = fake_graph.wait_text(WA, "Ho trovato")
    interactive = _interactive(results.body)
    assert interactive["type"] == "button" and len(interactive["action"]["buttons"]) == 3
    more = interactive["action"]["buttons"][2]["reply"]
    assert more["title"] == "Altri risultati" and more["id"].startswith("b:")
    fake_graph.deliver_button_reply(WA, more["id"], more["title"])
    fake_graph.wait_text(WA, "Altri risultati (3-4 di 4)")
    assert fake_rasa.messages()[-1] == "/more_results"
    conversation = whatsapp_gateway.conversations()[0]
    assert fake_rasa.requests[-1]["sender"] == conversation.conversation_id
    assert WA not in json.dumps(fake_rasa.requests)  # Rasa never sees the phone number


def test_many_buttons_become_a_list(
    whatsapp_gateway: RunningGateway, fake_graph: FakeGraph, fake_rasa: FakeRasa
) -> None:
    quartieri = [
        "Centro Storico",
        "Campo di Marte",
        "Gavinana-Galluzzo",
        "Isolotto-Legnaia (Quartiere 4, zona ovest)",
        "Rifredi",
    ]
    fake_rasa.responder = lambda request: [
        {
            "text": "In che quartiere?",
            "buttons": [
                {"title": q, "payload": f'/inform{{"neighbourhood":"Q{i}"}}'}
                for i, q in enumerate(quartieri, 1)
            ],
        }
    ]
    _consent(fake_graph)
    fake_graph.deliver_text(WA, "dove?")
    sent = fake_graph.wait_text(WA, "In che quartiere?")
    interactive = _interactive(sent.body)
    assert interactive["type"] == "list"
    rows = interactive["action"]["sections"][0]["rows"]
    assert len(rows) == 6 and all(len(r["title"]) <= 24 for r in rows)
    assert rows[5]["title"] == "👎 Non era questo"  # an answer to typed words (review_capture)
    assert rows[3]["description"].startswith("Isolotto-Legnaia")
    fake_graph.deliver_list_reply(WA, rows[4]["id"], rows[4]["title"])
    fake_graph.wait_for(lambda s: len(fake_rasa.requests) >= 2, what="the list reply in Rasa")
    assert fake_rasa.requests[-1]["message"] == '/inform{"neighbourhood":"Q5"}'


def test_location_and_location_request(
    whatsapp_gateway: RunningGateway, fake_graph: FakeGraph, fake_rasa: FakeRasa
) -> None:
    _consent(fake_graph)
    fake_rasa.responder = lambda request: (
        [{"text": "Dove ti trovi?"}, {"custom": {"type": "location_request"}}]
        if request["message"] != "/find_welcome_point"
        else [{"text": "Ecco i Welcome Point più vicini a te"}]
    )
    fake_graph.deliver_text(WA, "dove è lo sportello?")
    asked = fake_graph.wait_text(WA, "Dove ti trovi?")
    assert _interactive(asked.body)["type"] == "location_request_message"
    fake_graph.deliver_location(WA, 43.7765, 11.2479)
    fake_graph.wait_text(WA, "Welcome Point più vicini")
    assert fake_rasa.requests[-1]["metadata"]["location"] == {"lat": 43.7765, "lon": 11.2479}


def test_statuses_are_stored_and_only_move_forward(
    whatsapp_gateway: RunningGateway, fake_graph: FakeGraph
) -> None:
    _consent(fake_graph)
    fake_graph.deliver_text(WA, "ciao di nuovo")
    sent = fake_graph.wait_text(WA, "Hai scritto: ciao di nuovo")
    whatsapp_gateway.wait_until(  # (a status arriving earlier waits in memory for this)
        lambda: any(m.external_id == sent.wamid for m in whatsapp_gateway.messages())
    )
    assert fake_graph.deliver_status(sent.wamid, "delivered", WA) == 200
    assert fake_graph.deliver_status(sent.wamid, "read", WA) == 200
    assert fake_graph.deliver_status(sent.wamid, "delivered", WA) == 200  # late, out of order
    message = next(m for m in whatsapp_gateway.messages() if m.external_id == sent.wamid)
    assert message.status == Status.read
    with Session(whatsapp_gateway.engine) as session:
        events = session.exec(
            select(DeliveryEvent).where(DeliveryEvent.message_id == message.id)
        ).all()
    assert [e.status for e in events] == ["sent", "delivered", "read", "delivered"]


def test_outside_the_24_hour_window_a_template_invites_the_citizen_back(
    start_whatsapp: Callable[..., RunningGateway],
    fake_graph: FakeGraph,
    caplog: pytest.LogCaptureFixture,
) -> None:
    running = start_whatsapp(whatsapp_template_name="welcome_riprendi")
    _consent(fake_graph)
    conversation = running.conversations()[0]
    fake_graph.close_window(WA)
    with Session(running.engine) as session:  # the citizen last wrote 25 hours ago
        row = session.get(Conversation, conversation.id)
        row.last_inbound_at = utcnow() - timedelta(hours=25)
        session.add(row)
        session.commit()
    caplog.set_level(logging.WARNING)
    gateway = running.app.state.gateway
    held = running.call(gateway.send_text(conversation.conversation_id, "La tua pratica è pronta."))
    template = fake_graph.wait_for(lambda s: s.body.get("type") == "template", what="the template")
    assert template.body["template"] == {"name": "welcome_riprendi", "language": {"code": "it"}}
    stored = next(m for m in running.messages() if m.id == held.id)
    assert stored.status == Status.awaiting_window
    assert (
        "24-hour window closed" in caplog.text and "template welcome_riprendi sent" in caplog.text
    )
    assert not any("pratica" in str(b) for b in fake_graph.messages_to(WA))

    fake_graph.deliver_text(WA, "eccomi")
    fake_graph.wait_text(WA, "La tua pratica è pronta.")
    fake_graph.wait_text(WA, "Hai scritto: eccomi")
    templates = [s for s in fake_graph.sent if s.body.get("type") == "template"]
    assert len(templates) == 1


def test_a_refusal_outside_the_window_holds_the_message(
    whatsapp_gateway: RunningGateway, fake_graph: FakeGraph
) -> None:
    _consent(fake_graph)
    fake_graph.close_window(WA)  # our view says open, Meta says closed (clock skew)
    fake_graph.deliver_text(WA, "ciao")  # reopens it... then close again before the reply
    fake_graph.wait_text(WA, "Hai scritto: ciao")
    fake_graph.close_window(WA)
    gateway = whatsapp_gateway.app.state.gateway
    conversation = whatsapp_gateway.conversations()[0]
    held = whatsapp_gateway.call(gateway.send_text(conversation.conversation_id, "Promemoria"))
    stored = next(m for m in whatsapp_gateway.messages() if m.id == held.id)
    assert stored.status == Status.awaiting_window and stored.error == "whatsapp:window-closed"


def test_rate_limits_are_retried(whatsapp_gateway: RunningGateway, fake_graph: FakeGraph) -> None:
    _consent(fake_graph)
    fake_graph.fail_next_rate_limit(times=2)
    fake_graph.deliver_text(WA, "ciao")
    fake_graph.wait_text(WA, "Hai scritto: ciao")
    refused = [s for s in fake_graph.sent if s.status == 429]
    assert len(refused) == 2


def test_images_are_downloaded_and_kept(
    whatsapp_gateway: RunningGateway, fake_graph: FakeGraph, fake_rasa: FakeRasa
) -> None:
    _consent(fake_graph)
    content = b"\x89PNG\r\n\x1a\n" + os.urandom(2000)
    fake_graph.deliver_image(WA, content, "image/png", caption="scontrino farmacia")
    fake_graph.wait_text(WA, "ricevuto la ricevuta")
    assert fake_rasa.requests[-1]["metadata"]["attachment"]["mime_type"] == "image/png"
    with Session(whatsapp_gateway.engine) as session:
        (attachment,) = session.exec(select(Attachment)).all()
    assert attachment.size_bytes == len(content)


def test_duplicates_voice_and_emergencies(
    whatsapp_gateway: RunningGateway, fake_graph: FakeGraph, fake_rasa: FakeRasa
) -> None:
    status, wamid = fake_graph.deliver_text(WA, "non voglio più vivere")
    assert status == 200
    fake_graph.wait_text(WA, "1522")
    assert fake_graph.deliver_text(WA, "non voglio più vivere", wamid=wamid)[0] == 200  # again
    conversation = whatsapp_gateway.wait_until(
        lambda: next((c for c in whatsapp_gateway.conversations() if c.mode == Mode.human), None)
    )
    inbound = [m for m in whatsapp_gateway.messages() if m.direction == Direction.inbound]
    assert len(inbound) == 1 and conversation.consent_at is None
    fake_graph.deliver_audio(WA)
    whatsapp_gateway.wait_until(
        lambda: (
            len([m for m in whatsapp_gateway.messages() if m.direction == Direction.inbound]) == 2
        )
    )
    assert fake_rasa.requests == []
