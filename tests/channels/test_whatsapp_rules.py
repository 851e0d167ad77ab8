"""channels.whatsapp: the 24-hour window and the Graph error codes, as both the gateway and
the broadcast worker apply them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from channels import whatsapp
from channels.outcome import Outcome, Result

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("ago", "is_open"),
    [
        (timedelta(0), True),
        (timedelta(hours=23, minutes=59, seconds=59), True),
        (timedelta(hours=24) - timedelta(microseconds=1), True),
        (timedelta(hours=24), False),  # exactly 24 hours: closed
        (timedelta(hours=24, microseconds=1), False),
        (timedelta(days=3), False),
    ],
)
def test_the_window_is_open_for_less_than_24_hours(ago: timedelta, is_open: bool) -> None:
    assert whatsapp.window_open(NOW - ago, NOW) is is_open


def test_without_a_message_from_the_citizen_the_window_is_closed() -> None:
    assert whatsapp.window_open(None, NOW) is False
    assert timedelta(hours=24) == whatsapp.WINDOW


def test_a_closed_window_is_one_outcome() -> None:
    assert whatsapp.window_closed() == Outcome(Result.window_closed, error="whatsapp:window-closed")


@pytest.mark.parametrize(
    ("status", "code", "result", "error"),
    [
        (400, 131047, Result.window_closed, "whatsapp:window-closed"),  # re-engagement
        (400, 130429, Result.rate_limited, "whatsapp:130429"),  # throughput
        (400, 131056, Result.rate_limited, "whatsapp:131056"),  # pair rate limit
        (400, 80007, Result.rate_limited, "whatsapp:80007"),  # WABA rate limit
        (400, 4, Result.rate_limited, "whatsapp:4"),  # app rate limit
        (429, None, Result.rate_limited, "whatsapp:429"),
        (400, 131026, Result.permanent, "whatsapp:131026"),  # undeliverable
        (400, 100, Result.permanent, "whatsapp:100"),  # invalid parameter
        (404, 100, Result.permanent, "whatsapp:100"),
        (400, 131053, Result.permanent, "whatsapp:131053"),  # media upload error
        (500, 1, Result.transient, "whatsapp:1"),
        (503, None, Result.transient, "whatsapp:503"),
        (401, 190, Result.transient, "whatsapp:190"),  # token refused: an operator fixes it
        (400, 190, Result.transient, "whatsapp:190"),
        (400, 0, Result.transient, "whatsapp:400"),  # AuthException
        (403, 10, Result.transient, "whatsapp:10"),  # permission denied
        (403, 200, Result.transient, "whatsapp:200"),
    ],
)
def test_each_graph_error_has_one_result(
    status: int, code: int | None, result: Result, error: str
) -> None:
    outcome = whatsapp.classify(status, code)
    assert (outcome.result, outcome.error, outcome.status) == (result, error, status)


def test_a_rate_limit_waits_as_long_as_graph_asks_else_a_second() -> None:
    assert whatsapp.classify(400, 130429, retry_after=12.0).retry_after == 12.0
    assert whatsapp.classify(400, 130429).retry_after == 1.0
    assert whatsapp.classify(400, 131026, retry_after=12.0).retry_after == 0.0


def _response(status: int, body: object, headers: dict[str, str] | None = None) -> httpx.Response:
    if isinstance(body, bytes):
        return httpx.Response(status, content=body, headers=headers)
    return httpx.Response(status, json=body, headers=headers)


def test_an_accepted_message_is_sent_with_its_wamid() -> None:
    outcome = whatsapp.answer(_response(200, {"messages": [{"id": "wamid.X"}]}))
    assert (outcome.result, outcome.message_id, outcome.error) == (Result.sent, "wamid.X", "")


def test_a_graph_error_body_is_read_with_its_retry_after_header() -> None:
    body = {"error": {"message": "(#130429) Rate limit hit", "code": 130429, "type": "OAuth"}}
    outcome = whatsapp.answer(_response(400, body, {"Retry-After": "7"}))
    assert (outcome.result, outcome.error, outcome.retry_after) == (
        Result.rate_limited,
        "whatsapp:130429",
        7.0,
    )
    closed = whatsapp.answer(_response(400, {"error": {"code": "131047"}}))
    assert closed.result == Result.window_closed
    undeliverable = whatsapp.answer(_response(400, {"error": {"code": 131026}}))
    assert (undeliverable.result, undeliverable.error) == (Result.permanent, "whatsapp:131026")


def test_an_unreadable_error_falls_back_on_the_http_status() -> None:
    assert whatsapp.answer(_response(502, b"<html>bad gateway</html>")).result == Result.transient
    limited = whatsapp.answer(_response(429, b"", {"Retry-After": "soon"}))
    assert (limited.result, limited.retry_after) == (Result.rate_limited, 1.0)
    assert whatsapp.answer(_response(400, ["not", "a", "dict"])).result == Result.permanent
