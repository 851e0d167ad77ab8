"""The Telegram side of the gateway: a python-telegram-bot Application, fed by long polling
(the default) or by the webhook route, and the ingest step both share.

We drive getUpdates ourselves instead of PTB's Updater because the Updater confirms an
update (advances the offset) as soon as it is queued in memory; here the offset moves only
after the update is committed to the database, so a crash or a restart loses nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from telegram import BotCommand, Update
from telegram.error import (
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder

from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.convert import inbound_from_update
from bot.commands import COMMANDS
from bot.gateway import Gateway
from channels.telegram import retry_after_seconds
from conversations.models import Kind
from core.i18n import gettext, languages
from core.lease import Lease, while_leader

log = logging.getLogger(__name__)

POISON_ATTEMPTS = 5  # an update that cannot be stored after this many tries is skipped
ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "channel_post"]


def file_base_url(api_base_url: str, explicit: str = "") -> str:
    """https://api.telegram.org/bot -> https://api.telegram.org/file/bot"""
    if explicit:
        return explicit
    base = api_base_url.rstrip("/")
    head, _, tail = base.rpartition("/")
    return f"{head}/file/{tail}" if head else f"{base}/file"


def build_application(
    *, token: str, base_url: str, base_file_url: str, max_retries: int = 3
) -> Application:  # type: ignore[type-arg]
    return (
        ApplicationBuilder()
        .token(token)
        .base_url(base_url)
        .base_file_url(base_file_url)
        .rate_limiter(AIORateLimiter(max_retries=max_retries))
        .updater(None)
        .connection_pool_size(64)
        .get_updates_connection_pool_size(2)
        .build()
    )


class TelegramRuntime:
    """Owns the Application; turns updates into stored messages; polls when asked to."""

    def __init__(self, application: Application, gateway: Gateway, max_file_bytes: int) -> None:  # type: ignore[type-arg]
        self.application = application
        self.gateway = gateway
        self.channel = TelegramChannel(application.bot, max_file_bytes)
        self._poller: asyncio.Task[None] | None = None
        self._failures: dict[int, int] = {}
        self.bot_id = 0
        self.bot_username = ""

    async def start(
        self,
        *,
        webhook_url: str = "",
        webhook_secret: str = "",
        poll_timeout: int = 25,
        lease: Lease | None = None,
    ) -> None:
        """Webhook mode in every process; long polling only while holding ``lease`` (one
        process of several; None: this process alone)."""
        await self.application.initialize()  # getMe
        me = self.application.bot.bot
        self.bot_id, self.bot_username = me.id, me.username or ""
        self.gateway.register(self.channel)
        await self.application.bot.set_my_commands(
            [BotCommand(c.name, c.description) for c in COMMANDS]
        )
        for code in languages().codes[1:]:  # the menu for users whose Telegram is in English
            await self.application.bot.set_my_commands(
                [BotCommand(c.name, gettext(code, c.description)) for c in COMMANDS],
                language_code=code,
            )
        await self.application.start()
        if webhook_url:
            await self.application.bot.set_webhook(
                webhook_url, secret_token=webhook_secret, allowed_updates=ALLOWED_UPDATES
            )
            log.info("telegram: webhook mode")
        else:
            await self.application.bot.delete_webhook(drop_pending_updates=False)
            self._poller = asyncio.get_running_loop().create_task(
                while_leader(lease, lambda: self._poll(poll_timeout)), name="telegram-poller"
            )
            log.info("telegram: long polling")

    async def stop(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
            self._poller = None
        with contextlib.suppress(Exception):
            await self.application.stop()
        with contextlib.suppress(Exception):
            await self.application.shutdown()

    async def ingest(self, update: Update) -> None:
        """Store the update (raises if it could not be stored: it must then be redelivered)."""
        inbound = inbound_from_update(update, bot_id=self.bot_id, bot_username=self.bot_username)
        if inbound is None:
            return
        await self.gateway.receive(inbound)
        if inbound.kind in (Kind.button, Kind.group) and update.callback_query is not None:
            self.gateway.spawn(self.channel.answer_callback(update.callback_query.id))

    async def _poll(self, poll_timeout: int) -> None:
        bot = self.application.bot
        offset: int | None = None
        failures = 0
        while True:
            try:
                updates = await bot.get_updates(
                    offset=offset,
                    timeout=poll_timeout,
                    allowed_updates=ALLOWED_UPDATES,
                    read_timeout=poll_timeout + 10,
                )
                failures = 0
            except asyncio.CancelledError:
                raise
            except RetryAfter as exc:
                await asyncio.sleep(retry_after_seconds(exc))
                continue
            except TimedOut:
                continue
            except (InvalidToken, Forbidden):
                log.error("telegram: the bot token was refused; polling stopped")
                return
            except Conflict:
                log.error("telegram: another process polls this bot (or a webhook is set)")
                await asyncio.sleep(5)
                continue
            except NetworkError as exc:
                failures += 1
                delay = min(30.0, 0.5 * 2**failures)
                log.warning(
                    "telegram: getUpdates failed (%s); retry in %.1f s", type(exc).__name__, delay
                )
                await asyncio.sleep(delay)
                continue
            for update in updates:
                try:
                    await self.ingest(update)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    attempts = self._failures.get(update.update_id, 0) + 1
                    self._failures[update.update_id] = attempts
                    if attempts < POISON_ATTEMPTS:
                        # not stored: do not confirm it; getUpdates returns it again
                        log.exception(
                            "telegram: update %s not stored (attempt %d); fetched again",
                            update.update_id,
                            attempts,
                        )
                        await asyncio.sleep(min(10.0, attempts))
                        break
                    log.error(
                        "telegram: update %s skipped after %d failures", update.update_id, attempts
                    )
                self._failures.pop(update.update_id, None)
                offset = update.update_id + 1
