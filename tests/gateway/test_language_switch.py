"""The conversation's language on every channel, against the real gateway: detected from the
first message, switched by the citizen (/lingua and its button on Telegram, a word and reply
buttons on WhatsApp, the page's control in the web chat), and the gateway's own words in it.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlmodel import Session

from bot import wording
from conversations import repository as repo
from conversations.language import LanguageState
from core.i18n import gettext
from tests.fakes.fake_graph import FakeGraph
from tests.fakes.fake_rasa import FakeRasa
from tests.fakes.fake_telegram import FakeTelegram
from tests.gateway.conftest import RunningGateway
from tests.gateway.test_webchat_api import Chat
from tests.gateway.test_whatsapp import start_whatsapp  # noqa: F401 (fixture)

CHAT = 717001
WA = "393339876543"


def _state(gateway: RunningGateway, chat_key: str) -> LanguageState:
    conversation = gateway.wait_until(
        lambda: next((c for c in gateway.conversations() if c.chat_key == chat_key), None),
        what="the conversation",
    )
    return LanguageState.of(conversation)


def _titles(call) -> list[str]:
    keyboard = call.params["reply_markup"]["inline_keyboard"]
    return [button["text"] for row in keyboard for button in row]


# --- Telegram --------------------------------------------------------------------------------


def test_telegram_an_english_first_message_gets_the_notice_in_english(
    telegram_gateway: RunningGateway, fake_telegram: FakeTelegram, fake_rasa: FakeRasa
) -> None:
    fake_telegram.send_text(CHAT, "hi, I need help finding a doctor for my son")
    notice = fake_telegram.wait_sent(CHAT, "Who keeps it")
    assert _titles(notice) == ["I accept", "I do not accept", "🌐 Language"]
    assert _state(telegram_gateway, str(CHAT)) == LanguageState("en", "detected")
    mark = len(fake_telegram.calls())
    fake_telegram.press(CHAT, "I accept")
    thanks = fake_telegram.wait_sent(CHAT, "Thank you!", after=mark)
    assert "Grazie" not in thanks.params["text"]
    # one Italian message does not flip it: the gateway still writes English
    fake_telegram.send_text(CHAT, "/comando_che_non_esiste ciao a tutti")
    fake_telegram.wait_sent(CHAT, "I do not know this command")
    fake_telegram.send_text(CHAT, "cerco anche un aiuto per pagare l'affitto")
    fake_telegram.wait_sent(CHAT, "Ho trovato")  # Rasa's answer, Italian (docs/languages.md)
    assert _state(telegram_gateway, str(CHAT)) == LanguageState("en", "detected", "it", 1)
    # the hand-off tells the citizen in English when a person will answer
    mark = len(fake_telegram.calls())
    fake_telegram.send_text(CHAT, "can I talk to an operatore please")
    told = fake_telegram.wait_sent(CHAT, "You can write your question now", after=mark)
    assert "Intanto" not in told.params["text"]
    assert _state(telegram_gateway, str(CHAT)) == LanguageState("en", "detected")


def test_telegram_lingua_and_its_buttons(
    telegram_gateway: RunningGateway, fake_telegram: FakeTelegram, fake_rasa: FakeRasa
) -> None:
    fake_telegram.send_text(CHAT, "/start")
    notice = fake_telegram.wait_sent(CHAT, "Chi li tiene")
    mark = len(fake_telegram.calls())
    fake_telegram.press(CHAT, "🌐 Lingua")
    question = fake_telegram.wait_sent(CHAT, "In che lingua", after=mark)
    assert _titles(question) == ["Italiano", "English"]
    mark = len(fake_telegram.calls())
    fake_telegram.press(CHAT, "English")
    fake_telegram.wait_sent(CHAT, "from now on I write to you in English", after=mark)
    # not answered yet: the privacy notice again, now in English
    fake_telegram.wait_sent(CHAT, "Who keeps it", after=mark)
    assert _state(telegram_gateway, str(CHAT)) == LanguageState("en", "chosen")
    assert "Chi li tiene" in notice.params["text"]
    mark = len(fake_telegram.calls())
    fake_telegram.press(CHAT, "I accept")
    fake_telegram.wait_sent(CHAT, "Thank you!", after=mark)
    # a chosen language stays, whatever the citizen writes
    for text in ("cerco un doposcuola a Rifredi", "grazie mille", "quanto costa il servizio?"):
        fake_telegram.send_text(CHAT, text)
    telegram_gateway.wait_until(lambda: len(fake_rasa.requests) == 3, what="three Rasa turns")
    assert _state(telegram_gateway, str(CHAT)) == LanguageState("en", "chosen")
    # Rasa hears the language with every message (its `language` slot), buttons included
    assert [r["metadata"]["language"] for r in fake_rasa.requests] == ["en", "en", "en"]
    fake_telegram.press(CHAT, "Dettagli 1")
    telegram_gateway.wait_until(lambda: len(fake_rasa.requests) == 4, what="the button's turn")
    assert fake_rasa.requests[3]["message"] == (
        '/service_details{"service_code": "SRV-0001", "language": "en"}'
    )
    # /lingua with a language chooses it at once; nothing of it reaches Rasa
    mark = len(fake_telegram.calls())
    fake_telegram.send_text(CHAT, "/lingua it")
    fake_telegram.wait_sent(CHAT, "da ora ti scrivo in italiano", after=mark)
    assert _state(telegram_gateway, str(CHAT)) == LanguageState("it", "chosen")
    assert len(fake_rasa.requests) == 4
    # chosen Italian after English: the next button tells Rasa, the slot must not stay "en"
    fake_telegram.press(CHAT, "Dettagli 2")
    telegram_gateway.wait_until(lambda: len(fake_rasa.requests) == 5, what="the button's turn")
    assert fake_rasa.requests[4]["message"] == (
        '/service_details{"service_code": "SRV-0002", "language": "it"}'
    )


def test_telegram_emergency_numbers_in_the_conversations_language(
    telegram_gateway: RunningGateway, fake_telegram: FakeTelegram, fake_rasa: FakeRasa
) -> None:
    fake_telegram.send_text(CHAT, "/lingua english")
    fake_telegram.wait_sent(CHAT, "from now on I write to you in English")
    fake_telegram.send_text(CHAT, "mi picchia")  # the safety net runs before consent
    numbers = fake_telegram.wait_sent(CHAT, "call 112 now")
    assert "1522" in numbers.params["text"] and "chiama" not in numbers.params["text"]


# --- WhatsApp --------------------------------------------------------------------------------


@pytest.fixture
def whatsapp(start_whatsapp: Callable[..., RunningGateway]) -> RunningGateway:  # noqa: F811
    return start_whatsapp()


def _buttons(sent) -> dict[str, str]:
    """title -> id of an interactive message's reply buttons."""
    buttons = sent.body["interactive"]["action"]["buttons"]
    return {b["reply"]["title"]: b["reply"]["id"] for b in buttons}


