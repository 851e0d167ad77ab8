"""The language the gateway adds to Rasa's /intent payloads (bot/rasa_payload.py)."""

from __future__ import annotations

import pytest

from bot.rasa_payload import payload_with_language, with_language
from conversations.models import Conversation


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ("/greet", '/greet{"language": "en"}'),
        ('/inform{"neighbourhood":"Q5"}', '/inform{"neighbourhood": "Q5", "language": "en"}'),
        ('/inform@0.9{"age": "84"}', '/inform@0.9{"age": "84", "language": "en"}'),
        ('/inform{"language": "it"}', '/inform{"language": "en"}'),
        ('/choose_slot{"slot_id": "città"}', '/choose_slot{"slot_id": "città", "language": "en"}'),
    ],
)
def test_the_entity_joins_the_payloads_entities(payload: str, expected: str) -> None:
    assert payload_with_language(payload, "en") == expected


@pytest.mark.parametrize("payload", ["ciao", "", "/inform{not json}", '/inform["a"]', "https://x"])
def test_what_is_not_an_intent_payload_is_left_alone(payload: str) -> None:
    assert payload_with_language(payload, "en") == payload


def test_only_a_language_that_may_differ_from_rasas_default_is_added() -> None:
    italian = Conversation(channel="telegram", chat_key="1", language="it", language_source="")
    detected = Conversation(
        channel="telegram", chat_key="1", language="it", language_source="detected"
    )
    chosen = Conversation(channel="telegram", chat_key="1", language="it", language_source="chosen")
    english = Conversation(
        channel="telegram", chat_key="1", language="en", language_source="detected"
    )
    assert with_language("/greet", italian) == "/greet"
    assert with_language("/greet", detected) == "/greet"
    assert with_language("/greet", chosen) == '/greet{"language": "it"}'
    assert with_language("/greet", english) == '/greet{"language": "en"}'
