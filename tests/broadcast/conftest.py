"""Fixtures of the broadcast tests: the fake Bot API with Telegram's limits."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.fake_telegram_limits import LimitedTelegram


@pytest.fixture
def telegram() -> Iterator[LimitedTelegram]:
    """Enforces 25 msg/s overall and 1 msg/s per chat (the engine paces at 22 in tests)."""
    with LimitedTelegram(global_rate=25) as fake:
        yield fake
