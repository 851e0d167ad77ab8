"""Live events across gateway processes (issue 18): core.event_relay over a real Redis.

A citizen whose web chat stream is open on one gateway gets the reply that another gateway
produced (behind a load balancer the two requests can land on different processes); an
event relayed from another process is marked remote and delivered once."""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from collections.abc import Callable
from typing import Any

import httpx

from core.event_relay import RedisEventRelay
from core.events import ALL, REMOTE, EventBus
from tests.fakes.fake_rasa import FakeRasa, scripted
from tests.gateway.conftest import RunningGateway
from tests.gateway.test_webchat_api import Chat


async def _next(queue: asyncio.Queue[dict[str, Any]]) -> dict[str, Any]:
    return await asyncio.wait_for(queue.get(), 5)


def test_an_event_reaches_the_other_process_once_and_marked_remote(redis_url: str) -> None:
    async def scenario() -> None:
        channel = f"welcome:test:{uuid.uuid4().hex}"
        one, two = EventBus(), EventBus()
        relays = [RedisEventRelay(bus, redis_url, channel) for bus in (one, two)]
        for relay in relays:
            await relay.start()
        try:
            async with one.subscribe(ALL) as here, two.subscribe("c1") as there:
                one.publish("c1", {"type": "message", "message": {"id": 7, "text": "ciao"}})
                local = await _next(here)
                remote = await _next(there)
                assert REMOTE not in local and local["message"]["text"] == "ciao"
                assert remote[REMOTE] is True and remote["conversation_id"] == "c1"
                assert remote["message"] == {"id": 7, "text": "ciao"}
                two.publish("c2", {"type": "typing"})  # back the other way, in order
                two.publish("c1", {"type": "mode", "mode": "human"})
                assert (await _next(here))["conversation_id"] == "c2"
                assert (await _next(here))["mode"] == "human"
                assert (await _next(there))["type"] == "mode"  # its own, delivered locally
                # one's own events never come back to it through Redis
                await asyncio.sleep(0.3)
                assert here.empty() and there.empty()
                # a stranger's unreadable payload is ignored, the relay goes on
                import redis.asyncio as aioredis

                client = aioredis.Redis.from_url(redis_url)
                await client.publish(channel, b"not json")
                await client.aclose()
                one.publish("c1", {"type": "typing"})
                assert (await _next(there))["type"] == "typing"
        finally:
            for relay in relays:
                await relay.stop()

    asyncio.run(scenario())


def test_a_reply_made_by_one_gateway_reaches_the_stream_open_on_another(
    start_gateway: Callable[..., RunningGateway], fake_rasa: FakeRasa, redis_url: str, db_url: str
) -> None:
    """Two gateway processes of one installation: one database (SQLite, PostgreSQL), one
    Redis, one SECRET_KEY."""
    settings = {
        "database_url": db_url,
        "rasa_url": fake_rasa.url,
        "gateway_redis_url": redis_url,
        "secret_key": uuid.uuid4().hex,
    }
    one, two = start_gateway(**settings), start_gateway(**settings)
    chat = Chat(one)
    chat.consent()
    last_id = chat.history()["messages"][-1]["id"]
    texts: list[str] = []
    ready = threading.Event()

    def listen() -> None:  # the citizen's stream, open on the first gateway
        headers = {"Authorization": f"Bearer {chat.token}"}
        with (
            httpx.Client(base_url=one.url, timeout=10) as client,
            client.stream(
                "GET", "/api/chat/events", params={"after": last_id}, headers=headers
            ) as response,
        ):
            ready.set()
            event = ""
            for line in response.iter_lines():
                if line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: ") and event == "message":
                    texts.append(json.loads(line[6:])["text"])
                    if "Hai scritto: da un altro processo" in texts[-1]:
                        return

    thread = threading.Thread(target=listen, daemon=True)
    thread.start()
    assert ready.wait(5)
    with two.client() as other:  # the next request lands on the second gateway
        other.headers["Authorization"] = f"Bearer {chat.token}"
        sent = other.post(
            "/api/chat/messages",
            json={"client_id": uuid.uuid4().hex, "text": "da un altro processo"},
        )
        assert sent.status_code == 202
    thread.join(10)
    assert "da un altro processo" in texts
    assert any("Hai scritto: da un altro processo" in text for text in texts)
    assert len(texts) == len(set(texts))  # nothing twice


def test_one_conversation_is_answered_one_turn_at_a_time_across_gateways(
    start_gateway: Callable[..., RunningGateway], redis_url: str, db_url: str
) -> None:
    """Messages of one web chat land alternately on two gateways (one database, one Redis):
    Rasa never sees two turns of the conversation at once, and the replies keep the order
    of the messages (core.shared_locks)."""
    in_flight: dict[str, int] = {}
    most = [0]
    guard = threading.Lock()

    def slow(request: dict[str, Any]) -> list[dict[str, Any]]:
        sender = request.get("sender", "")
        with guard:
            in_flight[sender] = in_flight.get(sender, 0) + 1
            most[0] = max(most[0], in_flight[sender])
        threading.Event().wait(0.25)
        with guard:
            in_flight[sender] -= 1
        return scripted(request)

    rasa = FakeRasa(slow).start()
    try:
        settings = {
            "database_url": db_url,
            "rasa_url": rasa.url,
            "gateway_redis_url": redis_url,
            "secret_key": uuid.uuid4().hex,
        }
        one, two = start_gateway(**settings), start_gateway(**settings)
        chat = Chat(one)
        chat.consent()
        most[0] = 0
        texts = [f"messaggio {n}" for n in range(6)]
        with two.client() as other:
            other.headers["Authorization"] = f"Bearer {chat.token}"
            for n, text in enumerate(texts):
                http = chat.http if n % 2 == 0 else other
                sent = http.post(
                    "/api/chat/messages", json={"client_id": uuid.uuid4().hex, "text": text}
                )
                assert sent.status_code == 202
        chat.wait_reply("Hai scritto: messaggio 5")
        one.wait_until(
            lambda: (
                sum("Hai scritto: messaggio" in m["text"] for m in chat.history()["messages"]) == 6
            ),
            what="six replies",
        )
        replies = [
            m["text"] for m in chat.history()["messages"] if "Hai scritto: messaggio" in m["text"]
        ]
        assert replies == [f"Hai scritto: {text}" for text in texts]
        assert most[0] == 1
    finally:
        rasa.stop()
