"""Telegram long polling with several gateway processes (issue 18): exactly one polls.

The fake Bot API ends a waiting getUpdates with 409 when another one starts, as Telegram
does; two gateways that both poll fight like that. With a shared Redis only the holder of
the lease polls (core.lease), and when it stops another gateway takes over."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from tests.fakes.fake_rasa import FakeRasa
from tests.fakes.fake_telegram import FakeTelegram
from tests.gateway.conftest import RunningGateway, accept_consent

CHAT = 424242


def _settings(fake_telegram: FakeTelegram, fake_rasa: FakeRasa, db_url: str) -> dict[str, object]:
    return {
        "database_url": db_url,
        "telegram_bot_token": fake_telegram.token,
        "telegram_api_base_url": fake_telegram.base_url,
        "telegram_poll_timeout": 1,
        "rasa_url": fake_rasa.url,
        "action_server_url": fake_rasa.url,
    }


def _answers(fake_telegram: FakeTelegram, text: str) -> int:
    return sum(text in str(c.params.get("text") or "") for c in fake_telegram.calls("sendMessage"))


def test_two_gateways_without_a_shared_redis_fight_over_getupdates(
    start_gateway: Callable[..., RunningGateway],
    fake_telegram: FakeTelegram,
    fake_rasa: FakeRasa,
    db_url: str,
) -> None:
    settings = _settings(fake_telegram, fake_rasa, db_url)
    one = start_gateway(**settings)
    start_gateway(**settings)
    one.wait_until(lambda: fake_telegram.poll_conflicts > 0, what="a 409 between the pollers")


def test_only_the_lease_holder_polls_and_another_takes_over(
    start_gateway: Callable[..., RunningGateway],
    fake_telegram: FakeTelegram,
    fake_rasa: FakeRasa,
    redis_url: str,
    db_url: str,
) -> None:
    settings = {
        **_settings(fake_telegram, fake_rasa, db_url),
        "gateway_redis_url": redis_url,
        "secret_key": uuid.uuid4().hex,
        "telegram_poll_lease_seconds": 1.5,
    }
    one = start_gateway(**settings)
    one.wait_until(lambda: fake_telegram.poll_count > 0, what="the first getUpdates")
    two = start_gateway(**settings)  # the lease is taken: it only sends
    time.sleep(3)  # two lease periods: the second gateway would have polled by now
    assert fake_telegram.poll_conflicts == 0

    accept_consent(fake_telegram, CHAT)
    fake_telegram.send_text(CHAT, "prima")
    fake_telegram.wait_sent(CHAT, "Hai scritto: prima")

    one.stop()  # the holder goes away: within a lease period the other one polls
    fake_telegram.send_text(CHAT, "dopo")
    fake_telegram.wait_sent(CHAT, "Hai scritto: dopo", timeout=15)
    time.sleep(1)
    assert _answers(fake_telegram, "Hai scritto: prima") == 1
    assert _answers(fake_telegram, "Hai scritto: dopo") == 1
    assert fake_telegram.poll_conflicts == 0
    assert two.app.state.telegram is not None
