"""The running Rasa server: token required, loopback only, safety net in the parse data."""

from __future__ import annotations

import httpx
import pytest

from tests.fixtures.rasa import RasaStack, new_sender

pytestmark = [pytest.mark.rasa]


def test_the_http_api_needs_the_token(rasa_stack: RasaStack) -> None:
    url = f"{rasa_stack.rasa_url}/conversations/{new_sender()}/tracker"
    assert httpx.get(url).status_code == 401
    assert httpx.get(url, params={"token": "wrong"}).status_code == 401
    assert httpx.get(url, params={"token": rasa_stack.token}).status_code == 200


def test_rasa_listens_on_loopback_only(rasa_stack: RasaStack) -> None:
    command = list(rasa_stack.rasa.command)
    assert command[command.index("-i") + 1] == "127.0.0.1"


def test_the_safety_net_overrides_the_model(rasa_stack: RasaStack) -> None:
    parsed = rasa_stack.parse("nn ce la faccio + a vivere")
    assert parsed["intent"] == {"name": "emergency", "confidence": 1.0}
    assert parsed["safety_net"]["kind"] == "self_harm"
    assert parsed["intent_ranking"][0]["name"] == "emergency"


def test_entities_keep_the_original_text(rasa_stack: RasaStack) -> None:
    text = "cerco un doposcuola per mio figlio di 8 anni a Rifredi"
    parsed = rasa_stack.parse(text)
    assert parsed["intent"]["name"] == "search_service"
    for entity in parsed["entities"]:
        surface = text[entity["start"] : entity["end"]]
        assert surface  # offsets point into the citizen's own text
    assert {e["entity"] for e in parsed["entities"]} >= {"service_category", "neighbourhood"}


def test_the_rest_channel_answers_with_the_custom_actions(rasa_stack: RasaStack) -> None:
    replies = rasa_stack.send(
        new_sender(), "cerco un doposcuola per mio figlio di 8 anni a Rifredi"
    )
    assert replies, "no reply from the REST channel"
    assert all(reply.get("recipient_id") for reply in replies)
