"""Sending replies: stored first, then handed to the channel; failures wait in the outbox.

Order is kept per conversation: while an earlier reply waits for a retry, later ones are
queued behind it and the outbox sends them all, oldest first. A reply sent in several parts
(a long text cut at the channel's limit) records each part as the channel accepts it, so a
retry after a failure midway sends only the parts the citizen has not received.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime

from bot.channels.base import ChannelAdapter
from bot.language import localized
from bot.views import message_view
from channels.outcome import RETRYABLE, ChannelError, Result
from channels.whatsapp import WINDOW
from conversations import repository as repo
from conversations.models import PURGED_PREFIX, Author, Channel, Conversation, Kind, Message, Status
from conversations.outgoing import Document, Outgoing, from_row
from conversations.uploads import UploadStore
from core.database import Database
from core.events import EventBus
from core.timeutil import utcnow

log = logging.getLogger(__name__)

# held outside WhatsApp's window: released when the citizen writes, else tried again a
# window later
WINDOW_HOLD_SECONDS = WINDOW.total_seconds()
RETRY_SECONDS = 5.0  # a transient failure without a delay of its own


EARLY_STATUS_LIMIT = 1000


class ConversationErased(LookupError):
    """The conversation's channel address was erased (retention, or the citizen's request):
    nothing can reach it, so nothing new is stored for it."""


@dataclass(frozen=True)
class StatusReport:
    channel: Channel
    external_id: str
    status: Status
    at: datetime
    error: str = ""


class Sender:
    def __init__(self, db: Database, events: EventBus, uploads: UploadStore | None = None) -> None:
        self.db = db
        self.events = events
        self.uploads = uploads  # where the documents sent to citizens are kept
        self.channels: dict[Channel, ChannelAdapter] = {}
        # conversations that may have queued replies (set on failures and by the outbox)
        self.has_queued: set[str] = set()
        # statuses that arrive before our own record of the send is committed
        self._early: OrderedDict[tuple[Channel, str], list[StatusReport]] = OrderedDict()

    async def record_status(self, report: StatusReport) -> None:
        """Store a channel's delivery status; one that overtook its message waits for it."""
        found = await self.db.run(
            repo.apply_delivery_status,
            channel=report.channel,
            external_id=report.external_id,
            status=report.status,
            at=report.at,
            error=report.error,
        )
        if found is None:
            key = (report.channel, report.external_id)
            self._early.setdefault(key, []).append(report)
            while len(self._early) > EARLY_STATUS_LIMIT:
                self._early.popitem(last=False)
            # the send may have been recorded while we looked: then apply it now
            known = await self.db.run(
                repo.outbound_by_external, channel=report.channel, external_id=report.external_id
            )
            if known is not None:
                await self._apply_early(report.channel, [report.external_id])

    async def _apply_early(self, channel: Channel, external_ids: list[str]) -> None:
        for external_id in external_ids:
            for report in self._early.pop((channel, external_id), []):
                await self.record_status(report)

    def publish(self, message: Message) -> None:
        self.events.publish(
            message.conversation_id, {"type": "message", "message": message_view(message)}
        )

    async def reply(
        self,
        conversation: Conversation,
        outgoing: Outgoing,
        reply_to: Message | None = None,
        *,
        author: Author | None = None,
        staff_user_id: int | None = None,
        finish: Status | None = None,
    ) -> Message:
        """Store one message to the citizen, then send it (or queue it behind earlier ones)."""
        rows = await self.send_turn(
            conversation,
            [outgoing],
            reply_to,
            author=author,
            staff_user_id=staff_user_id,
            finish=finish,
        )
        return rows[0]

    async def send_turn(
        self,
        conversation: Conversation,
        outgoings: list[Outgoing],
        reply_to: Message | None = None,
        *,
        author: Author | None = None,
        staff_user_id: int | None = None,
        finish: Status | None = None,
    ) -> list[Message]:
        """Store a turn's replies in one transaction (closing ``reply_to`` with ``finish`` in
        the same one), then send them in order. A failure queues the rest behind it."""
        conversation_id = conversation.conversation_id
        if conversation.chat_key.startswith(PURGED_PREFIX):
            raise ConversationErased(conversation_id)
        # the gateway's own words in the conversation's language (stored as sent)
        outgoings = [localized(o, conversation.language) for o in outgoings]
        items = [
            repo.OutboundItem(
                author=author or (Author.gateway if o.gateway else Author.bot),
                kind=Kind.image if o.image and not o.text else Kind.text,
                text=o.text,
                data=o.data(),
            )
            for o in outgoings
        ]
        rows, behind = await self.db.run(
            repo.store_turn,
            conversation_id=conversation_id,
            channel=Channel(conversation.channel),
            items=items,
            reply_to_id=reply_to.id if reply_to else None,
            staff_user_id=staff_user_id,
            finish=finish,
            now=utcnow(),
        )
        await self.send_stored(conversation, rows, outgoings, behind=behind, reply_to=reply_to)
        return rows

    async def send_stored(
        self,
        conversation: Conversation,
        rows: list[Message],
        outgoings: list[Outgoing] | None = None,
        *,
        behind: bool,
        reply_to: Message | None = None,
    ) -> None:
        """Send replies already stored (queued, in order; without ``outgoings`` they are
        rebuilt from the rows); a failure queues the rest behind it, and ``behind`` (an
        earlier reply still queued) queues them all."""
        if not rows:
            return
        if behind:
            await self._queue_behind(conversation.conversation_id, rows)
            return
        if outgoings is None:
            outgoings = [from_row(row.text, row.data or {}) for row in rows]
        for index, (row, outgoing) in enumerate(zip(rows, outgoings, strict=True)):
            if not await self.deliver(conversation, row, outgoing, reply_to):
                await self._queue_behind(conversation.conversation_id, rows[index + 1 :])
                break

    async def _queue_behind(self, conversation_id: str, rows: list[Message]) -> None:
        if rows:
            await self.db.run(
                repo.queue_behind, message_ids=[r.id for r in rows if r.id], now=utcnow()
            )
            self.has_queued.add(conversation_id)

    async def deliver(
        self,
        conversation: Conversation,
        row: Message,
        outgoing: Outgoing,
        reply_to: Message | None,
    ) -> bool:
        """Hand a stored message to its channel and record the outcome. True when sent."""
        assert row.id is not None
        conversation_id = conversation.conversation_id
        adapter = self.channels.get(Channel(conversation.channel))
        if adapter is None:
            await self._defer(row, "channel:not-running", 60.0)
            log.warning(
                "conversation %s: channel %s not running; message %s queued",
                conversation_id,
                conversation.channel,
                row.id,
            )
            return False
        message_id = row.id
        if outgoing.document is not None and outgoing.document_content is None:
            try:
                outgoing.document_content = await self._document_content(
                    conversation_id, outgoing.document
                )
            except (LookupError, OSError, ValueError):
                # erased with the conversation's files meanwhile: nothing left to send
                await self.db.run(
                    repo.fail_outbound, message_id=row.id, now=utcnow(), error="document:gone"
                )
                return False

        async def part_sent(index: int, external_id: str) -> None:
            await self.db.run(
                repo.record_part, message_id=message_id, index=index, external_id=external_id
            )

        try:
            delivered = await adapter.deliver(
                conversation,
                row,
                outgoing,
                reply_to=reply_to,
                sent_parts=[str(i) for i in (row.data or {}).get(repo.SENT_PARTS_KEY) or []],
                on_part=part_sent,
            )
        except ChannelError as exc:
            await self._not_sent(conversation_id, row, exc)
            return False
        now = utcnow()
        await self.db.run(
            repo.mark_sent,
            message_id=row.id,
            external_id=delivered.external_id,
            now=now,
            data=delivered.data,
        )
        row.status, row.status_at, row.external_id = Status.sent, now, delivered.external_id
        self.publish(row)
        if self._early and delivered.external_id:
            await self._apply_early(Channel(conversation.channel), [delivered.external_id])
        return True

    async def _document_content(self, conversation_id: str, document: Document) -> bytes:
        if self.uploads is None:
            raise LookupError("no uploads folder")
        uploads = self.uploads
        attachment = await self.db.run(
            repo.get_attachment,
            attachment_id=document.attachment_id,
            conversation_id=conversation_id,
        )
        if attachment is None:
            raise LookupError(document.attachment_id)
        return await asyncio.to_thread(uploads.path_of(attachment.path).read_bytes)

    async def _not_sent(self, conversation_id: str, row: Message, exc: ChannelError) -> None:
        """Retry later, hold for the window, or fail (and note a blocked bot)."""
        assert row.id is not None
        if exc.result in RETRYABLE:
            delay = max(1.0, exc.retry_after or RETRY_SECONDS)
            await self._defer(row, exc.code, delay)
            log.warning(
                "conversation %s: message %s not sent (%s); retry in %.0f s",
                conversation_id,
                row.id,
                exc.code,
                delay,
            )
            return
        if exc.result == Result.window_closed:
            await self._defer(row, exc.code, WINDOW_HOLD_SECONDS, Status.awaiting_window)
            return
        await self.db.run(repo.fail_outbound, message_id=row.id, now=utcnow(), error=exc.code)
        if exc.result == Result.blocked:
            await self.db.run(repo.mark_blocked, conversation_id=conversation_id, now=utcnow())
        log.warning("conversation %s: message %s failed (%s)", conversation_id, row.id, exc.code)

    async def _defer(
        self, row: Message, error: str, delay: float, status: Status = Status.queued
    ) -> None:
        assert row.id is not None
        if status == Status.queued:
            self.has_queued.add(row.conversation_id)
        await self.db.run(
            repo.defer_outbound,
            message_id=row.id,
            now=utcnow(),
            error=error,
            delay_seconds=delay,
            status=status,
        )

    async def flush_queued(self, conversation_id: str) -> None:
        """Send the conversation's queued replies whose time has come, oldest first."""
        if conversation_id not in self.has_queued:
            return
        queued = await self.db.run(repo.queued_outbound, conversation_id=conversation_id)
        if not queued:
            self.has_queued.discard(conversation_id)
            return
        conversation = await self.db.run(repo.get_conversation, conversation_id=conversation_id)
        if conversation is None:
            return
        now = utcnow()
        for row in queued:
            waiting = row.next_attempt_at is not None and row.next_attempt_at > now
            if waiting and row.error != "behind-queued":
                break  # the oldest is not due yet (or still in flight): keep the order
            reply_to = None
            if row.reply_to_id is not None:
                reply_to = await self.db.run(repo.get_message, message_id=row.reply_to_id)
            if not await self.deliver(conversation, row, from_row(row.text, row.data), reply_to):
                break
