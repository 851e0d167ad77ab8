"""The delivery queue's transactions: claim, mark in flight, record, release, sweep.

Each function is one short transaction in the caller's session (the worker commits right
after). The life of a delivery row::

    pending --claim--> sending (claim_token, lease_until) --in flight--> sending + in_flight_at
       ^                  |  (released: pause, stop, per-chat gap)        |
       +------------------+                                               v
       +---- 429 / transient error, next_attempt_at <---------- record outcome
                                    sent | failed | blocked | skipped | cancelled (final)

Claiming is one UPDATE whose row set comes from ``SELECT ... FOR UPDATE SKIP LOCKED`` on
PostgreSQL (workers never wait for each other's rows) and from the same SELECT on SQLite,
where a single UPDATE statement holds the database's write lock (claim-by-update). A row
whose lease expired (its worker died) is claimed again; if it was *in flight* (the request
may have reached the channel) it is flagged ``uncertain`` and, by BROADCAST_UNCERTAIN_POLICY,
sent again ("retry": at-least-once, the default) or failed ("skip": at-most-once).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import and_, case, exists, or_, select, update
from sqlmodel import Session, col

from bot.store import repository as gateway_repo
from bot.store.models import Conversation
from broadcast import ratelimit
from broadcast.models import (
    Broadcast,
    BroadcastStatus,
    Delivery,
    DeliveryStatus,
    Pacer,
    Subscription,
)
from broadcast.senders import Outcome, Recipient, Result

UNCERTAIN_ERROR = "uncertain-after-crash"


class Policy(StrEnum):
    retry = "retry"  # at-least-once: a request possibly accepted before a crash is sent again
    skip = "skip"  # at-most-once: it is marked failed (possibly never received)


@dataclass(frozen=True)
class Claimed:
    recipient: Recipient
    lease_until: datetime
    uncertain: bool


def _running_ids() -> object:
    return select(Broadcast.id).where(col(Broadcast.status) == BroadcastStatus.running)


def _claimable(now: datetime) -> object:
    return and_(
        col(Delivery.broadcast_id).in_(_running_ids()),
        or_(
            and_(
                col(Delivery.status) == DeliveryStatus.pending,
                col(Delivery.next_attempt_at) <= now,
            ),
            and_(
                col(Delivery.status) == DeliveryStatus.sending,
                col(Delivery.lease_until) < now,
            ),
        ),
    )


def claim(
    session: Session,
    *,
    token: str,
    now: datetime,
    lease_seconds: float,
    limit: int,
    policy: Policy = Policy.retry,
) -> list[Claimed]:
    """Claim up to ``limit`` due deliveries for this worker; settle at once those that must
    not be sent any more (unsubscribed, consent withdrawn, blocked, uncertain under
    "skip"); return the rest, oldest broadcast first."""
    ids = (
        select(Delivery.id)
        .where(_claimable(now))
        .order_by(col(Delivery.broadcast_id), col(Delivery.id))
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        ids = ids.with_for_update(skip_locked=True)
    # A CTE, evaluated once: as a plain IN (subquery) PostgreSQL may rescan it, and each
    # rescan with SKIP LOCKED returns the next rows (those just updated are skipped), so
    # one UPDATE would claim far more than ``limit`` rows.
    picked = ids.cte("picked").prefix_with("MATERIALIZED", dialect="postgresql")
    lease_until = now + timedelta(seconds=lease_seconds)
    session.execute(
        update(Delivery)
        .where(col(Delivery.id).in_(select(picked.c.id)), _claimable(now))
        .values(
            uncertain=case(
                (
                    and_(
                        col(Delivery.status) == DeliveryStatus.sending,
                        col(Delivery.in_flight_at).is_not(None),
                    ),
                    True,
                ),
                else_=col(Delivery.uncertain),
            ),
            status=DeliveryStatus.sending,
            claim_token=token,
            lease_until=lease_until,
            in_flight_at=None,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    rows = session.execute(
        select(
            Delivery,
            Conversation.chat_key,
            Conversation.consent_at,
            Conversation.blocked_at,
            Conversation.last_inbound_at,
            Subscription.active,
        )
        .outerjoin(Conversation, col(Conversation.conversation_id) == Delivery.conversation_id)
        .outerjoin(Subscription, col(Subscription.conversation_id) == Delivery.conversation_id)
        .where(col(Delivery.claim_token) == token, col(Delivery.status) == DeliveryStatus.sending)
        .order_by(col(Delivery.broadcast_id), col(Delivery.id))
    ).all()
    claimed: list[Claimed] = []
    for delivery, chat_key, consent_at, blocked_at, last_inbound_at, active in rows:
        settle: tuple[DeliveryStatus, str] | None = None
        if chat_key is None:
            settle = (DeliveryStatus.skipped, "unknown-conversation")
        elif not active:
            settle = (DeliveryStatus.skipped, "unsubscribed")
        elif consent_at is None:
            settle = (DeliveryStatus.skipped, "no-consent")
        elif blocked_at is not None:
            settle = (DeliveryStatus.blocked, "blocked")
        elif delivery.uncertain and policy == Policy.skip:
            settle = (DeliveryStatus.failed, UNCERTAIN_ERROR)
        if settle is not None:
            _finish(session, delivery.id, token, settle[0], settle[1], now)
            continue
        claimed.append(
            Claimed(
                recipient=Recipient(
                    delivery_id=delivery.id,
                    broadcast_id=delivery.broadcast_id,
                    conversation_id=delivery.conversation_id,
                    channel=delivery.channel,
                    chat_key=str(chat_key),
                    last_inbound_at=last_inbound_at,
                ),
                lease_until=lease_until,
                uncertain=delivery.uncertain,
            )
        )
    return claimed


def _mine(delivery_id: int, token: str) -> object:
    return and_(
        col(Delivery.id) == delivery_id,
        col(Delivery.claim_token) == token,
        col(Delivery.status) == DeliveryStatus.sending,
    )


def _finish(
    session: Session,
    delivery_id: int | None,
    token: str,
    status: DeliveryStatus,
    error: str,
    now: datetime,
    **extra: object,
) -> bool:
    assert delivery_id is not None
    changed = session.execute(
        update(Delivery)
        .where(_mine(delivery_id, token))
        .values(
            status=status,
            last_error=error[:200],
            claim_token=None,
            lease_until=None,
            in_flight_at=None,
            next_attempt_at=None,
            updated_at=now,
            **extra,
        )
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    return bool(changed)


class Go(StrEnum):
    go = "go"  # marked in flight: send now
    cancelled = "cancelled"  # the broadcast was cancelled: the delivery is now cancelled
    paused = "paused"  # the channel is paused (429): released until the pause ends
    released = "released"  # too little lease left: released for a fresh claim
    lost = "lost"  # not ours any more (cancelled or reclaimed): do nothing


def mark_in_flight(
    session: Session,
    *,
    delivery_id: int,
    token: str,
    channel: str,
    now: datetime,
    epoch: float,
    min_lease_until: datetime,
) -> tuple[Go, float]:
    """The last check before the request, atomically: still ours, broadcast still running,
    channel not paused, lease long enough. Returns (decision, pause end if paused)."""
    paused = exists().where(col(Pacer.channel) == channel, col(Pacer.paused_until) > epoch)
    marked = session.execute(
        update(Delivery)
        .where(
            _mine(delivery_id, token),
            col(Delivery.in_flight_at).is_(None),
            col(Delivery.lease_until) > min_lease_until,
            col(Delivery.broadcast_id).in_(_running_ids()),
            ~paused,
        )
        .values(in_flight_at=now, attempts=col(Delivery.attempts) + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    if marked:
        return Go.go, 0.0
    row = session.execute(
        select(Delivery.status, Delivery.claim_token, Broadcast.status)
        .join(Broadcast, col(Broadcast.id) == Delivery.broadcast_id)
        .where(col(Delivery.id) == delivery_id)
    ).first()
    if row is None or row[0] != DeliveryStatus.sending or row[1] != token:
        return Go.lost, 0.0
    if row[2] != BroadcastStatus.running:
        _finish(session, delivery_id, token, DeliveryStatus.cancelled, "", now)
        return Go.cancelled, 0.0
    until = ratelimit.paused_until(session, channel=channel)
    if until > epoch:
        release(
            session,
            delivery_ids=[delivery_id],
            token=token,
            now=now,
            next_attempt_at=now + timedelta(seconds=until - epoch),
        )
        return Go.paused, until
    release(session, delivery_ids=[delivery_id], token=token, now=now, next_attempt_at=now)
    return Go.released, 0.0


def release(
    session: Session,
    *,
    delivery_ids: list[int],
    token: str,
    now: datetime,
    next_attempt_at: datetime,
) -> int:
    """Give claimed, not-in-flight deliveries back to the queue (nothing was sent)."""
    if not delivery_ids:
        return 0
    return int(
        session.execute(
            update(Delivery)
            .where(
                col(Delivery.id).in_(delivery_ids),
                col(Delivery.claim_token) == token,
                col(Delivery.status) == DeliveryStatus.sending,
                col(Delivery.in_flight_at).is_(None),
            )
            .values(
                status=DeliveryStatus.pending,
                claim_token=None,
                lease_until=None,
                next_attempt_at=next_attempt_at,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]
        or 0
    )


def unmark(session: Session, *, delivery_id: int, token: str, now: datetime, delay: float) -> bool:
    """Give back a delivery marked in flight whose request was not made after all (the
    channel was paused meanwhile, or the worker is stopping)."""
    changed = session.execute(
        update(Delivery)
        .where(_mine(delivery_id, token), col(Delivery.in_flight_at).is_not(None))
        .values(
            status=DeliveryStatus.pending,
            claim_token=None,
            lease_until=None,
            in_flight_at=None,
            attempts=col(Delivery.attempts) - 1,
            next_attempt_at=now + timedelta(seconds=delay),
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    return bool(changed)


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    base_seconds: float = 5.0
    max_seconds: float = 600.0
    uncertain: Policy = Policy.retry

    def delay(self, attempts: int) -> float:
        return min(self.max_seconds, self.base_seconds * 2 ** max(0, attempts - 1))


def record(
    session: Session,
    *,
    recipient: Recipient,
    token: str,
    outcome: Outcome,
    now: datetime,
    epoch: float,
    retry: RetryPolicy,
) -> DeliveryStatus | None:
    """Store what the channel answered; returns the delivery's new status (None: not ours)."""
    delivery_id = recipient.delivery_id
    if outcome.result == Result.sent:
        ok = _finish(
            session,
            delivery_id,
            token,
            DeliveryStatus.sent,
            "",
            now,
            provider_message_id=(outcome.message_id or "")[:160] or None,
            sent_at=now,
        )
        if ok and outcome.file_id:
            session.execute(
                update(Broadcast)
                .where(
                    col(Broadcast.id) == recipient.broadcast_id,
                    col(Broadcast.telegram_file_id).is_(None),
                )
                .values(telegram_file_id=outcome.file_id[:200])
                .execution_options(synchronize_session=False)
            )
        return DeliveryStatus.sent if ok else None
    if outcome.result == Result.blocked:
        ok = _finish(session, delivery_id, token, DeliveryStatus.blocked, outcome.error, now)
        if ok:
            with contextlib.suppress(LookupError):
                gateway_repo.mark_blocked(
                    session, conversation_id=recipient.conversation_id, now=now
                )
        return DeliveryStatus.blocked if ok else None
    if outcome.result in (Result.permanent, Result.skipped):
        status = (
            DeliveryStatus.failed
            if outcome.result == Result.permanent
            else (DeliveryStatus.skipped)
        )
        ok = _finish(session, delivery_id, token, status, outcome.error, now)
        return status if ok else None
    if outcome.result == Result.rate_limited:
        ratelimit.pause(session, channel=recipient.channel, until=epoch + outcome.retry_after)
        ok = _retry_later(
            session, recipient, token, outcome, now, outcome.retry_after, count_attempt=False
        )
        return DeliveryStatus.pending if ok else None
    # transient
    if outcome.uncertain and retry.uncertain == Policy.skip:
        ok = _finish(
            session, delivery_id, token, DeliveryStatus.failed, outcome.error, now, uncertain=True
        )
        return DeliveryStatus.failed if ok else None
    attempts = session.execute(
        select(Delivery.attempts).where(col(Delivery.id) == delivery_id)
    ).scalar_one()
    if attempts >= retry.max_attempts:
        extra = {"uncertain": True} if outcome.uncertain else {}
        ok = _finish(
            session, delivery_id, token, DeliveryStatus.failed, outcome.error, now, **extra
        )
        return DeliveryStatus.failed if ok else None
    ok = _retry_later(session, recipient, token, outcome, now, retry.delay(attempts))
    return DeliveryStatus.pending if ok else None


