"""What the summaries count: one ``Metric`` per kind of event, as a SELECT of facts.

A fact is one row of a raw table in a time range: when (``at``), who (``person``: a
conversation id, or a citizen id as text), its dimensions (``d0``, ``d1``...), ``value`` and
``amount``. ``refresh`` groups the facts by day, scope, key and gap; each grouping of the
dimensions becomes a key (``"category=housing|quartiere=Q3"``), ``*`` being everything.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import Select, String, cast, func, literal, select

from broadcast.models import Subscription
from care.handoff_models import CsatAnswer, Handoff
from care.models import ConversationFlag, FlagKind
from catalog.models import UnmetNeed
from conversations.models import Conversation, Direction, Message
from monitoring.tracker import (
    EVENTS,
    FALLBACK_INTENT,
    OUT_OF_SCOPE_INTENT,
    TWO_STAGE_ACTION,
    quartiere_of,
)
from welfare.ledger.models import BudgetAccount, EntryKind, FundingSource, LedgerEntry
from welfare.models import Reimbursement, ReimbursementStatus, Voucher, VoucherStatus

NOT_GIVEN = "-"
HOUR = "@hour"  # a dimension computed from ``at``: the Europe/Rome hour, "00".."23"

Facts = Callable[[datetime, datetime], Select[Any]]


@dataclass(frozen=True)
class Metric:
    name: str
    facts: Facts  # (start, end) -> SELECT at, person, d0.., value, amount[, scope]
    dims: tuple[str, ...] = ()
    groupings: tuple[tuple[str, ...], ...] = ()  # besides the total "*"
    scope: Literal["conversation", "citizen", "own", "named", "none"] = "conversation"
    daily: bool = False  # people per day only (DAILY rows): dense metrics such as hours
    derive: Callable[[Any], tuple[str, ...] | None] | None = None  # dims from the row (None:
    # not a fact after all)
    source: Literal["app", "tracker"] = "app"  # our database, or Rasa's tracker store


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


def _citizen_facts(moment: Any, citizen: Any, dim: Any, amount: Any, *where: Any) -> Facts:
    def facts(start: datetime, end: datetime) -> Select[Any]:
        return select(
            moment.label("at"),
            cast(citizen, String).label("person"),
            dim.label("d0"),
            literal(1).label("value"),
            amount.label("amount"),
        ).where(*where, *_between(moment, start, end))

    return facts


def _voucher(moment: Any, status: VoucherStatus | None) -> Facts:
    where = [Voucher.status == status.value] if status is not None else []
    category = func.coalesce(Voucher.category, NOT_GIVEN)
    return _citizen_facts(moment, Voucher.citizen_id, category, Voucher.covered_cents, *where)


def _reimbursement(moment: Any, status: ReimbursementStatus | None, amount: Any) -> Facts:
    where = [Reimbursement.status == status.value] if status is not None else []
    category = func.coalesce(Reimbursement.category, NOT_GIVEN)
    return _citizen_facts(moment, Reimbursement.citizen_id, category, amount, *where)


def _entries(kind: EntryKind, amount: Any, vouchers_only: bool) -> Facts:
    """Ledger operations (one idempotency key, possibly several entries) by funding source."""
    account, source = BudgetAccount.__table__, FundingSource.__table__
    where = [LedgerEntry.kind == kind.value]
    if vouchers_only:  # holds (and their capture, release) with a reference are vouchers
        where.append(LedgerEntry.hold_ref.is_not(None))

    def facts(start: datetime, end: datetime) -> Select[Any]:
        return (
            select(
                func.min(LedgerEntry.created_at).label("at"),
                cast(account.c.citizen_id, String).label("person"),
                source.c.kind.label("d0"),
                literal(1).label("value"),
                func.sum(amount).label("amount"),
            )
            .select_from(LedgerEntry)
            .join(account, account.c.id == LedgerEntry.account_id)
            .join(source, source.c.id == account.c.source_id)
            .where(*where, *_between(LedgerEntry.created_at, start, end))
            .group_by(LedgerEntry.idempotency_key, account.c.citizen_id, source.c.kind)
        )

    return facts


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def minutes_between(a: datetime, b: datetime) -> float:
    return max(0.0, (_aware(b) - _aware(a)).total_seconds() / 60)


def _handoff_times(until: Any) -> Facts:
    """Hand-offs with ``until`` set, by priority and minutes from the request (x0 -> x1)."""

    def facts(start: datetime, end: datetime) -> Select[Any]:
        return select(
            Handoff.requested_at.label("at"),
            Handoff.conversation_id.label("person"),
            Handoff.priority.label("d0"),
            literal(1).label("value"),
            literal(0).label("amount"),
            until.label("x1"),
        ).where(until.is_not(None), *_between(Handoff.requested_at, start, end))

    return facts


def _minutes_dims(row: Any) -> tuple[str, ...]:
    return str(row.d0), f"{minutes_between(row.at, row.x1):.4f}"


def _sla(start: datetime, end: datetime) -> Select[Any]:
    return select(
        Handoff.requested_at.label("at"),
        Handoff.conversation_id.label("person"),
        Handoff.priority.label("d0"),
        literal(1).label("value"),
        literal(0).label("amount"),
        Handoff.sla_due_at.label("x0"),
        Handoff.first_reply_at.label("x1"),
    ).where(Handoff.sla_due_at.is_not(None), *_between(Handoff.requested_at, start, end))


def _sla_dims(row: Any) -> tuple[str, ...]:
    """Late: answered after the due time, or not answered and the due time passed (as of
    the summary's making: the job redoes the last days until they are decided)."""
    due = _aware(row.x0)
    late = (row.x1 is None and datetime.now(UTC) > due) or (
        row.x1 is not None and _aware(row.x1) > due
    )
    return str(row.d0), "yes" if late else "no"


def _handoffs(start: datetime, end: datetime) -> Select[Any]:
    return select(
        Handoff.requested_at.label("at"),
        Handoff.conversation_id.label("person"),
        Handoff.reason.label("d0"),
        Handoff.priority.label("d1"),
        literal(1).label("value"),
        literal(0).label("amount"),
    ).where(*_between(Handoff.requested_at, start, end))


def _csat(start: datetime, end: datetime) -> Select[Any]:
    return select(
        CsatAnswer.answered_at.label("at"),
        CsatAnswer.conversation_id.label("person"),
        cast(CsatAnswer.score, String).label("d0"),
        literal(1).label("value"),
        CsatAnswer.score.label("amount"),
    ).where(CsatAnswer.score.is_not(None), *_between(CsatAnswer.answered_at, start, end))


def _flags(kind: FlagKind) -> Facts:
    def facts(start: datetime, end: datetime) -> Select[Any]:
        return select(
            ConversationFlag.created_at.label("at"),
            ConversationFlag.conversation_id.label("person"),
            func.coalesce(ConversationFlag.reason, NOT_GIVEN).label("d0"),
            literal(1).label("value"),
            literal(0).label("amount"),
        ).where(
            ConversationFlag.kind == kind.value, *_between(ConversationFlag.created_at, start, end)
        )

    return facts


# --- Rasa's tracker store: ``at`` is epoch seconds there ----------------------------------


def _events(start: datetime, end: datetime) -> list[Any]:
    t = EVENTS.c.timestamp
    return [t >= start.timestamp(), t < end.timestamp()]


def _intents(start: datetime, end: datetime) -> Select[Any]:
    return select(
        EVENTS.c.timestamp.label("at"),
        EVENTS.c.sender_id.label("person"),
        func.coalesce(EVENTS.c.intent_name, NOT_GIVEN).label("d0"),
        literal(1).label("value"),
        literal(0).label("amount"),
    ).where(EVENTS.c.type_name == "user", *_events(start, end))


def _two_stage(start: datetime, end: datetime) -> Select[Any]:
    """Each two-stage fallback with the intent of the citizen's next message (x1)."""
    nxt = EVENTS.alias("nxt")
    following = (
        select(nxt.c.intent_name)
        .where(
            nxt.c.sender_id == EVENTS.c.sender_id,
            nxt.c.id > EVENTS.c.id,
            nxt.c.type_name == "user",
        )
        .order_by(nxt.c.id)
        .limit(1)
        .scalar_subquery()
    )
    return select(
        EVENTS.c.timestamp.label("at"),
        EVENTS.c.sender_id.label("person"),
        literal(1).label("value"),
        literal(0).label("amount"),
        following.label("x1"),
    ).where(
        EVENTS.c.type_name == "action",
        EVENTS.c.action_name == TWO_STAGE_ACTION,
        *_events(start, end),
    )


def _two_stage_outcome(row: Any) -> tuple[str, ...]:
    if row.x1 is None:
        return ("left",)
    if row.x1 == FALLBACK_INTENT:
        return ("again",)
    if row.x1 == OUT_OF_SCOPE_INTENT:
        return ("out_of_scope",)
    return ("understood",)


def _slots(slot: str) -> Facts:
    def facts(start: datetime, end: datetime) -> Select[Any]:
        return select(
            EVENTS.c.timestamp.label("at"),
            EVENTS.c.sender_id.label("person"),
            literal(1).label("value"),
            literal(0).label("amount"),
            EVENTS.c.data.label("x0"),
        ).where(  # the LIKE skips most rows before their JSON is read (in Python)
            EVENTS.c.type_name == "slot", EVENTS.c.data.like(f'%"{slot}"%'), *_events(start, end)
        )

    return facts


def slot_value(data: str | None, slot: str) -> str | None:
    try:
        event = json.loads(data or "")
    except ValueError:
        return None
    if not isinstance(event, dict) or event.get("name") != slot or event.get("value") is None:
        return None
    return str(event["value"])


def _category(row: Any) -> tuple[str, ...] | None:
    value = slot_value(row.x0, "service_category")
    return None if value is None else (value,)


def _place(row: Any) -> tuple[str, ...] | None:
    value = slot_value(row.x0, "neighbourhood")
    return None if value is None else (quartiere_of(value),)


CHANNEL = ("channel",)
_CAT = ("category",)
_SRC = ("source",)
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
        # Assistenza
        Metric(
            "handoff",
            _handoffs,
            ("reason", "priority"),
            (("reason",), ("priority",)),
        ),
        Metric(
            "handoff_outcome",
            _moment(
                Handoff.closed_at,
                Handoff.conversation_id,
                func.coalesce(Handoff.outcome, NOT_GIVEN),
            ),
            ("outcome",),
            (("outcome",),),
        ),
        Metric("csat", _csat, ("score",), (("score",),)),
        *[
            Metric(
                name,
                _handoff_times(until),
                ("priority", "minutes"),
                (("priority",), ("priority", "minutes")),
                derive=_minutes_dims,
            )
            for name, until in [
                ("handoff_wait", Handoff.claimed_at),
                ("handoff_reply", Handoff.first_reply_at),
            ]
        ],
        Metric(
            "handoff_sla",
            _sla,
            ("priority", "late"),
            (("priority",), ("priority", "late"), ("late",)),
            derive=_sla_dims,
        ),
        Metric(
            "bot_failure",
            _flags(FlagKind.bot_failure),
            ("reason",),
            (("reason",),),
        ),
        # Comprensione and the requests of «Bisogni», from Rasa's tracker store
        Metric("intent", _intents, ("intent",), (("intent",),), scope="none", source="tracker"),
        Metric(
            "two_stage",
            _two_stage,
            ("outcome",),
            (("outcome",),),
            scope="none",
            derive=_two_stage_outcome,
            source="tracker",
        ),
        Metric(
            "slot_place",
            _slots("neighbourhood"),
            ("quartiere",),
            (("quartiere",),),
            scope="none",
            derive=_place,
            source="tracker",
        ),
        Metric(
            "slot_category",
            _slots("service_category"),
            ("category",),
            (("category",),),
            scope="named",  # the quartieri the conversation named in its searches
            derive=_category,
            source="tracker",
        ),
        # Budget: people are citizens, in the quartiere they live in
        *[
            Metric(name, facts, _CAT, (_CAT,), scope="citizen")
            for name, facts in [
                ("voucher_issued", _voucher(Voucher.created_at, None)),
                ("voucher_redeemed", _voucher(Voucher.closed_at, VoucherStatus.redeemed)),
                ("voucher_cancelled", _voucher(Voucher.closed_at, VoucherStatus.cancelled)),
                (
                    "reimbursement_requested",
                    _reimbursement(Reimbursement.created_at, None, Reimbursement.amount_cents),
                ),
                (
                    "reimbursement_approved",
                    _reimbursement(
                        Reimbursement.reviewed_at,
                        ReimbursementStatus.approved,
                        Reimbursement.approved_cents,
                    ),
                ),
                (
                    "reimbursement_rejected",
                    _reimbursement(
                        Reimbursement.reviewed_at,
                        ReimbursementStatus.rejected,
                        Reimbursement.amount_cents,
                    ),
                ),
            ]
        ],
        *[
            Metric(name, facts, _SRC, (_SRC,), scope="citizen")
            for name, facts in [
                ("hold_source", _entries(EntryKind.hold, LedgerEntry.held_cents, True)),
                ("capture_source", _entries(EntryKind.capture, -LedgerEntry.amount_cents, True)),
                ("release_source", _entries(EntryKind.release, -LedgerEntry.held_cents, True)),
                (
                    "reimbursement_source",
                    _entries(EntryKind.reimbursement, LedgerEntry.amount_cents, False),
                ),
            ]
        ],
    ]
}
