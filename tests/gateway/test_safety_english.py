"""The gateway's safety net reads English too (issue 17): data/safety/emergency_patterns_en.yml.

A first message in English that a rule of the English file matches gets the emergency
numbers in English and a top-priority hand-off at once, before the privacy consent and
without asking Rasa, as «mi picchia» does in Italian.
"""

from __future__ import annotations

from conversations.models import Mode
from tests.fakes.fake_rasa import FakeRasa
from tests.fakes.fake_telegram import FakeTelegram
from tests.gateway.conftest import RunningGateway

CHAT = 717042


def _mode(gateway: RunningGateway) -> Mode:
    return next(c for c in gateway.conversations() if c.chat_key == str(CHAT)).mode


def test_an_english_emergency_pages_at_once_in_english(
    telegram_gateway: RunningGateway, fake_telegram: FakeTelegram, fake_rasa: FakeRasa
) -> None:
    fake_telegram.send_text(CHAT, "my boyfriend beat me up again and he is coming back tonight")
    numbers = fake_telegram.wait_sent(CHAT, "call 112 now")
    assert "1522" in numbers.params["text"] and "chiama" not in numbers.params["text"]
    telegram_gateway.wait_until(
        lambda: telegram_gateway.flags() == [("emergency", "top")], what="a top-priority flag"
    )
    # the switch to a person comes after the flag, in its own transaction
    telegram_gateway.wait_until(
        lambda: _mode(telegram_gateway) == Mode.human, what="the conversation with a person"
    )
    assert fake_rasa.requests == []
