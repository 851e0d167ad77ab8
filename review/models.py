"""The review inbox's one table: a citizen message worth a reviewer's look, and its verdict.

The citizen's words are not copied here until the reviewer decides: the page reads them from
``conversation_message`` (so an erased or purged message leaves the queue with its row, see
``review.queue.forget``). ``masked_text`` is the text with personal data replaced by
placeholders (review.masking), the only form that can become training data.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from core.timeutil import UTCDateTime, utcnow


class Reason(StrEnum):
    """Why a message is in the queue (an item may have several)."""

    low_confidence = "low_confidence"  # the model was unsure (or fell back)
    two_stage = "two_stage"  # the "Intendevi...?" question was asked
    not_understood = "not_understood"  # two misses: handed to a person («bot non capisce»)
    out_of_scope = "out_of_scope"  # the model said "not for me"
    citizen_thumbs_down = "citizen_thumbs_down"  # the citizen said the answer was wrong
    staff_marked = "staff_marked"  # a Care Manager marked it in a hand-off


class ReviewStatus(StrEnum):
    pending = "pending"  # waits for a reviewer
    accepted = "accepted"  # confirmed or corrected: exported by `console review-export`
    exported = "exported"  # written into data/nlu/review/
    discarded = "discarded"  # nothing to learn from it


class ReviewItem(SQLModel, table=True):
    __tablename__ = "review_item"
    __table_args__ = (UniqueConstraint("message_id", name="uq_review_item_message"),)

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: str = Field(max_length=32, index=True)
    message_id: int = Field(foreign_key="conversation_message.id")
    reasons: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # what the model understood (Rasa's parse data): never the text
    intent: str = Field(default="", max_length=80)
    confidence: float | None = Field(default=None)
    entities: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    ranking: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    # after "Intendevi...?": the intent the citizen then chose ("" while unknown)
    fallback_choice: str = Field(default="", max_length=80)
    status: ReviewStatus = Field(default=ReviewStatus.pending, sa_type=String(12), index=True)
    masked_text: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    corrected_intent: str = Field(default="", max_length=80)
    # entity spans on masked_text: [{"start", "end", "entity", "value"}]
    corrected_entities: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    reviewer_id: int | None = Field(default=None)
    reviewed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    exported_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
