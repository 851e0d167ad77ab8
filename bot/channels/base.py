"""What every channel adapter offers the gateway, and how it reports failures."""

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


class DeliveryError(Exception):
    """The message could not be sent. ``code`` is short and never contains message text."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class TemporaryFailure(DeliveryError):
    """Network trouble, rate limit, server error: the outbox retries later."""

    def __init__(self, code: str, retry_after: float = 5.0) -> None:
        super().__init__(code)
        self.retry_after = retry_after


class PermanentFailure(DeliveryError):
    """The citizen blocked the bot, the chat is gone, the request is invalid: no retry."""

    def __init__(self, code: str, blocked: bool = False) -> None:
        super().__init__(code)
        self.blocked = blocked


class WindowClosed(DeliveryError):
    """WhatsApp: outside the 24-hour window; the message waits for the citizen to write."""


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
        """Send one stored outbound message; raise a DeliveryError subclass on failure.

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