def test_whatsapp_the_word_lingua_and_reply_buttons(
    whatsapp: RunningGateway, fake_graph: FakeGraph, fake_rasa: FakeRasa
) -> None:
    fake_graph.deliver_text(WA, "buongiorno, vorrei informazioni")
    notice = fake_graph.wait_text(WA, "Chi li tiene")
    assert list(_buttons(notice)) == ["Accetto", "Non accetto", "🌐 Lingua"]
    fake_graph.deliver_button_reply(WA, _buttons(notice)["Accetto"], "Accetto")
    fake_graph.wait_text(WA, "Grazie")
    assert _state(whatsapp, WA) == LanguageState("it", "detected")

    fake_graph.deliver_text(WA, "Lingua")
    question = fake_graph.wait_text(WA, "In che lingua")
    choices = _buttons(question)
    assert list(choices) == ["Italiano", "English"]
    fake_graph.deliver_button_reply(WA, choices["English"], "English")
    fake_graph.wait_text(WA, "from now on I write to you in English")
    assert _state(whatsapp, WA) == LanguageState("en", "chosen")
    fake_graph.deliver_text(WA, "/boh")
    fake_graph.wait_text(WA, "I do not know this command")
    # "language" and "italiano" typed alone work too
    fake_graph.deliver_text(WA, "language")
    fake_graph.wait_text(WA, "Which language do you want")
    fake_graph.deliver_text(WA, "italiano")
    fake_graph.wait_text(WA, "da ora ti scrivo in italiano")
    assert _state(whatsapp, WA) == LanguageState("it", "chosen")
    assert fake_rasa.requests == []


# --- web chat --------------------------------------------------------------------------------


@pytest.fixture
def web(start_gateway: Callable[..., RunningGateway], fake_rasa: FakeRasa) -> RunningGateway:
    return start_gateway(rasa_url=fake_rasa.url)


def test_web_chat_the_pages_control(web: RunningGateway, fake_rasa: FakeRasa) -> None:
    page = web.client().get("/").text
    assert 'id="languages"' in page
    listed = web.client().get("/api/chat/languages").json()["languages"]
    assert [(x["code"], x["name"]) for x in listed] == [("it", "Italiano"), ("en", "English")]

    chat = Chat(web)
    chat.send(command="start")
    chat.wait_reply("Chi li tiene")
    assert chat.send(text="/lingua en").status_code == 202  # what the control sends
    chat.wait_reply("from now on I write to you in English")
    notice = chat.wait_reply("Who keeps it")
    accept = next(b for b in notice["buttons"] if b["title"] == "I accept")
    chat.send(button=accept["ref"])
    chat.wait_reply("Thank you!")
    with Session(web.engine) as session:
        conversations = [c for c in web.conversations() if c.channel == "webchat"]
        (conversation,) = conversations
        stored = repo.get_conversation(session, conversation_id=conversation.conversation_id)
        assert stored is not None and stored.language == "en"
    assert fake_rasa.requests == []


def test_an_italian_conversation_is_unchanged(web: RunningGateway) -> None:
    chat = Chat(web)
    chat.send(text="ciao, cerco aiuto per mia madre anziana")
    notice = chat.wait_reply("Chi li tiene")
    assert notice["text"] == wording.PRIVACY_NOTICE
    assert gettext("it", wording.PRIVACY_NOTICE) == wording.PRIVACY_NOTICE


# --- the channels' own words -----------------------------------------------------------------


def test_the_channels_own_words_follow_the_language() -> None:
    from bot.channels.telegram.channel import location_keyboard
    from bot.channels.whatsapp.render import render
    from conversations.outgoing import Button, Outgoing

    assert location_keyboard("en").keyboard[0][0].text == "📍 Share my location"
    assert location_keyboard().keyboard[0][0].text == wording.LOCATION_BUTTON
    asking = Outgoing(location_request=True)
    (part,) = render(asking, message_id=1, to=WA, language="en")
    assert part["interactive"]["body"]["text"] == "Tap the button below to share where you are."
    many = Outgoing(buttons=[Button(f"Servizio {n}", f"/x{n}") for n in range(5)])
    (listed,) = render(many, message_id=2, to=WA, language="en")
    assert listed["interactive"]["body"]["text"] == "Choose one:"
    assert listed["interactive"]["action"]["button"] == "Choose"
    (italian,) = render(many, message_id=2, to=WA)
    assert italian["interactive"]["action"]["button"] == wording.CHOOSE
