"""«Sei in pericolo adesso?» on Telegram and in the web chat (issue 12 point 2).

Rasa answers as action_emergency does in its two tiers (the very texts, buttons and
payload of actions/emergency.py): a less sure emergency gets 112/1522 and the question with
the buttons Sì / No and pages nobody; «Sì» sends /emergency, whose answer carries the
top-priority hand-off, and the conversation goes to a person; «No» goes on with the bot.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from actions.emergency import ASK_BUTTONS, ASK_TEXT, EMERGENCY_TEXT, HANDOFF_EMERGENCY
from conversations.models import Mode
from tests.fakes.fake_rasa import FakeRasa
from tests.fakes.fake_telegram import FakeTelegram
from tests.gateway.conftest import RunningGateway, accept_consent

CHAT = 555077
UNSURE = "non so come dirlo, stasera è strano"
NOT_IN_DANGER = "Bene, mi fa piacere."


def tiers(request: dict[str, Any]) -> list[dict[str, Any]]:
    sender = request.get("sender", "")
    message = str(request.get("message") or "")
    if message == "/emergency":
        return [
            {"recipient_id": sender, "text": EMERGENCY_TEXT},
            {"recipient_id": sender, "custom": HANDOFF_EMERGENCY},
        ]
    if message == "/deny":
        return [{"recipient_id": sender, "text": f"{NOT_IN_DANGER} Come posso aiutarti?"}]
    if message == UNSURE:
        return [{"recipient_id": sender, "text": ASK_TEXT, "buttons": ASK_BUTTONS}]
    return [{"recipient_id": sender, "text": "Dimmi pure."}]


@pytest.fixture
def tier_rasa() -> Any:
    rasa = FakeRasa(responder=tiers).start()
    yield rasa
    rasa.stop()


def test_telegram_asks_then_yes_pages_a_person(
    start_gateway: Callable[..., RunningGateway], fake_telegram: FakeTelegram, tier_rasa: FakeRasa
) -> None:
    gateway = start_gateway(
        telegram_bot_token=fake_telegram.token,
        telegram_api_base_url=fake_telegram.base_url,
        rasa_url=tier_rasa.url,
        action_server_url=tier_rasa.url,
    )
    gateway.wait_until(lambda: fake_telegram.poll_count > 0, what="the first getUpdates")
    accept_consent(fake_telegram, CHAT)
    fake_telegram.send_text(CHAT, UNSURE)
    asked = fake_telegram.wait_sent(CHAT, "Sei in pericolo adesso?")
    assert "112" in asked.params["text"] and "1522" in asked.params["text"]
    keyboard = asked.params["reply_markup"]["inline_keyboard"]
    assert [b["text"] for row in keyboard for b in row] == ["Sì", "No"]
    assert gateway.flags() == []  # asked, nobody paged

    fake_telegram.press(CHAT, "Sì")
    fake_telegram.wait_sent(CHAT, "Ho avvisato subito un operatore")
    assert tier_rasa.messages()[-1] == "/emergency"
    gateway.wait_until(lambda: gateway.flags() == [("emergency", "top")], what="a top flag")
    # the switch to a person follows the flag, in its own transaction
    gateway.wait_until(
        lambda: (
            next(c for c in gateway.conversations() if c.chat_key == str(CHAT)).mode == Mode.human
        ),
        what="the conversation with a person",
    )


def test_web_chat_asks_then_no_goes_on(
    start_gateway: Callable[..., RunningGateway], tier_rasa: FakeRasa
) -> None:
    gateway = start_gateway(rasa_url=tier_rasa.url)
    http = gateway.client()
    http.headers["Authorization"] = "Bearer " + http.post("/api/chat/session").json()["token"]

    def send(**body: Any) -> None:
        http.post("/api/chat/messages", json={"client_id": uuid.uuid4().hex, **body})

    def reply(contains: str) -> dict[str, Any]:
        def found() -> dict[str, Any] | None:
            messages = http.get("/api/chat/history").json()["messages"]
            return next(
                (
                    m
                    for m in messages
                    if m["direction"] == "outbound"
                    and contains in m["text"]
                    and m["status"] == "sent"
                ),
                None,
            )

        return gateway.wait_until(found, what=f"a reply containing {contains!r}")

    send(command="start")
    notice = reply("Chi li tiene")
    send(button=next(b for b in notice["buttons"] if b["title"] == "Accetto")["ref"])
    reply("Grazie")
    send(text=UNSURE)
    asked = reply("Sei in pericolo adesso?")
    assert "112" in asked["text"] and "1522" in asked["text"]
    assert [b["title"] for b in asked["buttons"]] == ["Sì", "No"]
    send(button=next(b for b in asked["buttons"] if b["title"] == "No")["ref"])
    reply(NOT_IN_DANGER)
    assert tier_rasa.messages()[-1] == "/deny"
    assert gateway.flags() == []
    conversation = gateway.conversations()[0]
    assert conversation.mode == Mode.bot
