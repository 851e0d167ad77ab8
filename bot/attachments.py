"""A citizen's photo or document: fetched from the channel, checked, kept, recorded."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from bot import wording
from bot.channels.base import FileTooBig
from channels.outcome import ChannelError
from conversations import repository as repo
from conversations.models import Channel, Conversation, Message
from conversations.uploads import UploadRejected
from core.i18n import gettext
from core.timeutil import utcnow

if TYPE_CHECKING:
    from bot.gateway import Gateway

log = logging.getLogger(__name__)


async def store_attachment(
    gateway: Gateway, conversation: Conversation, message: Message
) -> str | None:
    """Keep the file of ``message``; None when stored, else the polite refusal to send."""
    assert message.id is not None
    conversation_id = conversation.conversation_id
    adapter = gateway.channels.get(Channel(conversation.channel))
    uploads = gateway.uploads
    if adapter is None:
        return wording.FILE_FAILED
    try:
        uploads.check_declared_size((message.data.get("file") or {}).get("size"))
        payload = await adapter.fetch_file(conversation, message)
        saved = await asyncio.to_thread(uploads.save, payload.content, now=utcnow())
    except FileTooBig:
        log.info("conversation %s: file refused (too big)", conversation_id)
        return _too_big(conversation, uploads.max_bytes)
    except UploadRejected as exc:
        log.info("conversation %s: file refused (%s)", conversation_id, exc.reason)
        if exc.reason == "too_big":
            return _too_big(conversation, uploads.max_bytes)
        return wording.FILE_TYPE_NOT_ALLOWED
    except ChannelError as exc:
        log.warning("conversation %s: file download failed (%s)", conversation_id, exc.code)
        return wording.FILE_FAILED
    attachment = await gateway.db.run(
        repo.add_attachment,
        message_id=message.id,
        conversation_id=conversation_id,
        mime_type=saved.mime_type,
        size_bytes=saved.size_bytes,
        sha256=saved.sha256,
        path=saved.relative_path,
        now=utcnow(),
    )
    info = {"id": attachment.id, "mime_type": saved.mime_type, "size_bytes": saved.size_bytes}
    await gateway.db.run(
        repo.update_message_data, message_id=message.id, changes={"attachment": info}
    )
    log.info(
        "conversation %s: file %s stored (%s)", conversation_id, attachment.id, saved.mime_type
    )
    return None


def _too_big(conversation: Conversation, max_bytes: int) -> str:
    """The refusal with the limit in it, in the conversation's language."""
    text = gettext(conversation.language, wording.FILE_TOO_BIG)
    return text.format(mb=max(1, max_bytes // (1024 * 1024)))
