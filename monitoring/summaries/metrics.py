"""What the summaries count: one ``Metric`` per kind of event, as a SELECT of facts.

A fact is one row of a raw table in a time range: when (``at``), who (``person``: a
conversation id, or a citizen id as text), its dimensions (``d0``, ``d1``...), ``value`` and
``amount``. ``refresh`` groups the facts by day, scope, key and gap; each grouping of the
dimensions becomes a key (``"category=housing|quartiere=Q3"``), ``*`` being everything.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import Select, String, cast, func, select

from broadcast.models import Subscription
from care.handoff_models import CsatAnswer, Handoff
from care.models import ConversationFlag, FlagKind
from catalog.models import UnmetNeed
from conversations.models import Conversation, Direction, Message
from monitoring.summaries.facts import Facts, between, fact
from monitoring.summaries.tracker_facts import (
    category,
    intents,
    place,
    slots,
    two_stage,
    two_stage_outcome,
)
from welfare.ledger.models import BudgetAccount, EntryKind, FundingSource, LedgerEntry
from welfare.models import Reimbursement, ReimbursementStatus, Voucher, VoucherStatus

NOT_GIVEN = "-"
EXPIRY_DAYS = 60  # the budget expiring: its days ahead of today
HOUR = "@hour"  # a dimension computed from ``at``: the Europe/Rome hour, "00".."23"


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
    ahead_days: int = 0  # days after today made too (a state dated in the future)


def key_of(names: tuple[str, ...], values: tuple[str, ...]) -> str:
    return "|".join(f"{n}={v}" for n, v in zip(names, values, strict=True)) or "*"


def _messages(direction: Direction) -> Facts:
    def facts(start: datetime, end: datetime) -> Select[Any]:
        return select(*fact(Message.created_at, Message.conversation_id, Message.channel)).where(
            Message.direction == direction.value, *between(Message.created_at, start, end)
        )

    return facts


def _inbound_hours(start: datetime, end: datetime) -> Select[Any]:
    return select(*fact(Message.created_at, Message.conversation_id)).where(
        Message.direction == Direction.inbound.value, *between(Message.created_at, start, end)
    )


def _moment(column: Any, person: Any, channel: Any | None = None) -> Facts:
    def facts(start: datetime, end: datetime) -> Select[Any]:
        dims = [channel] if channel is not None else []
        return select(*fact(column, person, *dims)).where(*between(column, start, end))

    return facts


def _unmet(start: datetime, end: datetime) -> Select[Any]:
    return select(
        *fact(
            UnmetNeed.created_at,
            UnmetNeed.conversation_id,
            func.coalesce(UnmetNeed.category, NOT_GIVEN),
            func.coalesce(UnmetNeed.quartiere, NOT_GIVEN),
            scope=cast(func.coalesce(UnmetNeed.quartiere, ""), String),
        )
    ).where(*between(UnmetNeed.created_at, start, end))


def _citizen_facts(moment: Any, citizen: Any, dim: Any, amount: Any, *where: Any) -> Facts:
    def facts(start: datetime, end: datetime) -> Select[Any]:
        return select(*fact(moment, cast(citizen, String), dim, amount=amount)).where(
            *where, *between(moment, start, end)
        )

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
                *fact(
                    func.min(LedgerEntry.created_at),
                    cast(account.c.citizen_id, String),
                    source.c.kind,
                    amount=func.sum(amount),
                )
            )
            .select_from(LedgerEntry)
            .join(account, account.c.id == LedgerEntry.account_id)
            .join(source, source.c.id == account.c.source_id)
            .where(*where, *between(LedgerEntry.created_at, start, end))
            .group_by(LedgerEntry.idempotency_key, account.c.citizen_id, source.c.kind)
        )

    return facts


def _expiring(start: datetime, end: datetime) -> Select[Any]:
    """Budget accounts by the day they expire, with what is still available on them (as of
    the making of the summary: the job makes the next days again on every run)."""
    account, source = BudgetAccount.__table__, FundingSource.__table__
    expiring = between(account.c.expires_at, start, end)
    per_account = (
        select(
            LedgerEntry.account_id.label("account_id"),
            func.sum(LedgerEntry.amount_cents - LedgerEntry.held_cents).label("available"),
        )
        .where(LedgerEntry.account_id.in_(select(account.c.id).where(*expiring)))
        .group_by(LedgerEntry.account_id)
        .subquery()
    )
    citizen = cast(account.c.citizen_id, String)
    return (
        select(*fact(account.c.expires_at, citizen, source.c.kind, amount=per_account.c.available))
        .select_from(account)
        .join(per_account, per_account.c.account_id == account.c.id)
        .join(source, source.c.id == account.c.source_id)
        .where(per_account.c.available > 0, *expiring)
    )


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def minutesbetween(a: datetime, b: datetime) -> float:
    return max(0.0, (_aware(b) - _aware(a)).total_seconds() / 60)


def _handoff_times(until: Any) -> Facts:
    """Hand-offs with ``until`` set, by priority and minutes from the request (x0 -> x1)."""

    def facts(start: datetime, end: datetime) -> Select[Any]:
        return select(
            *fact(Handoff.requested_at, Handoff.conversation_id, Handoff.priority, x1=until)
        ).where(until.is_not(None), *between(Handoff.requested_at, start, end))

    return facts


def _minutes_dims(row: Any) -> tuple[str, ...]:
    return str(row.d0), f"{minutesbetween(row.at, row.x1):.4f}"


def _sla(start: datetime, end: datetime) -> Select[Any]:
    return select(
        *fact(
            Handoff.requested_at,
            Handoff.conversation_id,
            Handoff.priority,
            x0=Handoff.sla_due_at,
            x1=Handoff.first_reply_at,
        )
    ).where(Handoff.sla_due_at.is_not(None), *between(Handoff.requested_at, start, end))


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
        *fact(Handoff.requested_at, Handoff.conversation_id, Handoff.reason, Handoff.priority)
    ).where(*between(Handoff.requested_at, start, end))


def _csat(start: datetime, end: datetime) -> Select[Any]:
    return select(
        *fact(
            CsatAnswer.answered_at,
            CsatAnswer.conversation_id,
            cast(CsatAnswer.score, String),
            amount=CsatAnswer.score,
        )
    ).where(CsatAnswer.score.is_not(None), *between(CsatAnswer.answered_at, start, end))


def _flags(kind: FlagKind) -> Facts:
    def facts(start: datetime, end: datetime) -> Select[Any]:
        return select(
            *fact(
                ConversationFlag.created_at,
                ConversationFlag.conversation_id,
                func.coalesce(ConversationFlag.reason, NOT_GIVEN),
            )
        ).where(
            ConversationFlag.kind == kind.value, *between(ConversationFlag.created_at, start, end)
        )

    return facts


CHANNEL = ("channel",)


def _by(name: str, facts: Facts, dim: str, **options: Any) -> Metric:
    """A metric of one dimension, by which it is also grouped."""
    return Metric(name, facts, (dim,), ((dim,),), **options)


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
        _by(
            "handoff_outcome",
            _moment(
                Handoff.closed_at,
                Handoff.conversation_id,
                func.coalesce(Handoff.outcome, NOT_GIVEN),
            ),
            "outcome",
        ),
        _by("csat", _csat, "score"),
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
        _by("bot_failure", _flags(FlagKind.bot_failure), "reason"),
        # Comprensione and the requests of «Bisogni», from Rasa's tracker store
        _by("intent", intents, "intent", scope="none", source="tracker"),
        _by(
            "two_stage",
            two_stage,
            "outcome",
            scope="none",
            derive=two_stage_outcome,
            source="tracker",
        ),
        _by(
            "slot_place",
            slots("neighbourhood"),
            "quartiere",
            scope="none",
            derive=place,
            source="tracker",
        ),
        # scope: the quartieri the conversation named in its searches
        _by(
            "slot_category",
            slots("service_category"),
            "category",
            scope="named",
            derive=category,
            source="tracker",
        ),
        # Budget: people are citizens, in the quartiere they live in
        *[
            _by(name, facts, "category", scope="citizen")
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
            _by(name, facts, "source", scope="citizen")
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
        _by("budget_expiry", _expiring, "source", scope="citizen", ahead_days=EXPIRY_DAYS),
    ]
}
