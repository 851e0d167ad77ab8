"""The one settings object of the Python 3.11 side (gateway, action server, catalogue).

Every field is read from an environment variable of the same name in upper case
(e.g. ``database_url`` from ``DATABASE_URL``), or from a ``.env`` file in the
working directory. README.md documents every field with its default.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    # --- storage -----------------------------------------------------------
    var_dir: Path = Field(
        default=PROJECT_ROOT / "var",
        description="Folder for the SQLite files, uploads, secrets and logs of a local run.",
    )
    database_url: str = Field(
        default="",
        description="SQLAlchemy URL of the catalogue/gateway database. "
        "Empty means a SQLite file at VAR_DIR/welcome.db. "
        "PostgreSQL: postgresql+psycopg://user:pass@host:5432/dbname",
    )
    timezone: str = Field(default="Europe/Rome", description="Time zone of every date shown.")

    # --- catalogue ---------------------------------------------------------------
    catalog_data_dir: Path = Field(
        default=PROJECT_ROOT / "data" / "catalog",
        description="Folder of providers.yaml, services.yaml and welcome_places.yaml, read by "
        "`python -m catalog import` when no folder is given.",
    )
    search_pool_size: int = Field(
        default=60,
        description="Candidates the database ranks before the search re-ranks them in Python.",
    )

    # --- Rasa ----------------------------------------------------------------
    rasa_url: str = Field(default="http://127.0.0.1:5005", description="Rasa server base URL.")
    rasa_auth_token: SecretStr = Field(
        default=SecretStr(""),
        description="Token of Rasa's HTTP API; generated into VAR_DIR/secrets.env when empty.",
    )
    action_server_port: int = Field(default=5055, description="Port of the action server.")

    # --- gateway ----------------------------------------------------------------
    gateway_host: str = Field(default="127.0.0.1", description="Address the gateway binds.")
    gateway_port: int = Field(default=8000, description="Port of the gateway (web chat, console).")

    # --- budget ledger -----------------------------------------------------------
    link_code_ttl_hours: int = Field(
        default=72, description="How long a one-time linking code stays valid."
    )
    link_code_pepper: SecretStr = Field(
        default=SecretStr(""),
        description="Server-side secret mixed into the hash of linking codes; "
        "generated into VAR_DIR/secrets/link_code_pepper when empty.",
    )
    link_max_failed_attempts: int = Field(
        default=5, description="Wrong linking codes a conversation may try per window."
    )
    link_attempt_window_minutes: int = Field(
        default=60, description="Window of the linking rate limit, in minutes."
    )

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.var_dir / 'welcome.db'}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
