"""A safety rule's match with a figure of speech asks, through Rasa; the others page at once.

Issue 12: «ieri a carte ho preso delle botte dal nonno» fires the rule violence.hit_me, but
«a carte» is a word of the ``reported`` lists (data/safety/emergency_support*.yml): the
gateway pages nobody and lets the message go to Rasa, whose safety net gives it the ask
tier, so the citizen gets action_emergency's 112/1522 and «Sei in pericolo adesso?» (here
the fake Rasa answers with those very texts and buttons, as tests/gateway/
test_emergency_question.py does). The numbers never depend on Rasa: when Rasa is down the
gateway sends them itself at once, in the citizen's language, and when Rasa's answer has
no 112 (a model older than the rules) the gateway puts them before it. Where Rasa cannot
ask (before consent) the match pages at once, as before. tests/gateway/
test_safety_question_e2e.py runs the same with the real Rasa.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from actions.emergency import ASK_BUTTONS, ASK_TEXT, EMERGENCY_TEXT, HANDOFF_EMERGENCY
from bot import wording
from care.handoff_wording import EMERGENCY_NUMBERS
from conversations.models import Direction, Mode
from tests.fakes.fake_rasa import FakeRasa
from tests.fakes.fake_telegram import FakeTelegram
from tests.gateway.conftest import RunningGateway, accept_consent

CHAT = 555312
FIGURE = "ieri a carte ho preso delle botte incredibili dal nonno"
SELF_HARM_JOKE = "voglio uccidermi ahah"
ENGLISH_FIGURE = "i will kill myself if i have to fill in this form again haha"
DANGER = "mio marito mi picchia"
NUMBERS_START = EMERGENCY_NUMBERS.split(".")[0]  # «Se sei in pericolo chiama subito il 112»


def asks(request: dict[str, Any]) -> list[dict[str, Any]]:
    """Rasa as it answers a rule match of the ask tier (action_emergency, tier ask)."""
    sender = request.get("sender", "")
    message = str(request.get("message") or "")
    if message == "/emergency":
        return [
            {"recipient_id": sender, "text": EMERGENCY_TEXT},
            {"recipient_id": sender, "custom": HANDOFF_EMERGENCY},
        ]
    if message in (FIGURE, SELF_HARM_JOKE, ENGLISH_FIGURE):
        return [{"recipient_id": sender, "text": ASK_TEXT, "buttons": ASK_BUTTONS}]
    return [{"recipient_id": sender, "text": "Dimmi pure."}]


def stale(request: dict[str, Any]) -> list[dict[str, Any]]:
    """A Rasa whose model does not know the rule: it answers as to anything else."""
    return [{"recipient_id": request.get("sender", ""), "text": "Dimmi pure."}]


@pytest.fixture
def rasa() -> Iterator[FakeRasa]:
    fake = FakeRasa(responder=asks).start()
    yield fake
    fake.stop()


@pytest.fixture
def gateway(
    start_gateway: Callable[..., RunningGateway], fake_telegram: FakeTelegram, rasa: FakeRasa
) -> RunningGateway:
    running = start_gateway(
        telegram_bot_token=fake_telegram.token,
        telegram_api_base_url=fake_telegram.base_url,
        rasa_url=rasa.url,
        action_server_url=rasa.url,
    )
    running.wait_until(lambda: fake_telegram.poll_count > 0, what="the first getUpdates")
    return running


def mode(gateway: RunningGateway) -> Mode:
    conversation = next(c for c in gateway.conversations() if c.chat_key == str(CHAT))
    return Mode(conversation.mode)


def sent_texts(telegram: FakeTelegram, after: int) -> list[str]:
    return [
        str(c.params.get("text") or "")
        for c in telegram.calls()[after:]
        if c.status == 200 and c.method == "sendMessage" and c.params.get("chat_id") == CHAT
    ]


@pytest.mark.parametrize("text", [FIGURE, SELF_HARM_JOKE])
def test_a_figure_of_speech_asks_through_rasa_and_pages_nobody(
    gateway: RunningGateway, fake_telegram: FakeTelegram, rasa: FakeRasa, text: str
) -> None:
    accept_consent(fake_telegram, CHAT)
    mark = len(fake_telegram.calls())
    fake_telegram.send_text(CHAT, text)
    asked = fake_telegram.wait_sent(CHAT, "Sei in pericolo adesso?", after=mark)
    assert "112" in asked.params["text"] and "1522" in asked.params["text"]
    keyboard = asked.params["reply_markup"]["inline_keyboard"]
    assert [b["text"] for row in keyboard for b in row] == ["Sì", "No"]
    assert rasa.messages()[-1] == text  # the gateway let Rasa read it
    assert gateway.flags() == []  # nobody paged
    assert mode(gateway) == Mode.bot
    assert not any("Ho avvisato un operatore" in t for t in sent_texts(fake_telegram, mark))
    inbound = [m for m in gateway.messages() if m.direction == Direction.inbound]
    assert inbound[-1].data["safety"]["tier"] == "ask"

    fake_telegram.press(CHAT, "Sì")  # «Sì» opens the top-priority hand-off
    fake_telegram.wait_sent(CHAT, "Ho avvisato subito un operatore", after=mark)
    gateway.wait_until(lambda: gateway.flags() == [("emergency", "top")], what="a top flag")
    gateway.wait_until(lambda: mode(gateway) == Mode.human, what="the conversation with a person")


def test_a_rule_match_without_a_figure_still_pages_at_once(
    gateway: RunningGateway, fake_telegram: FakeTelegram, rasa: FakeRasa
) -> None:
    accept_consent(fake_telegram, CHAT)
    before = rasa.messages()
    fake_telegram.send_text(CHAT, DANGER)
    numbers = fake_telegram.wait_sent(CHAT, "Ho avvisato un operatore")
    assert numbers.params["text"] == wording.EMERGENCY
    gateway.wait_until(lambda: gateway.flags() == [("emergency", "top")], what="a top flag")
    gateway.wait_until(lambda: mode(gateway) == Mode.human, what="the conversation with a person")
    assert rasa.messages() == before  # never queued behind Rasa


def test_rasa_down_the_numbers_go_out_at_once_then_rasa_asks(
    gateway: RunningGateway, fake_telegram: FakeTelegram, rasa: FakeRasa
) -> None:
    accept_consent(fake_telegram, CHAT)
    rasa.stop()
    mark = len(fake_telegram.calls())
    fake_telegram.send_text(CHAT, FIGURE)
    numbers = fake_telegram.wait_sent(CHAT, NUMBERS_START, after=mark)
    assert "1522" in numbers.params["text"]
    fake_telegram.wait_sent(CHAT, wording.UNAVAILABLE.split(",")[0], after=mark)
    assert gateway.flags() == []

    rasa.start()  # the outbox retries: Rasa asks, the numbers are not sent a second time
    fake_telegram.wait_sent(CHAT, "Sei in pericolo adesso?", after=mark, timeout=20.0)
    texts = sent_texts(fake_telegram, mark)
    assert sum(NUMBERS_START in t for t in texts) == 1
    assert gateway.flags() == []
    assert mode(gateway) == Mode.bot


def test_rasa_down_the_numbers_are_in_the_citizen_language(
    gateway: RunningGateway, fake_telegram: FakeTelegram, rasa: FakeRasa
) -> None:
    accept_consent(fake_telegram, CHAT)
    mark = len(fake_telegram.calls())
    fake_telegram.send_text(CHAT, "/lingua en")
    fake_telegram.wait_sent(CHAT, "English", after=mark)
    rasa.stop()
    mark = len(fake_telegram.calls())
    fake_telegram.send_text(CHAT, ENGLISH_FIGURE)
    numbers = fake_telegram.wait_sent(CHAT, "call 112", after=mark)
    assert "1522" in numbers.params["text"] and "chiama" not in numbers.params["text"]
    assert gateway.flags() == []


def test_a_rasa_that_does_not_ask_still_gets_the_numbers_sent(
    gateway: RunningGateway, fake_telegram: FakeTelegram, rasa: FakeRasa
) -> None:
    rasa.responder = stale
    accept_consent(fake_telegram, CHAT)
    mark = len(fake_telegram.calls())
    fake_telegram.send_text(CHAT, FIGURE)
    fake_telegram.wait_sent(CHAT, "Dimmi pure.", after=mark)
    texts = sent_texts(fake_telegram, mark)
    assert texts[0].startswith(NUMBERS_START) and texts[1] == "Dimmi pure."
    assert gateway.flags() == []


def test_before_consent_a_figure_of_speech_still_pages_at_once(
    gateway: RunningGateway, fake_telegram: FakeTelegram, rasa: FakeRasa
) -> None:
    # Rasa, which asks the question, reads nothing before consent: never less than the page
    fake_telegram.send_text(CHAT, FIGURE)
    fake_telegram.wait_sent(CHAT, "Ho avvisato un operatore")
    gateway.wait_until(lambda: gateway.flags() == [("emergency", "top")], what="a top flag")
    assert rasa.requests == []
