"""The web chat's side of delivery: replies reach the browser as events of the conversation."""

from __future__ import annotations

from collections.abc import Sequence

from bot.channels.base import Delivered, FilePayload, PartSent
from channels.outcome import ChannelError, Outcome, Result
from conversations.models import Channel, Conversation, Message
from conversations.outgoing import Outgoing


class WebChatChannel:
    """Nothing to call: a stored reply is published on the event bus once marked sent,
    and a browser that was away reloads the history."""

    name = Channel.webchat

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
        return Delivered(external_id=f"web-{row.id}")

    async def typing(self, conversation: Conversation, reply_to: Message | None = None) -> None:
        return None  # the gateway publishes a "typing" event for every channel

    async def fetch_file(self, conversation: Conversation, message: Message) -> FilePayload:
        raise ChannelError(Outcome(Result.transient, error="webchat:no-files"))
