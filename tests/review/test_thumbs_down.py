"""👎 under search results, on Telegram, WhatsApp and the web chat (their fake APIs, the real
gateway): a tap puts the citizen's request in the review queue with what the model
understood of it, thanks the citizen, and never reaches Rasa."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import Engine

from bot.review_capture import THUMBS_DOWN, THUMBS_DOWN_THANKS
from tests.fakes.fake_graph import FakeGraph
from tests.fakes.fake_rasa import FakeRasa
from tests.fakes.fake_telegram import FakeTelegram
from tests.gateway.conftest import RunningGateway, accept_consent
from tests.gateway.test_webchat_api import Chat
from tests.gateway.test_whatsapp import WA, _consent
from tests.review.helpers import check_tapped, on_telegram, on_whatsapp
from tests.review.tracker_events import user_event

REQUEST = "cerco un corso di cucito per mia madre"
RESULTS = "Ho trovato 2 servizi:\n1. Corso di italiano\n2. Doposcuola"


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


def test_telegram(
    start_gateway: Callable[..., RunningGateway],
    fake_rasa: FakeRasa,
    fake_telegram: FakeTelegram,
    tracker: tuple[str, Engine],
    db_url: str,
) -> None:
    _searching_rasa(fake_rasa, tracker[1])
    gateway = on_telegram(start_gateway, fake_rasa, fake_telegram, tracker[0], database_url=db_url)
    chat = 650001
    accept_consent(fake_telegram, chat)
    fake_telegram.send_text(chat, REQUEST)
    fake_telegram.wait_sent(chat, "Ho trovato")
    fake_telegram.press(chat, THUMBS_DOWN.title)
    fake_telegram.wait_sent(chat, "Grazie di avermelo detto")
    check_tapped(gateway, fake_rasa, REQUEST, ("search_service", 0.93))


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
    check_tapped(gateway, fake_rasa, REQUEST, ("search_service", 0.93))


def test_whatsapp(
    start_gateway: Callable[..., RunningGateway],
    fake_rasa: FakeRasa,
    fake_graph: FakeGraph,
    tracker: tuple[str, Engine],
) -> None:
    _searching_rasa(fake_rasa, tracker[1])
    gateway = on_whatsapp(start_gateway, fake_rasa, fake_graph, tracker[0])
    _consent(fake_graph)
    fake_graph.deliver_text(WA, REQUEST)
    results = fake_graph.wait_text(WA, "Ho trovato")
    buttons = results.body["interactive"]["action"]["buttons"]
    thumbs = next(b["reply"] for b in buttons if b["reply"]["title"] == THUMBS_DOWN.title)
    fake_graph.deliver_button_reply(WA, thumbs["id"], thumbs["title"])
    fake_graph.wait_text(WA, "Grazie di avermelo detto")
    check_tapped(gateway, fake_rasa, REQUEST, ("search_service", 0.93))
