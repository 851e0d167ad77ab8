"""A safety rule's match with a figure of speech, end to end with the real Rasa (issue 12).

The gateway's safety net matches «ieri a carte ho preso delle botte incredibili dal nonno»
(violence.hit_me) but «a carte» is a word of the reported lists: it pages nobody and lets
the message go to Rasa, whose IntentGate and SafetyNet give the match the ask tier, and
action_emergency answers with 112/1522 and «Sei in pericolo adesso?». «No» goes on with
the bot; nobody is paged. A rule match without such a word still pages at once.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from conversations.models import Mode
from devtools.stack import RasaStack
from tests.fakes.fake_telegram import FakeTelegram
from tests.gateway.conftest import RunningGateway, accept_consent

pytestmark = [pytest.mark.rasa, pytest.mark.slow, pytest.mark.timeout(900)]

FIGURE_CHAT = 700312
DANGER_CHAT = 700313
FIGURE = "ieri a carte ho preso delle botte incredibili dal nonno"


@pytest.fixture
def e2e_gateway(
    start_gateway: Callable[..., RunningGateway], rasa_stack: RasaStack, fake_telegram: FakeTelegram
) -> RunningGateway:
    running = start_gateway(
        database_url=rasa_stack.database_url,
        rasa_url=rasa_stack.rasa_url,
        rasa_auth_token=rasa_stack.token,
        action_server_url=rasa_stack.action_url.rsplit("/webhook", 1)[0],
        rasa_timeout_seconds=30.0,
        telegram_bot_token=fake_telegram.token,
        telegram_api_base_url=fake_telegram.base_url,
    )
    running.wait_until(lambda: fake_telegram.poll_count > 0, what="polling")
    return running


def _mode(gateway: RunningGateway, chat: int) -> Mode:
    conversation = next(c for c in gateway.conversations() if c.chat_key == str(chat))
    return Mode(conversation.mode)


def test_a_figure_of_speech_gets_the_question_from_rasa_and_no_page(
    e2e_gateway: RunningGateway, fake_telegram: FakeTelegram
) -> None:
    accept_consent(fake_telegram, FIGURE_CHAT)
    mark = len(fake_telegram.calls())
    fake_telegram.send_text(FIGURE_CHAT, FIGURE)
    asked = fake_telegram.wait_sent(FIGURE_CHAT, "Sei in pericolo adesso?", after=mark, timeout=60)
    assert "112" in asked.params["text"] and "1522" in asked.params["text"]
    keyboard = asked.params["reply_markup"]["inline_keyboard"]
    assert [b["text"] for row in keyboard for b in row][:2] == ["Sì", "No"]
    assert e2e_gateway.flags(FIGURE_CHAT) == []
    assert _mode(e2e_gateway, FIGURE_CHAT) == Mode.bot

    fake_telegram.press(FIGURE_CHAT, "No")
    fake_telegram.wait_for(
        lambda c: (
            c.status == 200
            and c.method == "sendMessage"
            and c.params.get("chat_id") == FIGURE_CHAT
            and fake_telegram.state.calls.index(c) > fake_telegram.state.calls.index(asked)
        ),
        timeout=60,
        what="the answer to «No»",
    )
    assert e2e_gateway.flags(FIGURE_CHAT) == []
    assert _mode(e2e_gateway, FIGURE_CHAT) == Mode.bot


def test_a_rule_match_without_a_figure_pages_at_once(
    e2e_gateway: RunningGateway, fake_telegram: FakeTelegram
) -> None:
    accept_consent(fake_telegram, DANGER_CHAT)
    fake_telegram.send_text(DANGER_CHAT, "mio marito mi picchia")
    fake_telegram.wait_sent(DANGER_CHAT, "Ho avvisato un operatore", timeout=30)
    e2e_gateway.wait_until(
        lambda: e2e_gateway.flags(DANGER_CHAT) == [("emergency", "top")], what="a top flag"
    )
    e2e_gateway.wait_until(  # the switch follows the flag, in its own transaction
        lambda: _mode(e2e_gateway, DANGER_CHAT) == Mode.human, what="the conversation with a person"
    )
