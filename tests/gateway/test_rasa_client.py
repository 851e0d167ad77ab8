"""bot.rasa_client: the REST channel, under the opaque id; down means "retry later"."""

from __future__ import annotations

import pytest

from bot.rasa_client import RasaClient, RasaUnavailable
from tests.fakes.fake_rasa import FakeRasa


async def test_sends_sender_message_channel_metadata_and_token(fake_rasa: FakeRasa) -> None:
    client = RasaClient(rasa_url=fake_rasa.url, token="s3cret")
    try:
        replies = await client.send(
            sender="a" * 32, message="ciao", channel="telegram", metadata={"channel": "telegram"}
        )
    finally:
        await client.aclose()
    assert replies[0]["text"].startswith("Hai scritto")
    request = fake_rasa.requests[-1]
    assert request == {
        "sender": "a" * 32,
        "message": "ciao",
        "input_channel": "telegram",
        "metadata": {"channel": "telegram"},
    }


async def test_rasa_down_is_unavailable(fake_rasa: FakeRasa) -> None:
    fake_rasa.stop()
    client = RasaClient(rasa_url=fake_rasa.url)
    try:
        with pytest.raises(RasaUnavailable):
            await client.send(sender="x", message="ciao", channel="webchat", metadata={})
    finally:
        await client.aclose()


async def test_server_errors_and_odd_answers_are_unavailable(fake_rasa: FakeRasa) -> None:
    client = RasaClient(rasa_url=fake_rasa.url)
    try:
        fake_rasa.responder = lambda request: {"not": "a list"}  # type: ignore[assignment,return-value]
        with pytest.raises(RasaUnavailable):
            await client.send(sender="x", message="ciao", channel="webchat", metadata={})
    finally:
        await client.aclose()
    client = RasaClient(rasa_url=fake_rasa.url + "/nowhere")
    try:
        with pytest.raises(RasaUnavailable):
            await client.send(sender="x", message="ciao", channel="webchat", metadata={})
    finally:
        await client.aclose()


async def test_an_empty_answer_with_the_action_server_down_is_unavailable(
    fake_rasa: FakeRasa,
) -> None:
    actions = FakeRasa().start()
    client = RasaClient(rasa_url=fake_rasa.url, action_server_url=actions.url)
    try:
        assert (
            await client.send(sender="x", message="silenzio", channel="webchat", metadata={}) == []
        )
        actions.stop()
        with pytest.raises(RasaUnavailable, match="action-server"):
            await client.send(sender="x", message="silenzio", channel="webchat", metadata={})
    finally:
        await client.aclose()
        actions.stop()
