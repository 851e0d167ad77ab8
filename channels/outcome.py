"""What a channel did with one request, in one taxonomy for every channel and caller.

The gateway raises ``ChannelError`` (its outbox retries, holds or fails the message); the
broadcast worker's senders return the ``Outcome`` (its queue records it). Both build them
with the per-channel rules in ``channels.telegram`` and ``channels.whatsapp``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import httpx


class Result(StrEnum):
    sent = "sent"
    rate_limited = "rate_limited"  # 429 and the like: retry after ``retry_after``
    blocked = "blocked"  # the citizen blocked the bot: never retried
    transient = "transient"  # network, server error, refused credentials: retry later
    permanent = "permanent"  # invalid request, unknown chat: never retried
    window_closed = "window_closed"  # WhatsApp: outside the 24-hour window, not sent


RETRYABLE = frozenset({Result.rate_limited, Result.transient})


@dataclass(frozen=True)
class Outcome:
    result: Result
    error: str = ""  # a short code ("telegram:403", "whatsapp:131026"), never text or a chat id
    retry_after: float = 0.0  # rate_limited: what the channel asked for (seconds)
    message_id: str | None = None  # sent: the message's id on the channel
    uncertain: bool = False  # the request may have reached the channel (read timeout)
    file_id: str | None = None  # a picture uploaded with this request (reused later)
    status: int = 0  # the HTTP status of the channel's answer (0: no answer)


class ChannelError(Exception):
    """The channel did not do what was asked; ``outcome`` says why and what follows."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome.error)
        self.outcome = outcome

    @property
    def code(self) -> str:
        return self.outcome.error

    @property
    def result(self) -> Result:
        return self.outcome.result

    @property
    def retry_after(self) -> float:
        return self.outcome.retry_after


def transport_outcome(exc: httpx.HTTPError, prefix: str) -> Outcome:
    """No answer came (``prefix``: "telegram", "whatsapp", ...): transient. The request may
    have reached the channel unless it never left (connection or pool refused)."""
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        return Outcome(Result.transient, error=f"{prefix}:connect")
    kind = "timeout" if isinstance(exc, httpx.TimeoutException) else "network"
    return Outcome(Result.transient, error=f"{prefix}:{kind}", uncertain=True)
