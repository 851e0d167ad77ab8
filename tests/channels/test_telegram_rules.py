"""channels.telegram: one classification of Bot API answers, whether read over HTTP (the
broadcast worker) or raised by python-telegram-bot (the gateway)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from telegram import error as tg

from channels import telegram
from channels.outcome import Outcome, Result

# PTB warns that RetryAfter.retry_after becomes a timedelta one day: retry_after_seconds
# reads both
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


@pytest.mark.parametrize(
    ("status", "result"),
    [
        (429, Result.rate_limited),
        (403, Result.blocked),  # blocked by the user, kicked from the group
        (400, Result.permanent),  # chat not found, bad markup, chat migrated
        (401, Result.transient),  # token refused
        (404, Result.transient),
        (409, Result.transient),
        (500, Result.transient),
        (502, Result.transient),
    ],
)
def test_each_status_has_one_result(status: int, result: Result) -> None:
    outcome = telegram.classify(status)
    assert (outcome.result, outcome.error, outcome.status) == (result, f"telegram:{status}", status)


def test_a_429_waits_for_retry_after_else_a_second() -> None:
    assert telegram.classify(429, retry_after=17).retry_after == 17.0
    assert telegram.classify(429).retry_after == 1.0
    assert telegram.classify(403, retry_after=17).retry_after == 0.0


def _answer(status: int, payload: dict[str, Any]) -> Outcome:
    return telegram.answer(httpx.Response(status, json=payload))


def test_a_sent_message_keeps_its_id_and_the_largest_photo() -> None:
    outcome = _answer(200, {"ok": True, "result": {"message_id": 41}})
    assert (outcome.result, outcome.message_id, outcome.file_id) == (Result.sent, "41", None)
    photos = [{"file_id": "small"}, {"file_id": "large"}]
    outcome = _answer(200, {"ok": True, "result": {"message_id": 42, "photo": photos}})
    assert (outcome.message_id, outcome.file_id) == ("42", "large")


def test_an_http_answer_is_read_with_its_parameters() -> None:
    limited = _answer(
        429,
        {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 5",
            "parameters": {"retry_after": 5},
        },
    )
    assert (limited.result, limited.error, limited.retry_after) == (
        Result.rate_limited,
        "telegram:429",
        5.0,
    )
    blocked = _answer(
        403,
        {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"},
    )
    assert (blocked.result, blocked.error) == (Result.blocked, "telegram:403")
    # the body's error_code wins over the HTTP status; an unreadable body falls back on it
    assert _answer(200, {"ok": False, "error_code": 400}).result == Result.permanent
    assert telegram.answer(httpx.Response(502, content=b"bad gateway")).error == "telegram:502"


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (tg.RetryAfter(3), Outcome(Result.rate_limited, "telegram:429", 3.0, status=429)),
        (tg.Forbidden("bot was blocked by the user"), telegram.classify(403)),
        (tg.BadRequest("chat not found"), telegram.classify(400)),
        (tg.ChatMigrated(-100123), telegram.classify(400)),
        (tg.InvalidToken("Unauthorized"), telegram.classify(401)),
        (tg.Conflict("terminated by other getUpdates"), telegram.classify(409)),
        (tg.TimedOut(), Outcome(Result.transient, "telegram:timeout", uncertain=True)),
        (tg.NetworkError("Bad Gateway"), Outcome(Result.transient, "telegram:network")),
        (
            tg.TelegramError("Invalid server response"),
            Outcome(Result.transient, "telegram:TelegramError"),
        ),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, Exception) else "",
)
def test_a_ptb_exception_maps_onto_the_same_answer(
    exc: tg.TelegramError, expected: Outcome
) -> None:
    assert telegram.from_error(exc) == expected


@pytest.mark.parametrize(
    ("exc", "payload"),
    [
        (tg.RetryAfter(9), {"error_code": 429, "parameters": {"retry_after": 9}}),
        (tg.Forbidden("blocked"), {"error_code": 403}),
        (tg.BadRequest("bad"), {"error_code": 400}),
        (tg.InvalidToken("Unauthorized"), {"error_code": 401}),
    ],
    ids=["429", "403", "400", "401"],
)
def test_the_gateway_and_the_broadcast_worker_agree(
    exc: tg.TelegramError, payload: dict[str, Any]
) -> None:
    status = int(payload["error_code"])
    over_http = _answer(status, {"ok": False, "description": "x", **payload})
    assert telegram.from_error(exc) == over_http


def test_retry_after_in_seconds_from_an_int_or_a_timedelta() -> None:
    assert telegram.retry_after_seconds(tg.RetryAfter(4)) == 4.0
    assert telegram.retry_after_seconds(tg.RetryAfter(timedelta(seconds=2.5))) == 2.5
