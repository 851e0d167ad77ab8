"""The one settings object of the Python 3.11 side (gateway, action server, catalogue).

Every field is read from an environment variable of the same name in upper case
(e.g. ``database_url`` from ``DATABASE_URL``), or from a ``.env`` file in the
working directory. README.md documents every field with its default.
Generated secrets (RASA_AUTH_TOKEN, SECRET_KEY, LINK_CODE_PEPPER, ACTION_SERVER_TOKEN) left
empty are read from VAR_DIR/secrets.env (core.local_secrets writes it).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import AliasChoices, Field, SecretStr, model_validator
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
        default=30,
        description="Candidates the database ranks before the search re-ranks them in Python.",
    )

    # --- Rasa ----------------------------------------------------------------
    rasa_url: str = Field(default="http://127.0.0.1:5005", description="Rasa server base URL.")
    rasa_auth_token: SecretStr = Field(
        default=SecretStr(""),
        description="Secret of Rasa's HTTP API and of its REST channel (the gateway sends it in "
        "a header; Rasa gets it in its environment, never on its command line); generated "
        "into VAR_DIR/secrets.env when empty.",
    )
    action_server_port: int = Field(default=5055, description="Port of the action server.")
    action_server_token: SecretStr = Field(
        default=SecretStr(""),
        description="Secret Rasa sends to the action server (which refuses every call "
        "without it, except /health); generated into VAR_DIR/secrets.env when empty.",
    )

    action_server_max_body_bytes: int = Field(
        default=8 * 1024 * 1024,
        ge=64 * 1024,
        description="Largest request the action server reads (Rasa's tracker of one session "
        "and the domain), refused with 413 before it is read; a long conversation's call "
        "measures well under it (docs/security.md).",
    )

    # --- rasa ------------------------------------------------------------------
    rasa_tracker_db_url: str = Field(
        default="",
        description="SQLAlchemy URL of Rasa's tracker store (the conversations). Empty means a "
        "SQLite file at VAR_DIR/rasa-tracker.db. PostgreSQL: postgresql://user:pass@host/db",
    )
    review_confidence_threshold: float = Field(
        default=0.6,
        ge=0.0,
        le=1.0,
        description="A citizen's message understood with less confidence than this goes to "
        "the review inbox («Revisione» in the console), with those that fell back or were out "
        "of scope.",
    )
    rasa_lock_store_url: str = Field(
        default="",
        validation_alias=AliasChoices("RASA_LOCK_STORE_URL", "REDIS_URL"),
        description="Redis URL of Rasa's lock store (needed when several Rasa instances "
        "serve one tracker store); falls back to REDIS_URL; empty means in-memory.",
    )
    rasa_workers: int = Field(
        default=1,
        ge=1,
        le=16,
        description="Rasa worker processes (Sanic workers), each with its own copy of the "
        "model: about one per spare CPU core. More than 1 needs RASA_LOCK_STORE_URL (Redis), "
        "used through an atomic lock store (docs/performance.md).",
    )
    rasa_tf_threads: int = Field(
        default=1,
        ge=1,
        description="TensorFlow threads of each Rasa worker (intra- and inter-op) when serving; "
        "1 measured 9 % less CPU per turn than TensorFlow's default on 2 cores. Training "
        "keeps TensorFlow's default.",
    )

    # --- gateway ----------------------------------------------------------------
    gateway_host: str = Field(default="127.0.0.1", description="Address the gateway binds.")
    gateway_port: int = Field(default=8000, description="Port of the gateway (web chat, console).")

    # --- gateway / channels ----------------------------------------------------
    telegram_bot_token: SecretStr = Field(
        default=SecretStr(""),
        description="Telegram bot token from @BotFather; empty means no Telegram channel.",
    )
    telegram_api_base_url: str = Field(
        default="https://api.telegram.org/bot",
        description="Bot API base URL (the token is appended); a local fake in tests.",
    )
    telegram_file_base_url: str = Field(
        default="",
        description="Bot API file download base URL; empty means derived from "
        "TELEGRAM_API_BASE_URL (…/bot -> …/file/bot).",
    )
    telegram_webhook_url: str = Field(
        default="",
        description="Public HTTPS URL of the gateway's /telegram/webhook; "
        "empty means long polling.",
    )
    telegram_webhook_secret: SecretStr = Field(
        default=SecretStr(""),
        description="secret_token Telegram sends with each webhook call (A-Z a-z 0-9 _ -, "
        "1-256 chars); required in webhook mode.",
    )
    telegram_poll_timeout: int = Field(
        default=25, description="Seconds a getUpdates long poll may wait for new updates."
    )
    telegram_poll_lease_seconds: float = Field(
        default=15.0,
        ge=1.0,
        description="With several gateway processes sharing GATEWAY_REDIS_URL, only the holder "
        "of this lease long-polls Telegram; a crashed holder is replaced within this time.",
    )
    whatsapp_access_token: SecretStr = Field(
        default=SecretStr(""),
        description="WhatsApp Cloud API access token; empty means no WhatsApp channel.",
    )
    whatsapp_phone_number_id: str = Field(
        default="", description="WhatsApp Cloud API phone number id the bot sends from."
    )
    whatsapp_app_secret: SecretStr = Field(
        default=SecretStr(""),
        description="Meta app secret: verifies X-Hub-Signature-256 of webhook calls.",
    )
    whatsapp_verify_token: SecretStr = Field(
        default=SecretStr(""),
        description="Token Meta echoes in the webhook verification handshake (hub.verify_token).",
    )
    whatsapp_graph_base_url: str = Field(
        default="https://graph.facebook.com",
        description="Graph API base URL; a local fake in tests.",
    )
    whatsapp_api_version: str = Field(default="v21.0", description="Graph API version.")
    whatsapp_template_name: str = Field(
        default="",
        description="Approved message template sent when the 24-hour customer-service window "
        "is closed; empty means such messages wait until the citizen writes again.",
    )
    whatsapp_template_language: str = Field(
        default="it", description="Language code of WHATSAPP_TEMPLATE_NAME."
    )
    upload_max_bytes: int = Field(
        default=10 * 1024 * 1024,
        description="Largest photo or document a citizen may send (JPEG, PNG, PDF only).",
    )
    privacy_notice_version: str = Field(
        default="2026-11",
        description="Version of the privacy notice; stored with each consent.",
    )
    message_max_chars: int = Field(
        default=10_000,
        description="Longer messages are stored whole but cut to this length for the assistant.",
    )
    http_max_body_bytes: int = Field(
        default=256 * 1024,
        ge=1024,
        description="Largest request body the gateway reads on any route, refused with 413 "
        "before it is parsed or its signature checked; web-chat files get UPLOAD_MAX_BYTES, "
        "announcement pictures BROADCAST_IMAGE_MAX_BYTES, the login form 16 KiB.",
    )
    trusted_proxies: str = Field(
        default="",
        description="Comma-separated addresses or networks of the reverse proxies in front of "
        "the gateway (e.g. 127.0.0.1 or 10.0.0.0/8): only from them is X-Forwarded-For "
        "believed for the client's address. Empty means the TCP peer is the client.",
    )
    gateway_redis_url: str = Field(
        default="",
        validation_alias=AliasChoices("GATEWAY_REDIS_URL", "REDIS_URL"),
        description="Redis URL shared by several gateway processes: the limits per client "
        "address and per chat count there, live events reach every process, one "
        "conversation is handled by one process at a time, and one process polls Telegram "
        "and runs the purge, summaries and reminders; falls back to REDIS_URL. Empty means "
        "one process alone (as `make run`).",
    )
    webchat_sessions_per_address_per_hour: int = Field(
        default=60,
        ge=1,
        description="New web-chat conversations (tokens) one client address may open per hour.",
    )
    webchat_emergencies_per_address_per_hour: int = Field(
        default=5,
        ge=1,
        description="Web-chat conversations from one client address whose messages may open "
        "an emergency hand-off per hour; beyond it the message is refused with the emergency "
        "numbers (112, 1522) in the answer.",
    )
    webchat_uploads_per_address_per_hour: int = Field(
        default=60,
        ge=1,
        description="Files (photos, PDF) one client address may send through the web chat per "
        "hour.",
    )
    webchat_streams_per_address: int = Field(
        default=20,
        ge=1,
        description="Web-chat event streams (open chat pages) one client address may hold at once.",
    )
    retention_unconsented_days: int = Field(
        default=30,
        ge=1,
        description="Days the messages of a conversation without privacy consent (written "
        "before accepting the notice, or by someone who declined it) are kept, with their "
        "files and Rasa events; then deleted by the retention purge like older ones.",
    )
    retention_months: int = Field(
        default=12,
        ge=1,
        description="Months citizens' messages, files, chat addresses and Rasa conversations "
        "are kept (the privacy notice says 12); older ones are deleted by the gateway's purge "
        "job and `python -m server purge`. Ledger entries and reimbursement receipts are kept.",
    )
    retention_purge_interval_hours: float = Field(
        default=24.0,
        ge=0,
        description="How often the gateway runs the retention purge; 0 means never "
        "(run `python -m server purge` from cron instead).",
    )
    rasa_timeout_seconds: float = Field(
        default=30.0, description="How long the gateway waits for a Rasa reply."
    )
    action_server_url: str = Field(
        default="",
        description="Action server base URL, checked when Rasa answers nothing; empty means "
        "http://127.0.0.1:ACTION_SERVER_PORT.",
    )
    outbox_interval_seconds: float = Field(
        default=2.0, description="How often the gateway retries messages waiting for Rasa."
    )
    outbox_max_backoff_seconds: float = Field(
        default=120.0, description="Longest wait between two retries of a waiting message."
    )

    # --- console / staff ----------------------------------------------------------
    secret_key: SecretStr = Field(
        default=SecretStr(""),
        description="Key signing the console's login-form token; generated into "
        "VAR_DIR/secrets.env when empty.",
    )
    console_https: bool = Field(
        default=False,
        description="True when the console is served over HTTPS (directly or behind a proxy): "
        "cookies get the Secure flag and HSTS is sent.",
    )
    console_session_idle_minutes: int = Field(
        default=30, description="A staff session ends after this many minutes without requests."
    )
    console_session_max_hours: int = Field(
        default=12, description="A staff session ends this many hours after login, in any case."
    )
    console_login_max_failures_per_email: int = Field(
        default=5,
        description="Failed logins per email from one client address within the window before "
        "a pause (failures from elsewhere never lock a staff member out).",
    )
    console_login_max_failures_per_ip: int = Field(
        default=20, description="Failed logins per client address within the window."
    )
    console_login_window_minutes: int = Field(
        default=15, description="Window of the login rate limits, in minutes."
    )

    # --- broadcasts ----------------------------------------------------------------
    broadcast_telegram_rate: float = Field(
        default=29.0,
        description="Announcements per second sent to Telegram, all workers together "
        "(Telegram allows about 30).",
    )
    broadcast_whatsapp_rate: float = Field(
        default=20.0, description="Announcements per second sent to WhatsApp, all workers together."
    )
    broadcast_per_chat_seconds: float = Field(
        default=1.0, description="Minimum gap between two announcements to the same chat."
    )
    broadcast_batch_size: int = Field(
        default=30, description="Deliveries a worker claims at a time."
    )
    broadcast_concurrency: int = Field(
        default=8, description="Deliveries a broadcast worker handles at once (threads)."
    )
    broadcast_lease_seconds: float = Field(
        default=60.0,
        description="How long a claimed delivery belongs to its worker; after a crash, "
        "another worker takes it over when the lease expires.",
    )
    broadcast_send_timeout_seconds: float = Field(
        default=10.0, description="Timeout of one request to the channel's API."
    )
    broadcast_max_attempts: int = Field(
        default=5, description="Tries of a delivery failing with temporary errors (5xx, network)."
    )
    broadcast_retry_base_seconds: float = Field(
        default=5.0, description="First retry delay; it doubles at each further attempt."
    )
    broadcast_retry_max_seconds: float = Field(
        default=600.0, description="Longest delay between two retries of a delivery."
    )
    broadcast_poll_seconds: float = Field(
        default=1.0, description="How often an idle broadcast worker looks for work."
    )
    broadcast_uncertain_policy: Literal["retry", "skip"] = Field(
        default="retry",
        description="A delivery in flight when its worker died: 'retry' sends it again "
        "(at-least-once), 'skip' marks it failed (at-most-once).",
    )
    broadcast_image_max_bytes: int = Field(
        default=5 * 1024 * 1024, description="Largest picture of an announcement (JPEG or PNG)."
    )

    # --- budget ledger -----------------------------------------------------------
    link_code_ttl_hours: int = Field(
        default=72, description="How long a one-time linking code stays valid."
    )
    link_code_pepper: SecretStr = Field(
        default=SecretStr(""),
        description="Server-side secret mixed into the hash of linking codes; "
        "generated into VAR_DIR/secrets.env when empty (moved there from the older "
        "VAR_DIR/secrets/link_code_pepper, never regenerated).",
    )
    link_max_failed_attempts: int = Field(
        default=5, description="Wrong linking codes a conversation may try per window."
    )
    link_attempt_window_minutes: int = Field(
        default=60, description="Window of the linking rate limit, in minutes."
    )

    # --- welfare: vouchers and reimbursements --------------------------------------
    welfare_public_url: str = Field(
        default="",
        description="Public base URL of the gateway (https://...) in links opened from a "
        "phone: the voucher's QR image sent in chat, and the console's redemption page the "
        "QR opens for provider staff. Empty means the origin of TELEGRAM_WEBHOOK_URL, else "
        "http://127.0.0.1:GATEWAY_PORT.",
    )
    reimbursement_max_age_days: int = Field(
        default=365,
        ge=1,
        description="How old a receipt may be for a reimbursement request in chat, in days.",
    )

    # --- monitoring (Data Analyst) ------------------------------------------------
    monitoring_min_count: int = Field(
        default=5,
        ge=2,
        description="Smallest number of people a figure of the monitoring section, its CSV "
        "exports and the monthly report may show; smaller ones read «<N» and are kept out of "
        "totals that would reveal them.",
    )
    monitoring_summary_interval_seconds: float = Field(
        default=300.0,
        ge=0,
        description="How often the gateway brings the monitoring summaries up to date "
        "(today and the day before, from the raw rows); 0 means never.",
    )

    # --- providers: adhesion and their own services ----------------------------------
    adhesion_two_members: bool = Field(
        default=False,
        description="Decisions of the adhesion commission (approve, ask for changes, reject, "
        "suspend, reinstate) need a second member to confirm them.",
    )
    provider_trusted_edits: bool = Field(
        default=False,
        description="Providers' small edits to a published service (hours, contacts) are "
        "published at once and the commission sees them afterwards; other changes always wait "
        "for the commission.",
    )
    adhesion_applications_per_address_per_hour: int = Field(
        default=5,
        ge=1,
        description="Submissions of the /aderisci page (applications and answers) one client "
        "address may send per hour.",
    )
    adhesion_link_hours: int = Field(
        default=72,
        ge=1,
        description="How long the one-time link to set a new provider account's first "
        "password stays valid, in hours.",
    )

    @model_validator(mode="after")
    def _read_generated_secrets(self) -> Settings:
        """Empty generated secrets come from VAR_DIR/secrets.env (core.local_secrets)."""
        from core.local_secrets import SETTING_OF, read_secrets

        stored = read_secrets(self.var_dir)
        for name, field in SETTING_OF.items():
            if stored.get(name) and not getattr(self, field).get_secret_value():
                setattr(self, field, SecretStr(stored[name]))
        return self

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
