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

from broadcast import ratelimit
from broadcast.models import (
    Broadcast,
    BroadcastStatus,
    Delivery,
    DeliveryStatus,
    Pacer,
    Subscription,
    WindowToken,
)
from broadcast.senders import Recipient
from channels.outcome import Outcome, Result
from conversations import repository as gateway_repo
from conversations.models import Conversation

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
            Conversation.language,
        )
        .outerjoin(Conversation, col(Conversation.conversation_id) == Delivery.conversation_id)
        .outerjoin(Subscription, col(Subscription.conversation_id) == Delivery.conversation_id)
        .where(col(Delivery.claim_token) == token, col(Delivery.status) == DeliveryStatus.sending)
        .order_by(col(Delivery.broadcast_id), col(Delivery.id))
    ).all()
    claimed: list[Claimed] = []
    for delivery, chat_key, consent_at, blocked_at, last_inbound_at, active, language in rows:
        settle: tuple[DeliveryStatus, str] | None = None
        if chat_key is None:
            settle = (DeliveryStatus.skipped, "unknown-conversation")
        elif consent_at is None:  # (withdrawing consent also stops the subscription)
            settle = (DeliveryStatus.skipped, "no-consent")
        elif not active:
            settle = (DeliveryStatus.skipped, "unsubscribed")
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
                    language=language or "it",
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
    go = "go"  # marked in flight: send at ``Mark.send_at``
    cancelled = "cancelled"  # the broadcast was cancelled: the delivery is now cancelled
    paused = "paused"  # the channel is paused (429): released until the pause ends
    released = "released"  # too little lease left: released for a fresh claim
    deferred = "deferred"  # the chat's gap or the channel's window: released until ``until``
    skipped = "skipped"  # unsubscribed, consent withdrawn or blocked a moment ago: skipped
    lost = "lost"  # not ours any more (cancelled or reclaimed): do nothing


@dataclass(frozen=True)
class Pacing:
    """What the shared pacing needs to know when a delivery is marked in flight."""

    per_chat_seconds: float = 1.0
    hold_seconds: float = 12.0  # longest a request may stay unanswered (timeout + margin)
    window_limit: int = 0  # requests per sliding window on this channel (0: no window)
    window_seconds: float = 1.0
    token_wait: float = 0.25  # wait this long past the slot for a window token, at most


@dataclass(frozen=True)
class Mark:
    go: Go
    until: float = 0.0  # paused / deferred: until when (epoch seconds)
    send_at: float = 0.0  # go: when the request may leave (epoch seconds)
    window_token: int | None = None  # go: the window token held (see ratelimit.take_token)
    token_found_free_at: float = 0.0  # go: the token's free_at before it was taken
    token_hold: float = 0.0  # go: the token's and the chat's holds (a dead worker's expire)
    chat_hold: float = 0.0


def mark_in_flight(
    session: Session,
    *,
    delivery_id: int,
    token: str,
    channel: str,
    conversation_id: str,
    now: datetime,
    epoch: float,
    send_at: float,
    min_lease_until: datetime,
    pacing: Pacing,
) -> Mark:
    """The last check before the request, in one transaction: still ours, broadcast still
    running, channel not paused, lease long enough; then (shared by every worker) the chat is
    held if its subscription is active, its consent on record and its previous answer at
    least the per-chat gap old, and a window token is taken. ``send_at`` is the planned time
    of the request (its pacer slot)."""
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
    if not marked:
        return _not_marked(session, delivery_id, token, channel, now, epoch)
    token_hold = send_at + pacing.hold_seconds + pacing.window_seconds
    chat_hold = send_at + pacing.hold_seconds + pacing.per_chat_seconds
    window: tuple[int, float] | None = None
    if pacing.window_limit > 0:
        window = ratelimit.take_token(
            session,
            channel=channel,
            limit=pacing.window_limit,
            send_at=send_at,
            hold_until=token_hold,
            wait=pacing.token_wait,
        )
        if window is None:
            free = ratelimit.next_free_token(session, channel=channel, limit=pacing.window_limit)
            unmark(session, delivery_id=delivery_id, token=token, now=now, delay=free - epoch)
            return Mark(Go.deferred, until=free)
    leaves_at = max(send_at, window[1]) if window is not None else send_at
    if not ratelimit.hold_chat(
        session,
        conversation_id=conversation_id,
        send_at=leaves_at,
        hold_until=chat_hold,
    ):
        if window is not None:  # not used after all: exactly as it was
            ratelimit.give_back_token(session, channel=channel, token=window[0], free_at=window[1])
        reason = _not_sendable(session, conversation_id)
        if reason is not None:
            _finish(
                session,
                delivery_id,
                token,
                reason[0],
                reason[1],
                now,
                attempts=col(Delivery.attempts) - 1,
            )
            return Mark(Go.skipped)
        free = ratelimit.chat_free_at(session, conversation_id=conversation_id)
        unmark(session, delivery_id=delivery_id, token=token, now=now, delay=free - epoch)
        return Mark(Go.deferred, until=free)
    return Mark(
        Go.go,
        send_at=leaves_at,
        window_token=window[0] if window is not None else None,
        token_found_free_at=window[1] if window is not None else 0.0,
        token_hold=token_hold,
        chat_hold=chat_hold,
    )


