"""Sending to WhatsApp, inside the 24-hour customer-service window (documents: uploaded to
/media, then a document message).

The window opens each time the citizen writes (conversation.last_inbound_at). Outside it,
free-form messages are not allowed: the message is held (status awaiting_window) and, if
WHATSAPP_TEMPLATE_NAME is set, the approved template is sent once to invite the citizen
back; when they write again, the held messages go out.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from bot.channels.base import Delivered, FilePayload, FileTooBig, PartSent
from bot.channels.whatsapp.client import GraphClient, MediaTooBig
from bot.channels.whatsapp.render import CAPTION_LIMIT, render, template
from channels import whatsapp
from channels.documents import WHATSAPP_DOCUMENT_TYPES
from channels.outcome import RETRYABLE, ChannelError, Outcome, Result
from conversations import repository as repo
from conversations.models import Channel, Conversation, Message
from conversations.outgoing import Outgoing
from core.database import Database
from core.timeutil import utcnow

log = logging.getLogger(__name__)

# the client already retried rate limits and server trouble: the outbox waits at least this
MIN_RETRY_SECONDS = 5.0


class WhatsAppChannel:
    name = Channel.whatsapp

    def __init__(
        self,
        client: GraphClient,
        db: Database,
        *,
        template_name: str,
        template_language: str,
        max_file_bytes: int,
    ) -> None:
        self.client = client
        self.db = db
        self.template_name = template_name
        self.template_language = template_language
        self.max_file_bytes = max_file_bytes
        self._typing_sent: set[int] = set()

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
        if not whatsapp.window_open(conversation.last_inbound_at, utcnow()):
            await self._window_closed(conversation, row)
        ids: list[str] = []
        try:
            if outgoing.document is not None:  # one part: uploaded on each try
                parts = [await self._document(outgoing, to=conversation.chat_key)]
            else:
                parts = render(
                    outgoing,
                    message_id=row.id,
                    to=conversation.chat_key,
                    language=conversation.language,
                )
            ids = list(sent_parts[: len(parts)])  # delivered by an earlier try
            for index, part in enumerate(parts):
                if index < len(ids):
                    continue
                ids.append(await self.client.send(part))
                if on_part is not None and len(parts) > 1:
                    await on_part(index, ids[-1])
        except ChannelError as exc:
            if exc.result == Result.window_closed:
                await self._window_closed(conversation, row)
            if exc.result in RETRYABLE:
                retry_after = max(MIN_RETRY_SECONDS, exc.retry_after)
                raise ChannelError(replace(exc.outcome, retry_after=retry_after)) from exc
            raise
        if not ids:
            raise ChannelError(Outcome(Result.permanent, error="whatsapp:empty"))
        return Delivered(ids[-1], {"parts": ids} if len(ids) > 1 else {})

    async def _document(self, outgoing: Outgoing, *, to: str) -> dict[str, Any]:
        """Upload the file, then a document message naming it (its text is the caption).
        WhatsApp takes no JSON type: a JSON file goes as text/plain with its own name."""
        document = outgoing.document
        assert document is not None and outgoing.document_content is not None
        mime = WHATSAPP_DOCUMENT_TYPES.get(document.mime_type, document.mime_type)
        media_id = await self.client.upload_media(
            outgoing.document_content, mime_type=mime, filename=document.filename
        )
        body: dict[str, Any] = {"id": media_id, "filename": document.filename}
        if outgoing.text:
            body["caption"] = outgoing.text[:CAPTION_LIMIT]
        return {"to": to, "type": "document", "document": body}

    async def _window_closed(self, conversation: Conversation, row: Message) -> None:
        conversation_id = conversation.conversation_id
        last = conversation.last_inbound_at
        already = conversation.template_sent_at is not None and (
            last is None or conversation.template_sent_at >= last
        )
        if self.template_name and not already:
            try:
                await self.client.send(
                    template(self.template_name, self.template_language, to=conversation.chat_key)
                )
                await self.db.run(
                    repo.mark_template_sent, conversation_id=conversation_id, now=utcnow()
                )
                note = f"template {self.template_name} sent"
            except ChannelError as exc:
                note = f"template failed ({exc.code})"
        elif self.template_name:
            note = "template already sent"
        else:
            note = "no WHATSAPP_TEMPLATE_NAME configured"
        log.warning(
            "conversation %s: WhatsApp 24-hour window closed; message %s held until the "
            "citizen writes again (%s)",
            conversation_id,
            row.id,
            note,
        )
        raise ChannelError(whatsapp.window_closed())

    async def typing(self, conversation: Conversation, reply_to: Message | None = None) -> None:
        """Mark the citizen's message read and show "typing..." (once per message)."""
        if reply_to is None or reply_to.id is None or reply_to.id in self._typing_sent:
            return
        wamid = reply_to.data.get("wamid")
        if not wamid:
            return
        self._typing_sent.add(reply_to.id)
        if len(self._typing_sent) > 10_000:
            self._typing_sent.clear()
        try:
            await self.client.mark_read(str(wamid), typing=True)
        except ChannelError as exc:
            log.info(
                "conversation %s: typing indicator refused (%s)",
                conversation.conversation_id,
                exc.code,
            )

    async def fetch_file(self, conversation: Conversation, message: Message) -> FilePayload:
        file_info = message.data.get("file") or {}
        media_id = str(file_info.get("media_id") or "")
        if not media_id:
            raise ChannelError(Outcome(Result.transient, error="whatsapp:no-media-id"))
        try:
            content, mime = await self.client.media(media_id, max_bytes=self.max_file_bytes)
        except MediaTooBig as exc:
            raise FileTooBig() from exc
        return FilePayload(content, mime)
