"""Logging of our processes: one format, quiet HTTP clients, secrets masked.

httpx logs every request at INFO with its URL, and the Telegram Bot API puts the bot token
in the URL path (``/bot<token>/sendMessage``): a worker logging at INFO would write the token
into its log. ``configure_logging`` keeps httpx and httpcore at WARNING and, as a second
guard, puts ``RedactSecrets`` on every root handler: a Telegram bot token, or a
``token=``/``Bearer`` value, in any record is replaced with ``[nascosto]`` before it is written.
"""

from __future__ import annotations

import logging
import re
import time

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
NOISY = ("httpx", "httpcore", "telegram.ext.AIORateLimiter")
MASK = "[nascosto]"

_SECRETS = re.compile(
    r"(?:(?<=bot)|(?<=\b))\d{5,12}:[A-Za-z0-9_-]{10,}"  # Telegram bot token
    r"|(?<=token=)[^&\s\"']+"  # ?token=... (Rasa's HTTP API)
    r"|(?<=Bearer )[A-Za-z0-9._~+/=-]{8,}"
)


def redact(text: str) -> str:
    return _SECRETS.sub(MASK, text)


class RedactSecrets(logging.Filter):
    """Masks secrets in the final message of a record (arguments included)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: leave it to the handler
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def quiet_http_clients() -> None:
    for name in NOISY:
        logging.getLogger(name).setLevel(logging.WARNING)


def configure_logging(level: int = logging.INFO, fmt: str = FORMAT) -> None:
    """The root logger at ``level`` on stderr, HTTP clients quiet, secrets masked."""
    logging.basicConfig(level=level, format=fmt)
    quiet_http_clients()
    guard = RedactSecrets()
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactSecrets) for f in handler.filters):
            handler.addFilter(guard)


class ThrottledWarning:
    """A warning logged at most once every ``seconds`` (the first one always): for a service
    that stays down (Redis, say), one line a minute rather than one per request."""

    def __init__(self, logger: logging.Logger, seconds: float = 60.0) -> None:
        self.logger = logger
        self.seconds = seconds
        self._last: float | None = None

    def __call__(self, message: str, *args: object) -> None:
        now = time.monotonic()
        if self._last is None or now - self._last >= self.seconds:
            self._last = now
            self.logger.warning(message, *args)
