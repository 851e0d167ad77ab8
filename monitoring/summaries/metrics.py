"""What the summaries count: one ``Metric`` per kind of event, as a SELECT of facts.

A fact is one row of a raw table in a time range: when (``at``), who (``person``: a
conversation id, or a citizen id as text), its dimensions (``d0``, ``d1``...), ``value`` and
``amount``. ``refresh`` groups the facts by day, scope, key and gap; each grouping of the
dimensions becomes a key (``"category=housing|quartiere=Q3"``), ``*`` being everything.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Select, String, cast, func, literal, select

from broadcast.models import Subscription
from catalog.models import UnmetNeed
from conversations.models import Conversation, Direction, Message

NOT_GIVEN = "-"
HOUR = "@hour"  # a dimension computed from ``at``: the Europe/Rome hour, "00".."23"

Facts = Callable[[datetime, datetime], Select[Any]]


@dataclass(frozen=True)
class Metric:
    name: str
    facts: Facts  # (start, end) -> SELECT at, person, d0.., value, amount[, scope]
    dims: tuple[str, ...] = ()
    groupings: tuple[tuple[str, ...], ...] = ()  # besides the total "*"
    scope: Literal["conversation", "own", "none"] = "conversation"
    daily: bool = False  # people per day only (DAILY rows): dense metrics such as hours


def key_of(names: tuple[str, ...], values: tuple[str, ...]) -> str:
    return "|".join(f"{n}={v}" for n, v in zip(names, values, strict=True)) or "*"


def _between(column: Any, start: datetime, end: datetime) -> list[Any]:
    return [column >= start, column < end]


def _messages(direction: Direction) -> Facts:
    def facts(start: datetime, end: datetime) -> Select[Any]:
        return select(
            Message.created_at.label("at"),
            Message.conversation_id.label("person"),
            Message.channel.label("d0"),
            literal(1).label("value"),
            literal(0).label("amount"),
        ).where(Message.direction == direction.value, *_between(Message.created_at, start, end))

    return facts


def _inbound_hours(start: datetime, end: datetime) -> Select[Any]:
    return select(
        Message.created_at.label("at"),
        Message.conversation_id.label("person"),
        literal(1).label("value"),
        literal(0).label("amount"),
    ).where(Message.direction == Direction.inbound.value, *_between(Message.created_at, start, end))


def _moment(column: Any, person: Any, channel: Any | None = None) -> Facts:
    def facts(start: datetime, end: datetime) -> Select[Any]:
        dims = [channel.label("d0")] if channel is not None else []
        return select(
            column.label("at"),
            person.label("person"),
            *dims,
            literal(1).label("value"),
            literal(0).label("amount"),
        ).where(*_between(column, start, end))

    return facts


def _unmet(start: datetime, end: datetime) -> Select[Any]:
    return select(
        UnmetNeed.created_at.label("at"),
        UnmetNeed.conversation_id.label("person"),
        func.coalesce(UnmetNeed.category, NOT_GIVEN).label("d0"),
        func.coalesce(UnmetNeed.quartiere, NOT_GIVEN).label("d1"),
        literal(1).label("value"),
        literal(0).label("amount"),
        cast(func.coalesce(UnmetNeed.quartiere, ""), String).label("scope"),
    ).where(*_between(UnmetNeed.created_at, start, end))


CHANNEL = ("channel",)
METRICS: dict[str, Metric] = {
    m.name: m
    for m in [
        # Uso
        Metric(
            "conversations",
            _moment(Conversation.created_at, Conversation.conversation_id, Conversation.channel),
            CHANNEL,
            (CHANNEL,),
        ),
        Metric("inbound", _messages(Direction.inbound), CHANNEL, (CHANNEL,)),
        Metric("outbound", _messages(Direction.outbound), CHANNEL, (CHANNEL,)),
        Metric("inbound_hour", _inbound_hours, (HOUR,), ((HOUR,),), daily=True),
        Metric("consent_yes", _moment(Conversation.consent_at, Conversation.conversation_id)),
        Metric(
            "consent_no",
            _moment(Conversation.consent_declined_at, Conversation.conversation_id),
        ),
        Metric("subs_on", _moment(Subscription.created_at, Subscription.conversation_id)),
        Metric("subs_off", _moment(Subscription.stopped_at, Subscription.conversation_id)),
        # Bisogni
        Metric(
            "unmet",
            _unmet,
            ("category", "quartiere"),
            (("category", "quartiere"), ("category",), ("quartiere",)),
            scope="own",
        ),
    ]
}
