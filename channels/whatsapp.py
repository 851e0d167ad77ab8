"""WhatsApp Cloud API: the 24-hour customer-service window, and how a Graph answer maps
onto ``channels.outcome``.

Free-form messages reach a citizen only within ``WINDOW`` of their last message; outside
it only an approved template does. Graph errors come back as ``{"error": {"message",
"type", "code", "error_data": {"details"}, "fbtrace_id"}}``; the code decides:

- 131047 (re-engagement message): the window is closed;
- HTTP 429 or 4, 80007, 130429, 131056 (throughput and pair rate limits): rate limited,
  after the Retry-After header (1 s without one);
- HTTP 5xx, and refused credentials (HTTP 401/403, codes 0 and 190: the token or the
  app's permissions, fixed by an operator): transient;
- anything else (131026 undeliverable, 100 invalid parameter, ...): permanent.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx

from channels.outcome import Outcome, Result

WINDOW = timedelta(hours=24)
WINDOW_CLOSED_CODE = 131047
RATE_LIMIT_CODES = frozenset({4, 80007, 130429, 131056})
AUTH_CODES = frozenset({0, 190})
AUTH_STATUSES = frozenset({401, 403})
DEFAULT_RETRY_AFTER = 1.0  # a rate limit without a Retry-After header
WINDOW_CLOSED = "whatsapp:window-closed"


def window_open(last_inbound_at: datetime | None, now: datetime) -> bool:
    """Free-form messages are allowed: the citizen wrote less than 24 hours ago."""
    return last_inbound_at is not None and now - last_inbound_at < WINDOW


def window_closed() -> Outcome:
    """Not sent: outside the window (known beforehand, or answered with 131047)."""
    return Outcome(Result.window_closed, error=WINDOW_CLOSED)


def classify(status: int, code: int | None, *, retry_after: float = 0.0) -> Outcome:
    """A request Graph refused with HTTP ``status`` and error ``code``."""
    error = f"whatsapp:{code or status}"
    if code == WINDOW_CLOSED_CODE:
        return Outcome(Result.window_closed, error=WINDOW_CLOSED, status=status)
    if status == 429 or code in RATE_LIMIT_CODES:
        return Outcome(
            Result.rate_limited,
            error=error,
            retry_after=retry_after or DEFAULT_RETRY_AFTER,
            status=status,
        )
    if status >= 500 or status in AUTH_STATUSES or code in AUTH_CODES:
        return Outcome(Result.transient, error=error, status=status)
    return Outcome(Result.permanent, error=error, status=status)


def answer(response: httpx.Response) -> Outcome:
    """A Graph HTTP answer: sent (the message's wamid, when there is one) or classified."""
    try:
        payload: Any = response.json()
    except ValueError:
        payload = {}
    if not isinstance(payload, dict):
        payload = {}
    if response.status_code < 400:
        messages = payload.get("messages") or [{}]
        return Outcome(
            Result.sent, message_id=str(messages[0].get("id") or ""), status=response.status_code
        )
    code: int | None
    try:
        raw = (payload.get("error") or {}).get("code")
        code = int(raw) if raw is not None else None
    except (ValueError, AttributeError, TypeError):
        code = None
    try:
        retry_after = float(response.headers.get("Retry-After") or 0)
    except ValueError:
        retry_after = 0.0
    return classify(response.status_code, code, retry_after=retry_after)
