"""Limits before work (the real gateway, real HTTP): every body is capped before it is read,
parsed or authenticated; web-chat tokens, emergency hand-offs, uploads and event streams are
limited per client address; X-Forwarded-For counts only from a trusted proxy; the public
pages get CSP and frame protection; no API description is served."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from bot import wording
from core.limits import MemoryLimitStore, RedisLimitStore
from tests.fakes.fake_rasa import FakeRasa
from tests.gateway.conftest import RunningGateway
from tests.gateway.test_webchat_api import Chat
from tests.raw_http import declared_body

EMERGENCY = "mio marito mi picchia e ho paura"
JPEG = b"\xff\xd8\xff\xe0" + b"scontrino" * 50


LIMITS = {
    "webchat_sessions_per_address_per_hour": 4,
    "webchat_emergencies_per_address_per_hour": 2,
    "webchat_uploads_per_address_per_hour": 1,
    "webchat_streams_per_address": 2,
}


def shared(redis_url: str) -> dict[str, str]:
    """Settings of gateway processes sharing one Redis; a fresh SECRET_KEY keeps this test's
    counters apart from every other test's on the same Redis."""
    return {"gateway_redis_url": redis_url, "secret_key": uuid.uuid4().hex}


@pytest.fixture(params=["memory", "redis"])
def gateway(
    request: pytest.FixtureRequest,
    start_gateway: Callable[..., RunningGateway],
    fake_rasa: FakeRasa,
) -> RunningGateway:
    """The gateway with small limits, counted in its memory or in Redis (core.limits)."""
    store = shared(request.getfixturevalue("redis_url")) if request.param == "redis" else {}
    running = start_gateway(
        rasa_url=fake_rasa.url, http_max_body_bytes=64 * 1024, **LIMITS, **store
    )
    kind = RedisLimitStore if store else MemoryLimitStore
    assert isinstance(running.app.state.webchat_limits.store, kind)
    return running


