"""Flags that put a conversation in front of a human, highest priority first."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import String
from sqlmodel import Field, SQLModel

from core.timeutil import UTCDateTime, utcnow


class FlagKind(StrEnum):
    emergency = "emergency"  # the safety net or the model saw a possible emergency
    handoff = "handoff"  # the citizen asked for a person
    bot_failure = "bot_failure"  # the bot failed twice in a row
    # the citizen asked to erase their data: its own item for the team, independent of any
    # hand-off (closing a hand-off does not resolve it; it never starts or raises one)
    erasure_request = "erasure_request"
    # the citizen asked for a copy of their data (GDPR art. 15/20): the same kind of item,
    # in the console's «Copie dei dati» section
    data_copy_request = "data_copy_request"


#: flags about the conversation with a person now; the others wait for their own handling
HANDOFF_KINDS = (FlagKind.emergency, FlagKind.handoff, FlagKind.bot_failure)


class FlagPriority(StrEnum):
    """Ordered from most to least urgent; the console sorts by ``rank``."""

    top = "top"
    high = "high"
    normal = "normal"

    @property
    def rank(self) -> int:
        return {"top": 0, "high": 1, "normal": 2}[self.value]


class ConversationFlag(SQLModel, table=True):
    __tablename__ = "conversation_flag"

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: str = Field(index=True, max_length=64)
    # plain strings, as in every migration (a bare enum annotation made SQLAlchemy's Enum type,
    # which the databases never had)
    kind: FlagKind = Field(sa_type=String(20))
    priority: FlagPriority = Field(sa_type=String(10))
    source: str = Field(max_length=40, description="who raised it: safety_net, rasa_action, ...")
    reason: str = Field(default="", max_length=200, description="rule or intent, never the text")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
