"""What every channel adapter offers the gateway.

Failures are raised as ``channels.outcome.ChannelError``: its ``Result`` (rate limited,
transient, blocked, permanent, window closed) tells the outbox what to do, with the rules of
``channels.telegram`` and ``channels.whatsapp`` shared with the broadcast worker."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from conversations.models import Channel, Conversation, Message
from conversations.outgoing import Outgoing


@dataclass(frozen=True)
class Delivered:
    """The channel accepted the message; ``external_id`` is its id there (for statuses)."""

    external_id: str | None
    data: dict[str, Any] = field(default_factory=dict)


# Called by an adapter after each part of a message sent in several parts (a long text cut
# at the channel's limit): (part index, the part's id on the channel). The sender stores it,
# so a retry after a failure midway sends only the parts not yet delivered.
PartSent = Callable[[int, str], Awaitable[None]]


@dataclass(frozen=True)
class FilePayload:
    content: bytes
    declared_mime: str = ""


class FileTooBig(Exception):
    pass


class ChannelAdapter(Protocol):
    name: Channel

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
        """Send one stored outbound message; raise ``ChannelError`` on failure.

        A message sent in several parts skips the first ``len(sent_parts)`` parts (delivered
        by an earlier try, their channel ids in order) and reports each new part to
        ``on_part`` as soon as the channel accepted it."""
        ...

    async def typing(self, conversation: Conversation, reply_to: Message | None = None) -> None:
        """Show that an answer is coming (best effort, never raises)."""
        ...

    async def fetch_file(self, conversation: Conversation, message: Message) -> FilePayload:
        """The bytes of a photo or document the citizen sent (raises FileTooBig)."""
        ...