def test_a_large_body_is_refused_before_it_is_read(gateway: RunningGateway) -> None:
    with gateway.client() as http:
        big = b"{" + b" " * (2 * 1024 * 1024) + b"}"
        answer = http.post("/whatsapp/webhook", content=big)
        assert answer.status_code == 413
        assert answer.json()["detail"] == wording.REQUEST_TOO_LARGE
        # WhatsApp is off: a small unsigned call is refused too, without being read
        assert http.post("/whatsapp/webhook", content=b"{}").status_code == 403
        login = http.post(
            "/console/accesso",
            content=b"email=a%40b.it&password=" + b"x" * 40_000,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert login.status_code == 413


def test_webhooks_refuse_before_reading_the_body(gateway: RunningGateway) -> None:
    """WhatsApp's signature needs the body, so the cap comes first; an unsigned call and a
    Telegram call without its secret are refused before a byte of the body is read."""
    signed = {"X-Hub-Signature-256": "sha256=" + "0" * 64, "Content-Type": "application/json"}
    with declared_body(gateway.url, "/whatsapp/webhook", size=2 << 20, headers=signed) as call:
        assert call.status_before_body() == 413
    with declared_body(gateway.url, "/whatsapp/webhook", size=32_000) as call:
        assert call.status_before_body() == 403
    with declared_body(gateway.url, "/telegram/webhook", size=32_000) as call:
        assert call.status_before_body() == 403


def test_a_large_chat_message_is_refused_before_it_is_parsed(gateway: RunningGateway) -> None:
    chat = Chat(gateway)
    answer = chat.send(text="a" * 70_000)  # under MAX_TEXT, over the 64 KiB of this gateway
    assert answer.status_code == 413

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted while read
        yield b'{"client_id": "abcdefgh12", "text": "'
        for _ in range(100):
            yield b"b" * 1024
        yield b'"}'

    chunked = chat.http.post(
        "/api/chat/messages", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert chunked.status_code == 413
    assert gateway.messages() == []  # nothing stored


def test_tokens_per_address(gateway: RunningGateway) -> None:
    with gateway.client() as http:
        made = [http.post("/api/chat/session") for _ in range(6)]
    assert [a.status_code for a in made] == [200, 200, 200, 200, 429, 429]
    assert made[-1].json()["detail"] == wording.TOO_MANY_CHATS


def test_the_limits_hold_across_gateway_processes_sharing_redis(
    start_gateway: Callable[..., RunningGateway], fake_rasa: FakeRasa, redis_url: str, db_url: str
) -> None:
    """Two gateway processes of one installation: one database (SQLite, PostgreSQL), one
    Redis."""
    settings = {"database_url": db_url, "rasa_url": fake_rasa.url, **LIMITS, **shared(redis_url)}
    one, two = start_gateway(**settings), start_gateway(**settings)
    with one.client() as a, two.client() as b:
        made = [http.post("/api/chat/session") for http in (a, b, a, b, a, b)]
    assert [m.status_code for m in made] == [200, 200, 200, 200, 429, 429]


def test_emergencies_and_streams_hold_across_processes_sharing_redis(
    start_gateway: Callable[..., RunningGateway], fake_rasa: FakeRasa, redis_url: str, db_url: str
) -> None:
    settings = {
        "database_url": db_url,
        "rasa_url": fake_rasa.url,
        **LIMITS,
        "webchat_sessions_per_address_per_hour": 50,
        **shared(redis_url),
    }
    one, two = start_gateway(**settings), start_gateway(**settings)
    chats = [Chat(one), Chat(two), Chat(one)]
    assert chats[0].send(text=EMERGENCY).status_code == 202
    assert chats[1].send(text=EMERGENCY).status_code == 202
    assert chats[2].send(text=EMERGENCY).status_code == 429  # the third, on the first process

    streams = [Chat(one), Chat(two), Chat(two)]

    def open_stream(chat: Chat) -> Any:
        return chat.http.stream("GET", "/api/chat/events", timeout=5.0)

    with open_stream(streams[0]) as first, open_stream(streams[1]) as second:
        assert first.status_code == 200 and second.status_code == 200
        with open_stream(streams[2]) as third:
            assert third.status_code == 429
    # both closed: their slots are given back in Redis

    def reopened() -> bool:
        with open_stream(streams[2]) as stream:
            return stream.status_code == 200

    two.wait_until(reopened, what="a stream once the others closed")


def test_without_redis_each_process_counts_alone(
    start_gateway: Callable[..., RunningGateway], fake_rasa: FakeRasa
) -> None:
    """The control of the test above: in memory, two processes let twice the limit through."""
    one = start_gateway(rasa_url=fake_rasa.url, **LIMITS)
    two = start_gateway(rasa_url=fake_rasa.url, **LIMITS)
    with one.client() as a, two.client() as b:
        made = [http.post("/api/chat/session") for http in (a, b, a, b, a, b, a, b, a)]
    assert [m.status_code for m in made] == [200] * 8 + [429]


def test_a_forwarded_address_counts_only_from_a_trusted_proxy(
    start_gateway: Callable[..., RunningGateway], fake_rasa: FakeRasa
) -> None:
    untrusted = start_gateway(rasa_url=fake_rasa.url, webchat_sessions_per_address_per_hour=2)
    with untrusted.client() as http:
        spoofed = [
            http.post("/api/chat/session", headers={"X-Forwarded-For": f"10.1.1.{i}"})
            for i in range(3)
        ]
    assert [a.status_code for a in spoofed] == [200, 200, 429]  # the header changes nothing
    proxied = start_gateway(
        rasa_url=fake_rasa.url,
        webchat_sessions_per_address_per_hour=2,
        trusted_proxies="127.0.0.1",
    )
    with proxied.client() as http:
        by_client = [
            http.post("/api/chat/session", headers={"X-Forwarded-For": f"6.6.6.6, 10.1.1.{i}"})
            for i in range(3)
        ]
        again = [
            http.post("/api/chat/session", headers={"X-Forwarded-For": "10.1.1.9"})
            for _ in range(3)
        ]
    assert [a.status_code for a in by_client] == [200, 200, 200]  # three clients
    assert [a.status_code for a in again] == [200, 200, 429]  # one client


def test_emergency_handoffs_per_address(gateway: RunningGateway) -> None:
    chats = [Chat(gateway) for _ in range(3)]
    assert chats[0].send(text=EMERGENCY).status_code == 202
    assert chats[1].send(text=EMERGENCY).status_code == 202
    refused = chats[2].send(text=EMERGENCY)
    assert refused.status_code == 429
    assert "112" in refused.json()["detail"] and "1522" in refused.json()["detail"]
    assert chats[0].send(text=EMERGENCY + " ancora").status_code == 202  # counted already
    assert chats[2].send(text="cerco un doposcuola").status_code == 202  # only emergencies
    texts = [m.text for m in gateway.messages() if m.direction == "inbound"]
    assert texts.count(EMERGENCY) == 2


def test_uploads_per_address(gateway: RunningGateway) -> None:
    chat = Chat(gateway)
    chat.consent()

    def upload() -> httpx.Response:
        return chat.http.post(
            "/api/chat/files",
            params={"client_id": uuid.uuid4().hex},
            content=JPEG,
            headers={"Content-Type": "application/octet-stream"},
        )

    assert upload().status_code == 202
    refused = upload()
    assert refused.status_code == 429
    assert refused.json()["detail"] == wording.TOO_MANY_FILES


def test_event_streams_per_address(gateway: RunningGateway) -> None:
    chats = [Chat(gateway) for _ in range(3)]

    def open_stream(chat: Chat) -> Any:
        return chat.http.stream("GET", "/api/chat/events", timeout=5.0)

    first, second = open_stream(chats[0]), open_stream(chats[1])
    with first as a, second as b:
        assert a.status_code == 200 and b.status_code == 200
        with open_stream(chats[2]) as third:
            assert third.status_code == 429
    gateway.wait_until(
        lambda: chats[2].http.get("/api/chat/history").status_code == 200, what="history"
    )

    def reopened() -> bool:
        with open_stream(chats[2]) as stream:
            return stream.status_code == 200

    gateway.wait_until(reopened, what="a stream once the others closed")


def test_public_pages_headers_and_no_api_description(gateway: RunningGateway) -> None:
    with gateway.client() as http:
        page = http.get("/")
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
        assert "script-src 'self'" in page.headers["content-security-policy"]
        assert page.headers["x-frame-options"] == "DENY"
        assert page.headers["x-content-type-options"] == "nosniff"
        assert http.get("/api/chat/history").headers["x-frame-options"] == "DENY"
        for path in ("/openapi.json", "/docs", "/redoc"):
            assert http.get(path).status_code == 404, path
