"""A message Rasa already answered is not sent to it again (bot/recorded_turns.py).

When the gateway gives up waiting (its Rasa timeout) but Rasa finishes the turn and saves
it, the retry reads the tracker store for the message's id and delivers the answers Rasa
recorded then, instead of running the citizen's message a second time. Found by
`python -m bench faults` (docs/performance.md): 20 messages of one run had two Rasa turns.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import insert
from sqlalchemy.engine import Engine

from review.tracker import recorded_replies
from tests.fakes.fake_rasa import FakeRasa
from tests.fakes.fake_telegram import FakeTelegram
from tests.gateway.conftest import RunningGateway, accept_consent
from tests.review.helpers import on_telegram
from tests.review.tracker_events import EVENTS, METADATA, user_event

REQUEST = "cerco un doposcuola a Rifredi"
ANSWER = "Ecco il doposcuola di Rifredi: Il Girasole, via Corridoni 12."
BUTTONS = [{"title": "Dettagli", "payload": '/service_details{"service_code":"DOP-RIF"}'}]


def bot_event(engine: Engine, *, sender: str, text: str | None, **data: Any) -> None:
    """A ``bot`` event as Rasa 3.6's SQLTrackerStore writes it."""
    METADATA.create_all(engine)
    body = {
        "event": "bot",
        "timestamp": time.time(),
        "text": text,
        "data": {
            "elements": None,
            "quick_replies": None,
            "buttons": None,
            "attachment": None,
            "image": None,
            "custom": None,
            **data,
        },
        "metadata": {"utter_action": "action_search_services"},
    }
    with engine.begin() as conn:
        conn.execute(
            insert(EVENTS).values(
                sender_id=sender, type_name="bot", timestamp=time.time(), data=json.dumps(body)
            )
        )


def _turn(engine: Engine, sender: str, message_id: int, text: str) -> None:
    user_event(
        engine, sender=sender, text=text, message_id=message_id, intent="search_service",
        confidence=0.97, actions=("action_search_services",),
    )  # fmt: skip
    bot_event(engine, sender=sender, text=ANSWER, buttons=BUTTONS)
    bot_event(engine, sender=sender, text=None, custom={"type": "page", "page_key": "k"})


def test_the_answers_of_one_message_are_read_back_as_rasa_sent_them(
    tracker: tuple[str, Engine],
) -> None:
    engine = tracker[1]
    assert recorded_replies(engine, sender_id="c1", message_id=7) is None  # no table yet
    _turn(engine, "c1", 7, REQUEST)
    user_event(engine, sender="c1", text="grazie", message_id=8, intent="thank", confidence=0.99)
    _turn(engine, "c2", 7, "another conversation, same id")

    assert recorded_replies(engine, sender_id="c1", message_id=7) == [
        {"recipient_id": "c1", "text": ANSWER, "buttons": BUTTONS},
        {"recipient_id": "c1", "custom": {"type": "page", "page_key": "k"}},
    ]
    assert recorded_replies(engine, sender_id="c1", message_id=8) == []  # a turn, no answer
    assert recorded_replies(engine, sender_id="c1", message_id=9) is None  # never reached Rasa


def test_a_turn_rasa_finished_after_the_timeout_is_delivered_not_run_again(
    start_gateway: Callable[..., RunningGateway],
    fake_rasa: FakeRasa,
    fake_telegram: FakeTelegram,
    tracker: tuple[str, Engine],
    tmp_path: Path,
) -> None:
    url, engine = tracker
    release = threading.Event()

    def slow_rasa(body: dict[str, Any]) -> list[dict[str, Any]]:
        """Rasa saves the turn, then answers after the gateway stopped waiting."""
        sender = str(body["sender"])
        if body.get("message") == REQUEST:
            _turn(engine, sender, int(body["metadata"]["message_id"]), REQUEST)
            release.wait(5)
            return [{"recipient_id": sender, "text": ANSWER, "buttons": BUTTONS}]
        return [{"recipient_id": sender, "text": "Ciao!"}]

    fake_rasa.responder = slow_rasa
    on_telegram(start_gateway, fake_rasa, fake_telegram, url, rasa_timeout_seconds=1.0)
    chat = 660101
    accept_consent(fake_telegram, chat)
    mark = len(fake_telegram.calls())
    fake_telegram.send_text(chat, REQUEST)
    try:
        fake_telegram.wait_sent(chat, "non disponibile", after=mark, timeout=15)
        answer = fake_telegram.wait_sent(chat, "doposcuola di Rifredi", after=mark, timeout=20)
    finally:
        release.set()
    assert answer.params["reply_markup"]["inline_keyboard"][0][0]["text"] == "Dettagli"
    time.sleep(1.5)  # room for a wrong second turn and a second answer to show up
    assert fake_rasa.messages().count(REQUEST) == 1
    answers = [
        c for c in fake_telegram.calls("sendMessage", chat) if ANSWER in str(c.params.get("text"))
    ]
    assert len(answers) == 1