def _retry_later(
    session: Session,
    recipient: Recipient,
    token: str,
    outcome: Outcome,
    now: datetime,
    delay: float,
    *,
    count_attempt: bool = True,
) -> bool:
    values: dict[str, object] = {
        "status": DeliveryStatus.pending,
        "last_error": outcome.error[:200],
        "claim_token": None,
        "lease_until": None,
        "in_flight_at": None,
        "next_attempt_at": now + timedelta(seconds=delay),
        "updated_at": now,
    }
    if outcome.uncertain:
        values["uncertain"] = True
    if not count_attempt:  # flow control (429) is not a failed attempt
        values["attempts"] = col(Delivery.attempts) - 1
    changed = session.execute(
        update(Delivery)
        .where(_mine(recipient.delivery_id, token))
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    return bool(changed)


def sweep(session: Session, *, now: datetime) -> int:
    """Close what cancelled broadcasts left open: waiting rows, and rows whose worker died
    (in flight at the time: flagged uncertain). Returns how many rows changed."""
    not_running = select(Broadcast.id).where(col(Broadcast.status) != BroadcastStatus.running)
    changed = session.execute(
        update(Delivery)
        .where(
            col(Delivery.broadcast_id).in_(not_running),
            or_(
                col(Delivery.status) == DeliveryStatus.pending,
                and_(
                    col(Delivery.status) == DeliveryStatus.sending,
                    col(Delivery.lease_until) < now,
                ),
            ),
        )
        .values(
            uncertain=case(
                (col(Delivery.in_flight_at).is_not(None), True), else_=col(Delivery.uncertain)
            ),
            status=DeliveryStatus.cancelled,
            claim_token=None,
            lease_until=None,
            in_flight_at=None,
            next_attempt_at=None,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    return int(changed or 0)


def settle(
    session: Session,
    *,
    delivery_ids: list[int],
    token: str,
    status: DeliveryStatus,
    error: str,
    now: datetime,
) -> int:
    """Give claimed deliveries a final status without sending (e.g. no sender configured)."""
    return sum(
        1
        for delivery_id in delivery_ids
        if _finish(session, delivery_id, token, status, error, now)
    )
