"""What a channel hands to the gateway: one citizen message, already sanitised."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from conversations.models import Channel, Kind
from core.timeutil import utcnow

if TYPE_CHECKING:
    from conversations.uploads import SavedFile


@dataclass(frozen=True)
class Inbound:
    """One incoming message.

    ``chat_key`` is the channel's address of the chat (never logged, never sent to Rasa);
    ``dedupe_key`` makes a redelivery a no-op (Telegram update_id, WhatsApp message id,
    web-chat client message id). ``payload`` is the button reference or the command name;
    ``data`` holds the location, the file reference or the id of the message a button was on.
    ``attachment`` is a file already checked and kept (web-chat uploads): it is recorded with
    the message, in the same transaction.
    """

    channel: Channel
    chat_key: str
    kind: Kind
    text: str = ""
    payload: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    dedupe_key: str | None = None
    is_group: bool = False
    received_at: datetime = field(default_factory=utcnow)
    attachment: SavedFile | None = None
