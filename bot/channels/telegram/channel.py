"""Sending to Telegram: text split at 4096, inline keyboards, pages edited in place, photos,
documents (sendDocument, uploaded).

Buttons carry only a short reference (``b:<message id>:<index>``, well under Telegram's
64-byte callback_data limit); the payload stays in the database. Rate limits are handled
by PTB's AIORateLimiter (RetryAfter honoured); what still fails is classified by
``channels.telegram.from_error`` (the rules shared with the broadcast worker) and reported
to the outbox as a ``ChannelError``.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from typing import Any

from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
)
from telegram.constants import ChatAction
from telegram.error import BadRequest, TelegramError

from bot import wording
from bot.channels.base import Delivered, FilePayload, FileTooBig, PartSent
from bot.text import TELEGRAM_LIMIT, split_message
from channels import telegram as telegram_rules
from channels.outcome import ChannelError, Outcome, Result
from conversations.models import Channel, Conversation, Kind, Message
from conversations.outgoing import Button, Outgoing
from conversations.repository import button_ref
from core.i18n import gettext

log = logging.getLogger(__name__)

CAPTION_LIMIT = 1024
BUTTON_TEXT_LIMIT = 60


def keyboard(message_id: int, buttons: list[Button]) -> InlineKeyboardMarkup | None:
    """One button per row, or two per row when every title is short."""
    if not buttons:
        return None
    keys = [
        InlineKeyboardButton(b.title[:BUTTON_TEXT_LIMIT], callback_data=button_ref(message_id, i))
        for i, b in enumerate(buttons)
    ]
    width = 2 if all(len(b.title) <= 14 for b in buttons) and len(buttons) > 3 else 1
    return InlineKeyboardMarkup([keys[i : i + width] for i in range(0, len(keys), width)])


def location_keyboard(language: str | None = None) -> ReplyKeyboardMarkup:
    title = gettext(language, wording.LOCATION_BUTTON)
    return ReplyKeyboardMarkup(
        [[KeyboardButton(title, request_location=True)]],
        resize_keyboard=True,
        one_time_keyboard=True,
    )


class TelegramChannel:
    name = Channel.telegram

    def __init__(self, bot: Bot, max_file_bytes: int) -> None:
        self.bot = bot
        self.max_file_bytes = max_file_bytes

    async def deliver(
        self,
        conversation: Conversation,
        row: Message,
        outgoing: Outgoing,
        *,
        reply_to: Message | None = None,
        sent_parts: Sequence[str] = (),
        on_part: PartSent | None = None,
    ) -> Delivered:
        assert row.id is not None
        chat_id = int(conversation.chat_key)
        markup = keyboard(row.id, outgoing.buttons)
        try:
            if outgoing.document is not None:
                return await self._send_document(chat_id, outgoing, markup)
            if outgoing.image:
                sent = await self.bot.send_photo(
                    chat_id,
                    photo=outgoing.image,
                    caption=outgoing.text[:CAPTION_LIMIT] or None,
                    reply_markup=markup,
                )
                return Delivered(str(sent.message_id))
            edited = await self._edit_page(chat_id, outgoing, markup, reply_to)
            if edited is not None:
                return edited
            return await self._send_text(
                chat_id, outgoing, markup, sent_parts, on_part, language=conversation.language
            )
        except TelegramError as exc:
            raise ChannelError(telegram_rules.from_error(exc)) from exc

    async def _send_document(
        self, chat_id: int, outgoing: Outgoing, markup: InlineKeyboardMarkup | None
    ) -> Delivered:
        """A file (uploaded, sendDocument); its text is the caption."""
        document = outgoing.document
        assert document is not None and outgoing.document_content is not None
        sent = await self.bot.send_document(
            chat_id,
            document=outgoing.document_content,
            filename=document.filename,
            caption=outgoing.text[:CAPTION_LIMIT] or None,
            reply_markup=markup,
        )
        return Delivered(str(sent.message_id))

    async def _send_text(
        self,
        chat_id: int,
        outgoing: Outgoing,
        markup: InlineKeyboardMarkup | None,
        sent_parts: Sequence[str] = (),
        on_part: PartSent | None = None,
        *,
        language: str | None = None,
    ) -> Delivered:
        """The text in parts of at most 4096 characters, the buttons on the last one; parts
        an earlier try delivered (``sent_parts``) are not sent again. The channel's own
        words (an empty text's «Choose one:», the location button) in ``language``."""
        choose = gettext(language, wording.CHOOSE_OPTION)
        chunks = split_message(outgoing.text, TELEGRAM_LIMIT) or [choose]
        parts: list[tuple[str, Any]] = []
        for index, chunk in enumerate(chunks):
            reply_markup: Any = None
            if index == len(chunks) - 1:
                reply_markup = markup
                if outgoing.location_request and markup is None:
                    reply_markup = location_keyboard(language)
            parts.append((chunk, reply_markup))
        if outgoing.location_request and markup is not None:
            request = gettext(language, wording.LOCATION_REQUEST)
            parts.append((request, location_keyboard(language)))
        ids: list[str] = list(sent_parts[: len(parts)])
        for index, (text, reply_markup) in enumerate(parts):
            if index < len(ids):
                continue
            sent = await self.bot.send_message(chat_id, text, reply_markup=reply_markup)
            ids.append(str(sent.message_id))
            if on_part is not None and len(parts) > 1:
                await on_part(index, ids[-1])
        data = {"chunks": [int(i) for i in ids]} if len(ids) > 1 else {}
        keyed = ids[len(chunks) - 1]  # the message that carries the buttons
        return Delivered(keyed, data)

    async def _edit_page(
        self,
        chat_id: int,
        outgoing: Outgoing,
        markup: InlineKeyboardMarkup | None,
        reply_to: Message | None,
    ) -> Delivered | None:
        """A page of results answering a button on the previous page replaces that page."""
        if not outgoing.page_key or reply_to is None or reply_to.kind != Kind.button:
            return None
        origin = reply_to.data.get("origin") or {}
        external_id = origin.get("external_id")
        if not external_id or origin.get("page_key") not in (None, outgoing.page_key):
            return None
        if len(outgoing.text) > TELEGRAM_LIMIT or outgoing.location_request:
            return None
        try:
            await self.bot.edit_message_text(
                outgoing.text, chat_id=chat_id, message_id=int(external_id), reply_markup=markup
            )
        except BadRequest as exc:
            if "not modified" in str(exc).lower():
                return Delivered(str(external_id), {"edited": True})
            log.info("page edit refused (%s); sending a new message", type(exc).__name__)
            return None
        return Delivered(str(external_id), {"edited": True})

    async def typing(self, conversation: Conversation, reply_to: Message | None = None) -> None:
        with contextlib.suppress(TelegramError):
            await self.bot.send_chat_action(int(conversation.chat_key), ChatAction.TYPING)

    async def answer_callback(self, callback_query_id: str) -> None:
        """Stop the button's spinner (best effort: an old query may be refused)."""
        with contextlib.suppress(TelegramError):
            await self.bot.answer_callback_query(callback_query_id)

    async def fetch_file(self, conversation: Conversation, message: Message) -> FilePayload:
        file_info = message.data.get("file") or {}
        try:
            tg_file = await self.bot.get_file(str(file_info.get("file_id")))
            if tg_file.file_size is not None and tg_file.file_size > self.max_file_bytes:
                raise FileTooBig()
            content = bytes(await tg_file.download_as_bytearray())
        except BadRequest as exc:  # "file is too big" (over the Bot API's 20 MB), gone, ...
            if "too big" in str(exc).lower():
                raise FileTooBig() from exc
            raise ChannelError(
                Outcome(Result.transient, error="telegram:file-bad-request")
            ) from exc
        except TelegramError as exc:
            raise ChannelError(Outcome(Result.transient, error="telegram:file-network")) from exc
        if len(content) > self.max_file_bytes:
            raise FileTooBig()
        return FilePayload(content, str(file_info.get("declared_mime") or ""))