def _not_sendable(session: Session, conversation_id: str) -> tuple[DeliveryStatus, str] | None:
    """Why a conversation may not get an announcement now (None: it may, the gap was short)."""
    row = session.execute(
        select(Subscription.active, Conversation.consent_at, Conversation.blocked_at)
        .select_from(Subscription)
        .outerjoin(Conversation, col(Conversation.conversation_id) == Subscription.conversation_id)
        .where(col(Subscription.conversation_id) == conversation_id)
    ).first()
    if row is not None and row[1] is None:
        return DeliveryStatus.skipped, "no-consent"
    if row is None or not row[0]:
        return DeliveryStatus.skipped, "unsubscribed"
    if row[2] is not None:
        return DeliveryStatus.blocked, "blocked"
    return None


def _not_marked(
    session: Session, delivery_id: int, token: str, channel: str, now: datetime, epoch: float
) -> Mark:
    row = session.execute(
        select(Delivery.status, Delivery.claim_token, Broadcast.status)
        .join(Broadcast, col(Broadcast.id) == Delivery.broadcast_id)
        .where(col(Delivery.id) == delivery_id)
    ).first()
    if row is None or row[0] != DeliveryStatus.sending or row[1] != token:
        return Mark(Go.lost)
    if row[2] != BroadcastStatus.running:
        _finish(session, delivery_id, token, DeliveryStatus.cancelled, "", now)
        return Mark(Go.cancelled)
    until = ratelimit.paused_until(session, channel=channel)
    if until > epoch:
        release(
            session,
            delivery_ids=[delivery_id],
            token=token,
            now=now,
            next_attempt_at=now + timedelta(seconds=until - epoch),
        )
        return Mark(Go.paused, until=until)
    release(session, delivery_ids=[delivery_id], token=token, now=now, next_attempt_at=now)
    return Mark(Go.released)


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


def unmark(
    session: Session,
    *,
    delivery_id: int,
    token: str,
    now: datetime,
    delay: float,
    channel: str | None = None,
    conversation_id: str | None = None,
    mark: Mark | None = None,
) -> bool:
    """Give back a delivery marked in flight whose request was not made after all (the
    channel was paused meanwhile, or the worker is stopping), and, with ``mark``, the window
    token and the chat it held."""
    changed = session.execute(
        update(Delivery)
        .where(_mine(delivery_id, token), col(Delivery.in_flight_at).is_not(None))
        .values(
            status=DeliveryStatus.pending,
            claim_token=None,
            lease_until=None,
            in_flight_at=None,
            attempts=col(Delivery.attempts) - 1,
            next_attempt_at=now + timedelta(seconds=max(0.0, delay)),
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    if mark is not None and mark.go == Go.go and channel and conversation_id:
        _release_holds(
            session,
            channel=channel,
            conversation_id=conversation_id,
            mark=mark,
            token_free_at=mark.token_found_free_at,
            chat_free_at=mark.send_at,  # at least what it was: the gap is never shortened
        )
    return bool(changed)


def _release_holds(
    session: Session,
    *,
    channel: str,
    conversation_id: str,
    mark: Mark,
    token_free_at: float,
    chat_free_at: float,
) -> None:
    """Give back the window token and the chat held by ``mark`` (unless a hold expired and
    another worker holds them now: then they are left alone)."""
    if mark.window_token is not None:
        session.execute(
            update(WindowToken)
            .where(
                col(WindowToken.channel) == channel,
                col(WindowToken.token) == mark.window_token,
                col(WindowToken.free_at) == mark.token_hold,
            )
            .values(free_at=token_free_at)
            .execution_options(synchronize_session=False)
        )
    session.execute(
        update(Subscription)
        .where(
            col(Subscription.conversation_id) == conversation_id,
            col(Subscription.next_send_at) == mark.chat_hold,
        )
        .values(next_send_at=chat_free_at)
        .execution_options(synchronize_session=False)
    )


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
    mark: Mark | None = None,
    pacing: Pacing | None = None,
) -> DeliveryStatus | None:
    """Store what the channel answered (``epoch``: when the answer came); returns the
    delivery's new status (None: not ours). The delivery's row is written first; in the same
    transaction the window token and the chat held by ``mark`` are given back, counted from
    the answer (a window and the per-chat gap later)."""
    status = _record_outcome(
        session,
        recipient=recipient,
        token=token,
        outcome=outcome,
        now=now,
        epoch=epoch,
        retry=retry,
    )
    if mark is not None and mark.go == Go.go:
        pacing = pacing or Pacing()
        _release_holds(
            session,
            channel=recipient.channel,
            conversation_id=recipient.conversation_id,
            mark=mark,
            token_free_at=epoch + pacing.window_seconds,
            chat_free_at=epoch + pacing.per_chat_seconds,
        )
    return status


def _record_outcome(
    session: Session,
    *,
    recipient: Recipient,
    token: str,
    outcome: Outcome,
    now: datetime,
    epoch: float,
    retry: RetryPolicy,
) -> DeliveryStatus | None:
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
        if ok and outcome.file_id:  # the picture uploaded with this request: reuse it
            column = (
                Broadcast.whatsapp_media_id
                if recipient.channel == "whatsapp"
                else Broadcast.telegram_file_id
            )
            session.execute(
                update(Broadcast)
                .where(col(Broadcast.id) == recipient.broadcast_id, col(column).is_(None))
                .values({column: outcome.file_id[:200]})
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
    if outcome.result in (Result.permanent, Result.window_closed):
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
