"""The console's share of the settings, resolved once when the console is built."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from welcome.settings import Settings

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
        )


def _secret_key(settings: Settings) -> str:
    key = settings.secret_key.get_secret_value()
    if key:
        return key
    key = _read_env_file(settings.var_dir / "secrets.env", "SECRET_KEY")
    if key:
        return key
    log.warning(
        "SECRET_KEY not set: the console uses a key valid for this process only "
        "(run scripts/setup.sh to generate one)"
    )
    return secrets.token_urlsafe(48)


def _read_env_file(path: Path, name: str) -> str:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return ""
    for line in lines:
        key, sep, value = line.partition("=")
        if sep and key.strip() == name:
            return value.strip().strip("'\"")
    return ""
