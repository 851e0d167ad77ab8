"""The gateway's FastAPI application: web chat, Telegram webhook, WhatsApp webhook, health.

The lifespan builds the Gateway, starts the outbox worker and, when TELEGRAM_BOT_TOKEN is
set, the python-telegram-bot Application (long polling, or webhook when
TELEGRAM_WEBHOOK_URL is set); the WhatsApp channel runs when its access token and phone
number id are set. The web chat always runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text
from sqlalchemy.engine import Engine

from bot import wording
from bot.channels.telegram import webhook as telegram_webhook
from bot.channels.telegram.runtime import TelegramRuntime, build_application, file_base_url
from bot.channels.webchat import api as webchat_api
from bot.channels.webchat import documents as webchat_documents
from bot.channels.webchat.channel import WebChatChannel
from bot.channels.webchat.ratelimit import AddressLimits
from bot.channels.whatsapp import webhook as whatsapp_webhook
from bot.channels.whatsapp.channel import WhatsAppChannel
from bot.channels.whatsapp.client import GraphClient
from bot.gateway import Gateway, GatewayConfig
from bot.outbox import OutboxWorker
from bot.rasa_client import RasaClient
from bot.recorded_turns import RecordedTurns
from bot.review_capture import ReviewCapture
from conversations.language import warm_up as warm_up_languages
from conversations.uploads import UploadStore
from core.body_limit import BodyLimit
from core.database import Database
from core.db import make_engine
from core.events import EventBus
from core.limits import limit_store
from core.local_secrets import resolve_secret
from core.security_headers import PublicSecurityHeaders
from core.settings import Settings, get_settings
from core.shared_locks import SharedKeyedLocks
from core.timeutil import utcnow
from monitoring.summaries.job import SummaryWorker, refresh_now
from privacy.retention import RetentionWorker, purge_with_settings, tracker_engine_url
from providers.applications import DOCUMENT_KINDS
from providers.web import PATH as ADHESION_PATH
from server.adhesion import attach_adhesion
from server.broadcasts import attach_broadcasts
from server.cluster import job_lease, lease, share_events, shared_locks
from server.console import CONSOLE_PATH, attach_console
from server.welfare import attach_welfare

log = logging.getLogger(__name__)

TELEGRAM_RETRY_SECONDS = 30.0
LOGIN_MAX_BODY_BYTES = 16 * 1024  # e-mail, password (at most 1024), CSRF token, next


@dataclass(frozen=True)
class WhatsAppConfig:
    verify_token: str
    app_secret: str
    phone_number_id: str


def _secret(value: Any) -> str:
    return value.get_secret_value() if value is not None else ""


def _limits_salt(settings: Settings) -> str:
    """The salt of the shared limits' Redis keys (no client address in the clear): SECRET_KEY,
    the same for every gateway process of one installation."""
    if not settings.gateway_redis_url:
        return ""
    return resolve_secret(_secret(settings.secret_key), settings.var_dir, "SECRET_KEY")


def build_gateway(settings: Settings, engine: Engine) -> Gateway:
    action_server = settings.action_server_url or f"http://127.0.0.1:{settings.action_server_port}"
    gateway = Gateway(
        db=Database(engine),
        rasa=RasaClient(
            rasa_url=settings.rasa_url,
            token=_secret(settings.rasa_auth_token),
            action_server_url=action_server,
            timeout=settings.rasa_timeout_seconds,
        ),
        uploads=UploadStore(settings.var_dir / "uploads", settings.upload_max_bytes),
        events=EventBus(),
        config=GatewayConfig(
            consent_version=settings.privacy_notice_version,
            message_max_chars=settings.message_max_chars,
            retry_base_seconds=max(0.5, settings.outbox_interval_seconds),
            retry_max_seconds=settings.outbox_max_backoff_seconds,
        ),
    )
    gateway.register(WebChatChannel())
    tracker = make_engine(tracker_engine_url(settings))  # Rasa's store, read only
    gateway.review = ReviewCapture(
        gateway.db, tracker, threshold=settings.review_confidence_threshold
    )
    gateway.recorded = RecordedTurns(tracker)
    shared = shared_locks(settings)
    if shared is not None:
        gateway.locks = shared
    return gateway


async def _start_telegram(app: FastAPI, settings: Settings, gateway: Gateway) -> None:
    """Start Telegram, retrying while the Bot API cannot be reached (the web chat runs anyway)."""
    token = _secret(settings.telegram_bot_token)
    webhook_secret = _secret(settings.telegram_webhook_secret)
    if settings.telegram_webhook_url and not webhook_secret:
        log.error(
            "telegram: TELEGRAM_WEBHOOK_URL needs TELEGRAM_WEBHOOK_SECRET; Telegram not started"
        )
        return
    app.state.telegram_webhook_secret = webhook_secret
    while True:
        application = build_application(
            token=token,
            base_url=settings.telegram_api_base_url,
            base_file_url=file_base_url(
                settings.telegram_api_base_url, settings.telegram_file_base_url
            ),
        )
        runtime = TelegramRuntime(application, gateway, settings.upload_max_bytes)
        try:
            await runtime.start(
                webhook_url=settings.telegram_webhook_url,
                webhook_secret=webhook_secret,
                poll_timeout=settings.telegram_poll_timeout,
                lease=lease(settings, "telegram-polling", settings.telegram_poll_lease_seconds),
            )
        except asyncio.CancelledError:
            await runtime.stop()
            raise
        except Exception as exc:
            log.error(
                "telegram: could not start (%s); retry in %.0f s",
                type(exc).__name__,
                TELEGRAM_RETRY_SECONDS,
            )
            await runtime.stop()
            await asyncio.sleep(TELEGRAM_RETRY_SECONDS)
            continue
        app.state.telegram = runtime
        return


def create_app(settings: Settings | None = None, *, engine: Engine | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own_engine = engine is None
        db_engine = engine or make_engine(settings.effective_database_url)
        gateway = build_gateway(settings, db_engine)
        app.state.gateway = gateway
        # the language detector's model (about a second) and the catalogues, before the first
        # citizen waits for them (docs/languages.md)
        await asyncio.to_thread(warm_up_languages)
        relay = await share_events(gateway.events, settings, "conversations")
        app.state.telegram = None
        app.state.telegram_webhook_secret = ""
        app.state.whatsapp = None
        graph: GraphClient | None = None
        if _secret(settings.whatsapp_access_token) and settings.whatsapp_phone_number_id:
            graph = GraphClient(
                base_url=settings.whatsapp_graph_base_url,
                version=settings.whatsapp_api_version,
                phone_number_id=settings.whatsapp_phone_number_id,
                access_token=_secret(settings.whatsapp_access_token),
            )
            gateway.register(
                WhatsAppChannel(
                    graph,
                    gateway.db,
                    template_name=settings.whatsapp_template_name,
                    template_language=settings.whatsapp_template_language,
                    max_file_bytes=settings.upload_max_bytes,
                )
            )
            app.state.whatsapp = WhatsAppConfig(
                verify_token=_secret(settings.whatsapp_verify_token),
                app_secret=_secret(settings.whatsapp_app_secret),
                phone_number_id=settings.whatsapp_phone_number_id,
            )
            if not app.state.whatsapp.app_secret:
                log.error("whatsapp: WHATSAPP_APP_SECRET is empty: every webhook call is refused")
            log.info("whatsapp: channel ready")
        telegram_task = None
        if _secret(settings.telegram_bot_token):
            telegram_task = asyncio.get_running_loop().create_task(
                _start_telegram(app, settings, gateway), name="telegram-start"
            )
        outbox = OutboxWorker(gateway, settings.outbox_interval_seconds)
        outbox.start()
        retention: RetentionWorker | None = None
        if settings.retention_purge_interval_hours > 0:
            retention = RetentionWorker(
                lambda: purge_with_settings(settings, db_engine, utcnow()),
                settings.retention_purge_interval_hours * 3600,
            )
            retention.lease = job_lease(settings, "retention", retention.interval)
            retention.start()
        app.state.retention = retention
        summaries: SummaryWorker | None = None
        events = make_engine(tracker_engine_url(settings))  # Rasa's store, read by the job
        if settings.monitoring_summary_interval_seconds > 0:
            summaries = SummaryWorker(
                lambda: refresh_now(db_engine, utcnow(), events),
                settings.monitoring_summary_interval_seconds,
            )
            summaries.lease = job_lease(settings, "monitoring-summaries", summaries.interval)
            summaries.start()
        try:
            yield
        finally:
            if relay is not None:
                await relay.stop()
            if summaries is not None:
                await summaries.stop()
            events.dispose()
            if retention is not None:
                await retention.stop()
            await outbox.stop()
            if telegram_task is not None:
                telegram_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await telegram_task
            if app.state.telegram is not None:
                await app.state.telegram.stop()
            await gateway.shutdown()
            if isinstance(gateway.locks, SharedKeyedLocks):
                await gateway.locks.aclose()
            await gateway.rasa.aclose()
            if gateway.review is not None:
                gateway.review.tracker.dispose()
            if graph is not None:
                await graph.aclose()
            await app.state.webchat_limits.store.aclose()
            if own_engine:
                db_engine.dispose()

    # no /openapi.json, /docs or /redoc: the public gateway describes none of its routes
    app = FastAPI(
        title="WEL.CO.ME gateway",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.mount(
        "/static/webchat",
        StaticFiles(directory=webchat_api.STATIC_DIR),
        name="webchat-static",
    )
    app.include_router(webchat_api.router)
    app.include_router(webchat_documents.router)
    app.include_router(telegram_webhook.router)
    app.include_router(whatsapp_webhook.router)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, Any]:
        gateway: Gateway = app.state.gateway
        await gateway.db.run(lambda session: session.exec(text("select 1")))  # type: ignore[call-overload]
        return {
            "status": "ok",
            "channels": sorted(str(name) for name in gateway.channels),
        }

    attach_console(app, settings, engine=engine)  # the staff console and the hand-off (issue 5)
    attach_welfare(app, engine=engine, settings=settings)  # voucher QR, appointment reminders
    attach_broadcasts(app, settings, engine=engine)  # hub announcements, delivery worker
    # per-client counters: in this process, or in Redis shared by every gateway process
    limits = limit_store(settings.gateway_redis_url, salt=_limits_salt(settings))
    attach_adhesion(app, settings, engine=engine, limits=limits)  # /aderisci (issue 16)
    app.state.webchat_limits = AddressLimits.from_values(
        sessions_per_hour=settings.webchat_sessions_per_address_per_hour,
        emergencies_per_hour=settings.webchat_emergencies_per_address_per_hour,
        uploads_per_hour=settings.webchat_uploads_per_address_per_hour,
        streams=settings.webchat_streams_per_address,
        trusted_proxies=settings.trusted_proxies,
        store=limits,
    )
    app.add_middleware(
        PublicSecurityHeaders, skip_prefixes=(CONSOLE_PATH,), https=settings.console_https
    )
    # added last, so outermost of ours: no route reads more than its limit (413 first)
    app.add_middleware(
        BodyLimit,
        default=settings.http_max_body_bytes,
        routes=body_limits(settings),
        detail=wording.REQUEST_TOO_LARGE,
    )
    return app


def body_limits(settings: Settings) -> list[tuple[str, int | None]]:
    """Routes whose bodies may be larger (files) or must be smaller (the login form) than
    HTTP_MAX_BODY_BYTES. The web chat's files cap their body themselves at UPLOAD_MAX_BYTES
    (by its Content-Length, then as it streams), so that the citizen reads why in the
    conversation's language."""
    multipart = 64 * 1024  # the form's other fields and the multipart framing
    return [
        ("/api/chat/files", None),
        (f"{CONSOLE_PATH}/avvisi", settings.broadcast_image_max_bytes + multipart),
        (f"{CONSOLE_PATH}/accesso", LOGIN_MAX_BODY_BYTES),
        (ADHESION_PATH, len(DOCUMENT_KINDS) * settings.upload_max_bytes + multipart),
    ]
