"""Telegram updates -> the gateway's Inbound messages (pure functions, no I/O).

Every update kind is handled: private messages (text, commands, locations, photos,
documents), button taps (callback queries), edited messages, group messages, voice notes,
stickers and the rest. Channel posts and updates the bot has nothing to say to give None.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from telegram import Chat, Message, Update

from bot.commands import parse_command
from bot.text import sanitize
from conversations.inbound import Inbound
from conversations.models import Channel, Kind

_VOICE = ("voice", "audio", "video_note")
_OTHER_MEDIA = (
    "video",
    "sticker",
    "animation",
    "contact",
    "poll",
    "dice",
    "game",
    "venue_without_location",
    "story",
    "paid_media",
)


def dedupe_key(update: Update, bot_id: int) -> str:
    """update_id plus what identifies the update's content: Telegram restarts update ids at
    random after a week without updates, so an old id may come back for a new message."""
    if update.callback_query is not None:
        return f"tg:{bot_id}:cb:{update.callback_query.id}"
    message = update.effective_message
    stamp = int(message.date.timestamp()) if message is not None and message.date else 0
    edited = getattr(message, "edit_date", None)
    if edited is not None:
        stamp = int(edited.timestamp())
    return f"tg:{bot_id}:{update.update_id}:{stamp}"


def _received_at(message: Message | None) -> datetime:
    if message is not None and message.date is not None:
        return message.date.astimezone(UTC)
    return datetime.now(UTC)


def _is_group(chat: Chat) -> bool:
    return chat.type in (Chat.GROUP, Chat.SUPERGROUP)


def inbound_from_update(update: Update, *, bot_id: int, bot_username: str = "") -> Inbound | None:
    """The Inbound for ``update``, or None when there is nothing to store or answer."""
    key = dedupe_key(update, bot_id)
    if update.callback_query is not None:
        return _from_callback(update, key)
    if update.channel_post is not None or update.edited_channel_post is not None:
        return None  # the bot does not talk in channels
    if update.edited_message is not None:
        message = update.edited_message
        text = sanitize(message.text or message.caption)
        return Inbound(
            channel=Channel.telegram,
            chat_key=str(message.chat.id),
            kind=Kind.group if _is_group(message.chat) else Kind.edited,
            text=text,
            data={"edited": True},
            dedupe_key=key,
            is_group=_is_group(message.chat),
            received_at=_received_at(message),
        )
    if update.message is not None:
        return _from_message(update.message, key, bot_username)
    return None  # inline queries, chat member changes, polls, ...: nothing to answer


def _from_callback(update: Update, key: str) -> Inbound | None:
    query = update.callback_query
    assert query is not None
    message = query.message
    if message is not None:
        chat_id = message.chat.id
        is_group = _is_group(message.chat)
        origin_message_id: int | None = message.message_id
    else:  # message too old to be accessible: private chats have chat id == user id
        chat_id = query.from_user.id
        is_group = False
        origin_message_id = None
    return Inbound(
        channel=Channel.telegram,
        chat_key=str(chat_id),
        kind=Kind.group if is_group else Kind.button,
        payload=(query.data or "")[:64],
        data={"callback_query_id": query.id, "origin_message_id": origin_message_id},
        dedupe_key=key,
        is_group=is_group,
    )


def _from_message(message: Message, key: str, bot_username: str) -> Inbound | None:
    chat_key = str(message.chat.id)
    is_group = _is_group(message.chat)
    text = sanitize(message.text or message.caption)
    common: dict[str, Any] = {
        "channel": Channel.telegram,
        "chat_key": chat_key,
        "dedupe_key": key,
        "is_group": is_group,
        "received_at": _received_at(message),
    }
    if is_group:
        addressed = text.startswith("/") or (
            bool(bot_username) and f"@{bot_username}".lower() in text.lower()
        )
        return Inbound(kind=Kind.group, text=text, data={"addressed": addressed}, **common)
    if message.location is not None:
        location = {"lat": message.location.latitude, "lon": message.location.longitude}
        return Inbound(kind=Kind.location, text=text, data={"location": location}, **common)
    if message.photo:
        largest = max(message.photo, key=lambda p: (p.file_size or 0, p.width * p.height))
        file = {"file_id": largest.file_id, "size": largest.file_size, "type": "photo"}
        return Inbound(kind=Kind.attachment, text=text, data={"file": file}, **common)
    if message.document is not None:
        document = message.document
        file = {
            "file_id": document.file_id,
            "size": document.file_size,
            "type": "document",
            "declared_mime": (document.mime_type or "")[:60],
        }
        return Inbound(kind=Kind.attachment, text=text, data={"file": file}, **common)
    for attribute in _VOICE:
        if getattr(message, attribute, None):
            return Inbound(kind=Kind.unsupported, text=text, data={"voice": True}, **common)
    for attribute in _OTHER_MEDIA:
        if getattr(message, attribute, None):
            return Inbound(kind=Kind.unsupported, text=text, data={"media": attribute}, **common)
    if message.text is not None:
        command = parse_command(text)
        if command is not None:
            return Inbound(kind=Kind.command, text=text, payload=command, **common)
        return Inbound(kind=Kind.text, text=text, **common)
    if message.caption is not None:
        return Inbound(kind=Kind.text, text=text, **common)
    return None  # service messages (pinned, timer changed, ...): nothing to answer
