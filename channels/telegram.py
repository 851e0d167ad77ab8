"""Telegram Bot API: how an answer maps onto ``channels.outcome``.

The Bot API answers ``{"ok": false, "error_code", "description", "parameters":
{"retry_after", "migrate_to_chat_id"}}``. The broadcast worker reads it over HTTP
(``answer``); the gateway uses python-telegram-bot, whose exceptions carry the same facts
(``from_error``). Both end in ``classify``: 429 -> rate limited (``retry_after``, at least
the second Telegram asks), 403 -> blocked by the citizen, 400 -> permanent, anything else
(5xx, 401/404 refused token, 409) -> transient.
"""

from __future__ import annotations

import warnings
from datetime import timedelta

import httpx
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from channels.outcome import Outcome, Result

DEFAULT_RETRY_AFTER = 1.0  # a 429 without parameters.retry_after


def classify(status: int, *, retry_after: float | None = None) -> Outcome:
    """A request the Bot API refused with ``status`` (its ``error_code``)."""
    error = f"telegram:{status}"
    if status == 429:
        return Outcome(
            Result.rate_limited,
            error=error,
            retry_after=float(retry_after or DEFAULT_RETRY_AFTER),
            status=status,
        )
    if status == 403:  # blocked by the user, kicked from the group
        return Outcome(Result.blocked, error=error, status=status)
    if status == 400:  # invalid request, chat not found, chat migrated
        return Outcome(Result.permanent, error=error, status=status)
    return Outcome(Result.transient, error=error, status=status)


def answer(response: httpx.Response) -> Outcome:
    """A Bot API HTTP answer to sendMessage / sendPhoto."""
    try:
        payload = response.json()
    except ValueError:
        payload = {}
    if response.status_code == 200 and payload.get("ok"):
        result = payload.get("result") or {}
        photos = result.get("photo") or []
        file_id = str(photos[-1]["file_id"]) if photos and photos[-1].get("file_id") else None
        return Outcome(
            Result.sent,
            message_id=str(result.get("message_id", "")),
            file_id=file_id,
            status=response.status_code,
        )
    status = int(payload.get("error_code") or response.status_code)
    return classify(status, retry_after=(payload.get("parameters") or {}).get("retry_after"))


def retry_after_seconds(exc: RetryAfter) -> float:
    """RetryAfter.retry_after in seconds (an int today, a timedelta in a future PTB)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def from_error(exc: TelegramError) -> Outcome:
    """A python-telegram-bot exception: the Bot API answer it stands for, classified."""
    if isinstance(exc, RetryAfter):
        return classify(429, retry_after=retry_after_seconds(exc))
    if isinstance(exc, Forbidden):
        return classify(403)
    if isinstance(exc, BadRequest | ChatMigrated):  # before NetworkError: BadRequest is one
        return classify(400)
    if isinstance(exc, InvalidToken):
        return classify(401)
    if isinstance(exc, Conflict):
        return classify(409)
    if isinstance(exc, TimedOut):  # the request left: Telegram may have taken it
        return Outcome(Result.transient, error="telegram:timeout", uncertain=True)
    if isinstance(exc, NetworkError):  # no answer, or a 5xx
        return Outcome(Result.transient, error="telegram:network")
    return Outcome(Result.transient, error=f"telegram:{type(exc).__name__}"[:60])
