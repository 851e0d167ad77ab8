"""Who receives a broadcast: active subscriptions of consenting, reachable private chats whose
choices match the broadcast's quartieri and interests.

Matching, per kind (quartieri, interests): a broadcast with none of the kind is for everyone;
a subscriber with none of the kind wants everything; otherwise one common value is enough.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, exists, func, not_, or_, select
from sqlalchemy.sql import Select
from sqlmodel import Session, col

from broadcast.models import Subscription, SubscriptionTopic, TopicKind
from conversations.models import Conversation


def _kind_matches(kind: TopicKind, wanted: Sequence[str]) -> Any:
    if not wanted:
        return None
    topic = SubscriptionTopic.__table__.alias(f"t_{kind.value}")  # type: ignore[attr-defined]
    any_of_kind = exists().where(
        topic.c.subscription_id == Subscription.id, topic.c.kind == kind.value
    )
    matching = exists().where(
        topic.c.subscription_id == Subscription.id,
        topic.c.kind == kind.value,
        topic.c.value.in_(list(wanted)),
    )
    return or_(not_(any_of_kind), matching)


def audience_filter(quartieri: Sequence[str], interests: Sequence[str]) -> Any:
    """The WHERE clause over Subscription joined with Conversation."""
    conditions = [
        col(Subscription.active).is_(True),
        col(Conversation.consent_at).is_not(None),
        col(Conversation.blocked_at).is_(None),
        col(Conversation.is_group).is_(False),
    ]
    for kind, wanted in ((TopicKind.quartiere, quartieri), (TopicKind.interest, interests)):
        clause = _kind_matches(kind, wanted)
        if clause is not None:
            conditions.append(clause)
    return and_(*conditions)


def audience_select(quartieri: Sequence[str], interests: Sequence[str]) -> Select[Any]:
    """SELECT conversation_id, channel of every recipient, in subscription order."""
    return (
        select(Subscription.conversation_id, Subscription.channel)
        .join(Conversation, col(Conversation.conversation_id) == Subscription.conversation_id)
        .where(audience_filter(quartieri, interests))
        .order_by(col(Subscription.id))
    )


def count_audience(
    session: Session, *, quartieri: Sequence[str] = (), interests: Sequence[str] = ()
) -> dict[str, int]:
    """Recipients by channel, and "total" (the composer's live count)."""
    query = (
        select(Subscription.channel, func.count())
        .join(Conversation, col(Conversation.conversation_id) == Subscription.conversation_id)
        .where(audience_filter(quartieri, interests))
        .group_by(Subscription.channel)
    )
    counts = {str(channel): int(n) for channel, n in session.execute(query).all()}
    counts["total"] = sum(counts.values())
    return counts
