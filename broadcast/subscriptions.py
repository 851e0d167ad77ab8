"""Citizens' subscriptions to announcements: which quartieri and interests, on or off.

Keyed by the gateway's opaque ``conversation_id`` (the channel is copied from the
gateway's conversation). Only a conversation whose citizen accepted the privacy notice may
subscribe; stopping deletes the chosen topics (interests such as "disability" say something
about a person: nothing is kept that is not needed). No choice of a kind means "all".

Every function works inside the caller's session (the caller commits).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from broadcast.models import Subscription, SubscriptionTopic, TopicKind
from catalog.areas import QUARTIERI
from catalog.vocabulary import CATEGORY_LABELS
from conversations.models import Conversation


class NoConsent(Exception):
    """The conversation has no consent on record: it cannot subscribe."""


@dataclass(frozen=True)
class Choices:
    active: bool
    quartieri: tuple[str, ...]  # empty = all of Florence
    interests: tuple[str, ...]  # empty = every topic

    def describe(self) -> str:
        """Italian summary, e.g. "Quartieri: Q5 Rifredi. Argomenti: Doposcuola"."""
        quartieri = (
            ", ".join(f"{q} {QUARTIERI[q]}" for q in self.quartieri if q in QUARTIERI)
            or "tutta la città"
        )
        interests = (
            ", ".join(CATEGORY_LABELS[i] for i in self.interests if i in CATEGORY_LABELS) or "tutti"
        )
        return f"Quartieri: {quartieri}.\nArgomenti: {interests}."


NOT_SUBSCRIBED = Choices(active=False, quartieri=(), interests=())


def _conversation(session: Session, conversation_id: str) -> Conversation | None:
    return session.exec(
        select(Conversation).where(Conversation.conversation_id == conversation_id)
    ).first()


def has_consent(session: Session, *, conversation_id: str) -> bool:
    conversation = _conversation(session, conversation_id)
    return conversation is not None and conversation.consent_at is not None


def get_subscription(session: Session, *, conversation_id: str) -> Subscription | None:
    return session.exec(
        select(Subscription).where(Subscription.conversation_id == conversation_id)
    ).first()


def choices(session: Session, *, conversation_id: str) -> Choices:
    subscription = get_subscription(session, conversation_id=conversation_id)
    if subscription is None or not subscription.active:
        return NOT_SUBSCRIBED
    topics = session.exec(
        select(SubscriptionTopic).where(SubscriptionTopic.subscription_id == subscription.id)
    ).all()
    quartieri = sorted(t.value for t in topics if t.kind == TopicKind.quartiere)
    order = list(CATEGORY_LABELS)
    interests = sorted(
        (t.value for t in topics if t.kind == TopicKind.interest),
        key=lambda v: order.index(v) if v in order else len(order),
    )
    return Choices(True, tuple(quartieri), tuple(interests))


def subscribe(session: Session, *, conversation_id: str, now: datetime) -> Subscription:
    """Turn announcements on (idempotent). Raises NoConsent without the privacy consent."""
    conversation = _conversation(session, conversation_id)
    if conversation is None or conversation.consent_at is None:
        raise NoConsent(conversation_id)
    subscription = get_subscription(session, conversation_id=conversation_id)
    if subscription is None:
        subscription = Subscription(
            conversation_id=conversation_id,
            channel=str(conversation.channel),
            created_at=now,
            updated_at=now,
        )
    elif not subscription.active:
        subscription.active = True
        subscription.stopped_at = None
        subscription.updated_at = now
    else:
        return subscription
    session.add(subscription)
    session.flush()
    return subscription


def stop(session: Session, *, conversation_id: str, now: datetime) -> bool:
    """Stop every announcement and forget the choices; True if something was active."""
    subscription = get_subscription(session, conversation_id=conversation_id)
    if subscription is None:
        return False
    was_active = subscription.active
    _clear(session, subscription, None)
    subscription.active = False
    subscription.stopped_at = now if was_active else subscription.stopped_at
    subscription.updated_at = now
    session.add(subscription)
    session.flush()
    return was_active


def _active(session: Session, conversation_id: str) -> Subscription | None:
    subscription = get_subscription(session, conversation_id=conversation_id)
    return subscription if subscription is not None and subscription.active else None


def _clear(session: Session, subscription: Subscription, kind: TopicKind | None) -> None:
    query = select(SubscriptionTopic).where(SubscriptionTopic.subscription_id == subscription.id)
    if kind is not None:
        query = query.where(SubscriptionTopic.kind == kind)
    for topic in session.exec(query).all():
        session.delete(topic)
    session.flush()


def _valid(kind: TopicKind, value: str) -> bool:
    return value in (QUARTIERI if kind == TopicKind.quartiere else CATEGORY_LABELS)


def toggle(
    session: Session, *, conversation_id: str, kind: TopicKind, value: str, now: datetime
) -> bool | None:
    """Add or remove one quartiere/interest. Returns True if now chosen, False if removed,
    None if the subscription is not active or the value is unknown."""
    subscription = _active(session, conversation_id)
    if subscription is None or not _valid(kind, value):
        return None
    assert subscription.id is not None
    existing = session.get(SubscriptionTopic, (subscription.id, kind, value))
    if existing is not None:
        session.delete(existing)
        chosen = False
    else:
        session.add(SubscriptionTopic(subscription_id=subscription.id, kind=kind, value=value))
        chosen = True
    subscription.updated_at = now
    session.add(subscription)
    session.flush()
    return chosen


def choose_all(session: Session, *, conversation_id: str, kind: TopicKind, now: datetime) -> bool:
    """Clear the choices of one kind (= all quartieri / all interests)."""
    subscription = _active(session, conversation_id)
    if subscription is None:
        return False
    _clear(session, subscription, kind)
    subscription.updated_at = now
    session.add(subscription)
    session.flush()
    return True


def set_choices(
    session: Session,
    *,
    conversation_id: str,
    quartieri: list[str],
    interests: list[str],
    now: datetime,
) -> Subscription:
    """Subscribe (if needed) with exactly these choices; unknown values raise ValueError."""
    for kind, values in ((TopicKind.quartiere, quartieri), (TopicKind.interest, interests)):
        unknown = [v for v in values if not _valid(kind, v)]
        if unknown:
            raise ValueError(f"unknown {kind}: {unknown}")
    subscription = subscribe(session, conversation_id=conversation_id, now=now)
    assert subscription.id is not None
    _clear(session, subscription, None)
    for kind, values in ((TopicKind.quartiere, quartieri), (TopicKind.interest, interests)):
        for value in sorted(set(values)):
            session.add(SubscriptionTopic(subscription_id=subscription.id, kind=kind, value=value))
    subscription.updated_at = now
    session.add(subscription)
    session.flush()
    return subscription
