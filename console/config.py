"""The console's share of the settings, resolved once when the console is built."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

from core.local_secrets import resolve_secret
from core.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConsoleConfig:
    secret_key: str
    https: bool
    session_idle: timedelta
    session_max_age: timedelta
    max_failures_per_email: int
    max_failures_per_ip: int
    login_window: timedelta
    tz: ZoneInfo
    trusted_proxies: str = ""  # TRUSTED_PROXIES: who may name the client (core.net)

    @classmethod
    def from_settings(cls, settings: Settings) -> ConsoleConfig:
        return cls(
            secret_key=_secret_key(settings),
            https=settings.console_https,
            session_idle=timedelta(minutes=settings.console_session_idle_minutes),
            session_max_age=timedelta(hours=settings.console_session_max_hours),
            max_failures_per_email=settings.console_login_max_failures_per_email,
            max_failures_per_ip=settings.console_login_max_failures_per_ip,
            login_window=timedelta(minutes=settings.console_login_window_minutes),
            tz=settings.tz,
            trusted_proxies=settings.trusted_proxies,
        )


def _secret_key(settings: Settings) -> str:
    """SECRET_KEY from the settings, else the generated one of VAR_DIR/secrets.env."""
    try:
        return resolve_secret(
            settings.secret_key.get_secret_value(), settings.var_dir, "SECRET_KEY"
        )
    except OSError as error:
        log.warning(
            "SECRET_KEY not set and %s not writable (%s): the console uses a key valid "
            "for this process only",
            settings.var_dir,
            type(error).__name__,
        )
        return secrets.token_urlsafe(48)
