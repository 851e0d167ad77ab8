"""channels.outcome: the one error type, and transport failures (no answer)."""

from __future__ import annotations

import httpx
import pytest

from channels.outcome import RETRYABLE, ChannelError, Outcome, Result, transport_outcome

REQUEST = httpx.Request("POST", "https://api.example/send")


@pytest.mark.parametrize(
    ("exc", "error", "uncertain"),
    [
        (httpx.ConnectError("refused", request=REQUEST), "telegram:connect", False),
        (httpx.ConnectTimeout("slow", request=REQUEST), "telegram:connect", False),
        (httpx.PoolTimeout("pool", request=REQUEST), "telegram:connect", False),
        (httpx.ReadTimeout("slow", request=REQUEST), "telegram:timeout", True),
        (httpx.WriteTimeout("slow", request=REQUEST), "telegram:timeout", True),
        (httpx.RemoteProtocolError("closed", request=REQUEST), "telegram:network", True),
        (httpx.ReadError("reset", request=REQUEST), "telegram:network", True),
    ],
)
def test_no_answer_is_transient_and_uncertain_once_the_request_left(
    exc: httpx.HTTPError, error: str, uncertain: bool
) -> None:
    assert transport_outcome(exc, "telegram") == Outcome(
        Result.transient, error=error, uncertain=uncertain
    )


def test_the_error_carries_its_outcome() -> None:
    outcome = Outcome(Result.rate_limited, error="whatsapp:130429", retry_after=3.0, status=400)
    exc = ChannelError(outcome)
    assert (exc.outcome, exc.code, exc.result, exc.retry_after) == (
        outcome,
        "whatsapp:130429",
        Result.rate_limited,
        3.0,
    )
    assert str(exc) == "whatsapp:130429"


def test_only_rate_limits_and_transient_failures_are_retried() -> None:
    assert {Result.rate_limited, Result.transient} == RETRYABLE
    assert {r.value for r in Result} == {
        "sent",
        "rate_limited",
        "blocked",
        "transient",
        "permanent",
        "window_closed",
    }
