"""👎 under search results, on Telegram, WhatsApp and the web chat (their fake APIs, the real
gateway): a tap puts the citizen's request in the review queue with what the model
understood of it, thanks the citizen, and never reaches Rasa."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.review_capture import THUMBS_DOWN, THUMBS_DOWN_THANKS
from core.db import make_engine
from review.models import Reason, ReviewItem
from tests.fakes import fake_graph as graph
from tests.fakes.fake_graph import FakeGraph
from tests.fakes.fake_rasa import FakeRasa
from tests.fakes.fake_telegram import FakeTelegram
from tests.gateway.conftest import RunningGateway, accept_consent
from tests.gateway.test_webchat_api import Chat
from tests.gateway.test_whatsapp import WA, _consent
from tests.review.tracker_events import user_event

REQUEST = "cerco un corso di cucito per mia madre"
RESULTS = "Ho trovato 2 servizi:\n1. Corso di italiano\n2. Doposcuola"


@pytest.fixture
def tracker(tmp_path: Path) -> tuple[str, Engine]:
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    return url, make_engine(url)


def _searching_rasa(fake_rasa: FakeRasa, tracker: Engine) -> None:
    def answer(request: dict[str, Any]) -> list[dict[str, Any]]:
        sender = request["sender"]
        user_event(
            tracker, sender=sender, text=str(request["message"]),
            message_id=request["metadata"]["message_id"], intent="search_service",
            confidence=0.93, actions=("action_search_services",),
        )  # fmt: skip
        buttons = [{"title": "Dettagli 1", "payload": '/service_details{"service_code":"S1"}'}]
        return [
            {"recipient_id": sender, "text": RESULTS, "buttons": buttons},
            {"recipient_id": sender, "custom": {"type": "page", "page_key": "search_results"}},
        ]

    fake_rasa.responder = answer


def _queued(gateway: RunningGateway) -> list[ReviewItem]:
    with Session(gateway.engine) as session:
        return list(session.exec(select(ReviewItem)))


def _check(gateway: RunningGateway, fake_rasa: FakeRasa) -> None:
    items = gateway.wait_until(lambda: _queued(gateway), what="the review item")
    assert len(items) == 1
    item = items[0]
    assert item.reasons == [Reason.citizen_thumbs_down]
    assert (item.intent, item.confidence) == ("search_service", 0.93)
    asked = next(m for m in gateway.messages() if m.id == item.message_id)
    assert asked.text == REQUEST
    assert fake_rasa.messages() == [REQUEST]  # the tap never reached Rasa


def test_telegram(
    start_gateway: Callable[..., RunningGateway],
    fake_rasa: FakeRasa,
    fake_telegram: FakeTelegram,
    tracker: tuple[str, Engine],
    db_url: str,
) -> None:
    _searching_rasa(fake_rasa, tracker[1])
    gateway = start_gateway(
        database_url=db_url,
        telegram_bot_token=fake_telegram.token,
        telegram_api_base_url=fake_telegram.base_url,
        rasa_url=fake_rasa.url,
        action_server_url=fake_rasa.url,
        rasa_tracker_db_url=tracker[0],
    )
    gateway.wait_until(lambda: fake_telegram.poll_count > 0, what="polling")
    chat = 650001
    accept_consent(fake_telegram, chat)
    fake_telegram.send_text(chat, REQUEST)
    fake_telegram.wait_sent(chat, "Ho trovato")
    fake_telegram.press(chat, THUMBS_DOWN.title)
    fake_telegram.wait_sent(chat, "Grazie di avermelo detto")
    _check(gateway, fake_rasa)


def test_web_chat(
    start_gateway: Callable[..., RunningGateway],
    fake_rasa: FakeRasa,
    tracker: tuple[str, Engine],
) -> None:
    _searching_rasa(fake_rasa, tracker[1])
    gateway = start_gateway(rasa_url=fake_rasa.url, rasa_tracker_db_url=tracker[0])
    chat = Chat(gateway)
    chat.consent()
    chat.send(text=REQUEST)
    results = chat.wait_reply("Ho trovato")
    assert [b["title"] for b in results["buttons"]] == ["Dettagli 1", THUMBS_DOWN.title]
    chat.send(button=results["buttons"][1]["ref"])
    assert chat.wait_reply("Grazie di avermelo detto")["text"] == THUMBS_DOWN_THANKS
    _check(gateway, fake_rasa)


def test_whatsapp(
    start_gateway: Callable[..., RunningGateway],
    fake_rasa: FakeRasa,
    fake_graph: FakeGraph,
    tracker: tuple[str, Engine],
) -> None:
    _searching_rasa(fake_rasa, tracker[1])
    gateway = start_gateway(
        whatsapp_access_token=graph.ACCESS_TOKEN,
        whatsapp_phone_number_id=graph.PHONE_NUMBER_ID,
        whatsapp_app_secret=graph.APP_SECRET,
        whatsapp_verify_token=graph.VERIFY_TOKEN,
        whatsapp_graph_base_url=fake_graph.base_url,
        whatsapp_api_version=graph.VERSION,
        rasa_url=fake_rasa.url,
        rasa_tracker_db_url=tracker[0],
    )
    fake_graph.webhook_url = gateway.url + "/whatsapp/webhook"
    _consent(fake_graph)
    fake_graph.deliver_text(WA, REQUEST)
    results = fake_graph.wait_text(WA, "Ho trovato")
    buttons = results.body["interactive"]["action"]["buttons"]
    thumbs = next(b["reply"] for b in buttons if b["reply"]["title"] == THUMBS_DOWN.title)
    fake_graph.deliver_button_reply(WA, thumbs["id"], thumbs["title"])
    fake_graph.wait_text(WA, "Grazie di avermelo detto")
    _check(gateway, fake_rasa)
