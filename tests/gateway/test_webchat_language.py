"""The web chat in the conversation's language (issue 17): the page's own texts served with
it, the language in the history and in the events, the API's errors in English once the
conversation is in English (Italian while there is none). Against the real gateway."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from bot import wording
from bot.channels.webchat.page_texts import PAGE_TEXTS
from core.i18n import gettext
from tests.fakes.fake_rasa import FakeRasa
from tests.gateway.conftest import RunningGateway
from tests.gateway.test_webchat_api import JPEG, Chat, _upload


@pytest.fixture
def web_gateway(
    start_gateway: Callable[..., RunningGateway], fake_rasa: FakeRasa
) -> RunningGateway:
    return start_gateway(rasa_url=fake_rasa.url)


def english(text: str, **fields: Any) -> str:
    translated = gettext("en", text).format(**fields)
    assert translated != text.format(**fields)  # the catalogue has it
    return translated


def _in_english(gateway: RunningGateway, *, consent: bool) -> Chat:
    chat = Chat(gateway)
    chat.send(command="start")
    chat.wait_reply("Chi li tiene")
    chat.send(text="/lingua en")
    notice = chat.wait_reply("Who keeps it")
    if consent:
        accept = next(b for b in notice["buttons"] if b["title"] == "I accept")
        chat.send(button=accept["ref"])
        chat.wait_reply("Thank you!")
    return chat


def test_the_page_carries_its_texts_in_every_language(web_gateway: RunningGateway) -> None:
    with web_gateway.client() as client:
        page = client.get("/")
        listed = client.get("/api/chat/languages").json()["languages"]
    found = re.search(r'<script id="page-texts" type="application/json">(.*?)</script>', page.text)
    assert page.status_code == 200 and found is not None
    embedded = json.loads(found.group(1))
    assert embedded == listed
    assert [(x["code"], x["name"], x["dir"]) for x in listed] == [
        ("it", "Italiano", "ltr"),
        ("en", "English", "ltr"),
    ]
    italian, english_texts = (x["texts"] for x in listed)
    assert italian == PAGE_TEXTS
    assert english_texts["send"] == "Send" and english_texts["text_label"] == "Write a message"
    assert english_texts.keys() == PAGE_TEXTS.keys()


def test_the_history_and_the_events_say_the_language(web_gateway: RunningGateway) -> None:
    chat = Chat(web_gateway)
    assert chat.history()["language"] == "it"  # no conversation yet
    chat.send(command="start")
    chat.wait_reply("Chi li tiene")
    assert chat.history()["language"] == "it"
    last_id = chat.history()["messages"][-1]["id"]

    def languages(events: list[tuple[str, dict[str, Any]]]) -> list[str]:
        return [data["language"] for kind, data in events if kind == "language"]

    stream = chat.listen(last_id, lambda events: len(languages(events)) == 2)
    # the stream starts with the conversation's language
    web_gateway.wait_until(lambda: languages(stream.events) or None, what="the language event")
    chat.send(text="/lingua en")
    stream.join(10)
    assert languages(stream.events) == ["it", "en"]
    assert chat.history()["language"] == "en"


def test_a_detected_language_reaches_the_page_too(
    web_gateway: RunningGateway, fake_rasa: FakeRasa
) -> None:
    chat = Chat(web_gateway)
    chat.send(text="Hello, I am looking for help with my rent, can you help me?")
    chat.wait_reply("Who keeps it")  # the privacy notice in the detected language
    assert chat.history()["language"] == "en"


def test_the_apis_errors_in_english_once_the_conversation_is(
    web_gateway: RunningGateway, fake_rasa: FakeRasa
) -> None:
    before = _in_english(web_gateway, consent=False)
    refused = _upload(before, JPEG)
    assert refused.status_code == 409
    assert refused.json()["detail"] == english(wording.FILE_NEEDS_CONSENT)

    chat = _in_english(web_gateway, consent=True)
    big = _upload(chat, b"\xff\xd8\xff" + b"\0" * 200_001)
    assert big.status_code == 413 and big.json()["detail"] == english(wording.FILE_TOO_BIG, mb=1)
    exe = _upload(chat, b"MZ\x90\x00" + b"\0" * 100)
    assert exe.status_code == 415
    assert exe.json()["detail"] == english(wording.FILE_TYPE_NOT_ALLOWED)
    empty = _upload(chat, b"")
    assert empty.status_code == 422 and empty.json()["detail"] == english(wording.FILE_EMPTY)
    long = _upload(chat, JPEG, **{"X-Caption": "a" * 1025})
    assert long.status_code == 422
    assert long.json()["detail"] == english(wording.CAPTION_TOO_LONG, limit=1024)
    missing = chat.http.get("/api/chat/documents/987654")
    assert missing.status_code == 404
    assert missing.json()["detail"] == english(wording.DOCUMENT_NOT_FOUND)

    statuses = [chat.send(text=f"message {i}") for i in range(25)]
    limited = [r for r in statuses if r.status_code == 429]
    assert limited and limited[0].json()["detail"] == english(wording.TOO_MANY_MESSAGES)


def test_without_a_conversation_the_errors_stay_italian(web_gateway: RunningGateway) -> None:
    chat = Chat(web_gateway)
    refused = _upload(chat, JPEG)
    assert refused.status_code == 409 and refused.json()["detail"] == wording.FILE_NEEDS_CONSENT
    missing = chat.http.get("/api/chat/documents/987654")
    assert missing.status_code == 404 and missing.json()["detail"] == wording.DOCUMENT_NOT_FOUND


def test_too_many_streams_in_english(
    start_gateway: Callable[..., RunningGateway], fake_rasa: FakeRasa
) -> None:
    gateway = start_gateway(rasa_url=fake_rasa.url, webchat_streams_per_address=1)
    chat = _in_english(gateway, consent=False)
    opened = threading.Event()
    stop = threading.Event()

    def hold_one() -> None:
        headers = {"Authorization": f"Bearer {chat.token}"}
        with (
            httpx.Client(base_url=gateway.url, timeout=10) as client,
            client.stream("GET", "/api/chat/events", headers=headers) as response,
        ):
            for _ in response.iter_lines():
                opened.set()
                if stop.is_set():
                    return

    thread = threading.Thread(target=hold_one, daemon=True)
    thread.start()
    assert opened.wait(10)
    second = chat.http.get("/api/chat/events")
    stop.set()
    assert second.status_code == 429
    assert second.json()["detail"] == english(wording.TOO_MANY_STREAMS)
