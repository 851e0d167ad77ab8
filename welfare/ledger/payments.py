"""Every write to the ledger: holds, captures, releases, credits, reimbursements, expiry.

Each function is one *operation* with an ``idempotency_key`` chosen by the caller (e.g.
``f"book:{conversation_id}:{button_payload}"``): running it again with the same key, one
after the other or racing, writes nothing more and returns the first result, with
``Receipt.replayed`` set. The same key with a different request raises
``IdempotencyConflict``.

The functions flush but do not commit: the caller's transaction (``session_scope``) commits
and so releases the account locks taken here; commit promptly. A refusal raises a
``LedgerError`` (``InsufficientFunds``, ``AccountExpired``, ...) and writes nothing.
See ``welfare.ledger.models`` for the sign convention and ``welfare.ledger.locking`` for
how concurrent writers are serialised.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from welfare.ledger.accounts import account_totals
from welfare.ledger.codes import random_code
from welfare.ledger.errors import (
    AccountExpired,
    CategoryNotAllowed,
    HoldClosed,
    IdempotencyConflict,
    InsufficientFunds,
    LimitExceeded,
    NothingToHold,
    UnknownAccount,
    UnknownHold,
)
from welfare.ledger.locking import LockedAccount, lock_accounts
from welfare.ledger.models import BudgetAccount, EntryKind, LedgerEntry
from welfare.ledger.plans import PaymentPlan, choose_sources

__all__ = [
    "Posting",
    "Receipt",
    "adjust",
    "capture_hold",
    "choose_sources",
    "credit",
    "expire_accounts",
    "place_hold",
    "reimburse",
    "release_hold",
]

log = logging.getLogger(__name__)

MAX_KEY_LENGTH = 120


@dataclass(frozen=True)
class Posting:
    """One entry written by an operation."""

    account_id: int
    kind: EntryKind
    amount_cents: int
    held_cents: int


@dataclass(frozen=True)
class Receipt:
    """The result of an operation (the same on a replay, with ``replayed=True``)."""

    idempotency_key: str
    kind: EntryKind
    hold_ref: str | None
    postings: tuple[Posting, ...]
    replayed: bool

    @property
    def amount_cents(self) -> int:
        """Total effect on the balances (negative for money spent)."""
        return sum(p.amount_cents for p in self.postings)

    @property
    def held_cents(self) -> int:
        """Total effect on the held money (positive for a hold placed)."""
        return sum(p.held_cents for p in self.postings)

    @property
    def captured_cents(self) -> int:
        return -sum(p.amount_cents for p in self.postings if p.kind == EntryKind.capture)


# --- the operation runner ----------------------------------------------------------------

Builder = Callable[[dict[int, LockedAccount]], list[LedgerEntry]]


def _entries_of(session: Session, key: str) -> list[LedgerEntry]:
    return list(
        session.exec(
            select(LedgerEntry)
            .where(LedgerEntry.idempotency_key == key)
            .order_by(col(LedgerEntry.seq))
        ).all()
    )


def _receipt(key: str, entries: Sequence[LedgerEntry], *, replayed: bool) -> Receipt:
    return Receipt(
        idempotency_key=key,
        kind=EntryKind(entries[0].kind),
        hold_ref=entries[0].hold_ref,
        postings=tuple(
            Posting(
                account_id=e.account_id,
                kind=EntryKind(e.kind),
                amount_cents=e.amount_cents,
                held_cents=e.held_cents,
            )
            for e in entries
        ),
        replayed=replayed,
    )


def _check_same(
    key: str,
    entries: Sequence[LedgerEntry],
    *,
    kind: EntryKind,
    hold_ref: str | None = None,
    parts: Sequence[tuple[int, int, int]] | None = None,
) -> None:
    """A replay must be the same request: same kind, hold and (account, amount, held)."""
    first = entries[0]
    same = first.kind == kind and (hold_ref is None or first.hold_ref == hold_ref)
    if same and parts is not None:
        written = [(e.account_id, e.amount_cents, e.held_cents) for e in entries if e.kind == kind]
        same = written == list(parts)
    if not same:
        raise IdempotencyConflict(f"idempotency key {key!r} was used for another operation")


def _insert(session: Session, entries: Sequence[LedgerEntry]) -> int:
    """Insert the entries in one statement, skipping any whose (key, seq) exists already
    (on PostgreSQL after waiting for a twin transaction that holds the key). Returns how
    many were inserted."""
    dialect = session.connection().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    rows = [e.model_dump(exclude={"id"}) for e in entries]
    statement = (
        insert(LedgerEntry.__table__)  # type: ignore[arg-type]
        .values(rows)
        .on_conflict_do_nothing(index_elements=["idempotency_key", "seq"])
        .returning(LedgerEntry.__table__.c.seq)  # type: ignore[attr-defined]
    )
    return len(session.connection().execute(statement).all())


def _run(
    session: Session,
    *,
    key: str,
    kind: EntryKind,
    account_ids: Sequence[int],
    build: Builder,
    hold_ref: str | None = None,
    parts: Sequence[tuple[int, int, int]] | None = None,
) -> Receipt | None:
    """Run one operation: lock its accounts, replay it if its key exists, else build and
    write it. Returns None when ``build`` decided there was nothing to write."""
    if not key or len(key) > MAX_KEY_LENGTH:
        raise ValueError(f"idempotency_key must be 1..{MAX_KEY_LENGTH} characters")
    accounts = lock_accounts(session, account_ids)
    # after the locks: a twin request on the same accounts has committed by now, if any
    existing = _entries_of(session, key)
    if not existing:
        entries = build(accounts)
        if not entries:
            return None
        for seq, entry in enumerate(entries, start=1):
            entry.idempotency_key = key
            entry.seq = seq
        written = _insert(session, entries)
        if written == len(entries):
            log.info("ledger %s: %d entries, hold %s", kind.value, written, entries[0].hold_ref)
            return _receipt(key, entries, replayed=False)
        if written:  # only part of it: the key was used by something else; roll back
            raise IdempotencyConflict(f"idempotency key {key!r} was used for another operation")
        # the same key raced in under other locks: take its result
        existing = _entries_of(session, key)
    _check_same(key, existing, kind=kind, hold_ref=hold_ref, parts=parts)
    return _receipt(key, existing, replayed=True)


def _entry(
    account_id: int,
    kind: EntryKind,
    *,
    amount: int = 0,
    held: int = 0,
    caused_by: str,
    now: datetime,
    memo: str = "",
    hold_ref: str | None = None,
    service_code: str | None = None,
) -> LedgerEntry:
    return LedgerEntry(
        account_id=account_id,
        kind=kind,
        amount_cents=amount,
        held_cents=held,
        hold_ref=hold_ref,
        idempotency_key="",  # set by _run
        caused_by=caused_by[:80],
        memo=memo[:200],
        service_code=service_code,
        created_at=now,
    )


def _expire_rest(
    account: BudgetAccount,
    before: tuple[int, int],
    entries: list[LedgerEntry],
    *,
    now: datetime,
    caused_by: str,
) -> None:
    """On an expired account, money freed by a capture/release expires at once."""
    if not account.is_expired(now):
        return
    assert account.id is not None
    mine = [e for e in entries if e.account_id == account.id]
    balance = before[0] + sum(e.amount_cents for e in mine)
    held = before[1] + sum(e.held_cents for e in mine)
    if balance - held > 0:
        entries.append(
            _entry(
                account.id,
                EntryKind.expiry,
                amount=-(balance - held),
                caused_by=caused_by,
                now=now,
                memo="Scadenza del budget",
            )
        )


# --- spending through a plan -------------------------------------------------------------


def _check_plan_parts(
    session: Session,
    plan: PaymentPlan,
    accounts: dict[int, LockedAccount],
    now: datetime,
) -> None:
    """Everything choose_sources promised must still hold, now, under the locks."""
    totals = account_totals(session, accounts)
    for part in plan.parts:
        account, source = accounts[part.account_id]
        if account.citizen_id != plan.citizen_id:
            raise UnknownAccount(f"account {part.account_id} is not the citizen's")
        if account.is_expired(now):
            raise AccountExpired(f"account {part.account_id} expired")
        if not source.allows(plan.category):
            raise CategoryNotAllowed(f"account {part.account_id}: category {plan.category}")
        if source.max_per_service_cents is not None and (
            part.amount_cents > source.max_per_service_cents
        ):
            raise LimitExceeded(f"account {part.account_id}: over max per service")
        balance, held = totals[part.account_id]
        if balance - held < part.amount_cents:
            raise InsufficientFunds(
                account_id=part.account_id,
                available_cents=balance - held,
                requested_cents=part.amount_cents,
            )


def _validate_plan(plan: PaymentPlan) -> None:
    if not plan.parts:
        raise NothingToHold("the plan covers nothing")
    ids = [p.account_id for p in plan.parts]
    if len(set(ids)) != len(ids):
        raise ValueError("a plan names each account once")
    if any(p.amount_cents <= 0 for p in plan.parts):
        raise ValueError("plan parts must be positive")


def place_hold(
    session: Session,
    *,
    plan: PaymentPlan,
    idempotency_key: str,
    caused_by: str,
    now: datetime,
    service_code: str | None = None,
    memo: str = "",
) -> Receipt:
    """Set aside the covered part of ``plan`` (all parts or none). ``Receipt.hold_ref``
    names the hold for ``capture_hold`` (voucher redeemed) or ``release_hold`` (cancelled)."""
    _validate_plan(plan)
    hold_ref = f"H-{random_code(12)}"

    def build(accounts: dict[int, LockedAccount]) -> list[LedgerEntry]:
        _check_plan_parts(session, plan, accounts, now)
        return [
            _entry(
                part.account_id,
                EntryKind.hold,
                held=part.amount_cents,
                hold_ref=hold_ref,
                caused_by=caused_by,
                now=now,
                memo=memo,
                service_code=service_code,
            )
            for part in plan.parts
        ]

    receipt = _run(
        session,
        key=idempotency_key,
        kind=EntryKind.hold,
        account_ids=[p.account_id for p in plan.parts],
        build=build,
        parts=[(p.account_id, 0, p.amount_cents) for p in plan.parts],
    )
    assert receipt is not None
    return receipt


def reimburse(
    session: Session,
    *,
    plan: PaymentPlan,
    idempotency_key: str,
    caused_by: str,
    now: datetime,
    memo: str = "",
    service_code: str | None = None,
) -> Receipt:
    """Pay back the covered part of ``plan`` for a receipt the citizen already paid
    (build the plan with ``choose_sources`` for the approved amount)."""
    _validate_plan(plan)

    def build(accounts: dict[int, LockedAccount]) -> list[LedgerEntry]:
        _check_plan_parts(session, plan, accounts, now)
        return [
            _entry(
                part.account_id,
                EntryKind.reimbursement,
                amount=-part.amount_cents,
                caused_by=caused_by,
                now=now,
                memo=memo,
                service_code=service_code,
            )
            for part in plan.parts
        ]

    receipt = _run(
        session,
        key=idempotency_key,
        kind=EntryKind.reimbursement,
        account_ids=[p.account_id for p in plan.parts],
        build=build,
        parts=[(p.account_id, -p.amount_cents, 0) for p in plan.parts],
    )
    assert receipt is not None
    return receipt


# --- closing holds -----------------------------------------------------------------------


def _hold_parts(session: Session, hold_ref: str) -> list[LedgerEntry]:
    parts = list(
        session.exec(
            select(LedgerEntry)
            .where(LedgerEntry.hold_ref == hold_ref, LedgerEntry.kind == EntryKind.hold)
            .order_by(col(LedgerEntry.seq))
        ).all()
    )
    if not parts:
        raise UnknownHold(f"no hold {hold_ref!r}")
    return parts


def _close_hold(
    session: Session,
    *,
    parts: list[LedgerEntry],
    hold_ref: str,
    kind: EntryKind,
    capture_cents: int,
    idempotency_key: str,
    caused_by: str,
    now: datetime,
    memo: str,
) -> Receipt:
    total_held = sum(p.held_cents for p in parts)
    if not 0 <= capture_cents <= total_held:
        raise ValueError(f"capture of {capture_cents} on a hold of {total_held}")

    def build(accounts: dict[int, LockedAccount]) -> list[LedgerEntry]:
        closed = session.exec(
            select(func.count())
            .select_from(LedgerEntry)
            .where(
                LedgerEntry.hold_ref == hold_ref,
                col(LedgerEntry.kind).in_([EntryKind.capture, EntryKind.release]),
            )
        ).one()
        if closed:
            raise HoldClosed(f"hold {hold_ref!r} is already closed")
        totals = account_totals(session, accounts)
        entries: list[LedgerEntry] = []
        remaining = capture_cents
        for part in parts:  # the first source of the plan pays first
            take = min(remaining, part.held_cents)
            remaining -= take
            entries.append(
                _entry(
                    part.account_id,
                    EntryKind.capture if take else EntryKind.release,
                    amount=-take,
                    held=-part.held_cents,
                    hold_ref=hold_ref,
                    caused_by=caused_by,
                    now=now,
                    memo=memo,
                    service_code=part.service_code,
                )
            )
        for account_id, locked in accounts.items():
            _expire_rest(locked.account, totals[account_id], entries, now=now, caused_by=caused_by)
        return entries

    receipt = _run(
        session,
        key=idempotency_key,
        kind=kind,
        account_ids=[p.account_id for p in parts],
        build=build,
        hold_ref=hold_ref,
    )
    assert receipt is not None
    return receipt


def capture_hold(
    session: Session,
    *,
    hold_ref: str,
    idempotency_key: str,
    caused_by: str,
    now: datetime,
    amount_cents: int | None = None,
    memo: str = "",
) -> Receipt:
    """The provider redeemed the voucher: spend the hold (all of it, or ``amount_cents`` of
    it, the rest freed). Allowed after the account's expiry: the money was committed before."""
    parts = _hold_parts(session, hold_ref)
    amount = sum(p.held_cents for p in parts) if amount_cents is None else amount_cents
    if amount <= 0:
        raise ValueError("capture a positive amount, or release the hold")
    return _close_hold(
        session,
        parts=parts,
        hold_ref=hold_ref,
        kind=EntryKind.capture,
        capture_cents=amount,
        idempotency_key=idempotency_key,
        caused_by=caused_by,
        now=now,
        memo=memo,
    )


def release_hold(
    session: Session,
    *,
    hold_ref: str,
    idempotency_key: str,
    caused_by: str,
    now: datetime,
    memo: str = "",
) -> Receipt:
    """The booking was cancelled before redemption: the held money is available again
    (or expires at once if its account has expired meanwhile)."""
    return _close_hold(
        session,
        parts=_hold_parts(session, hold_ref),
        hold_ref=hold_ref,
        kind=EntryKind.release,
        capture_cents=0,
        idempotency_key=idempotency_key,
        caused_by=caused_by,
        now=now,
        memo=memo,
    )


# --- money in, corrections, expiry -------------------------------------------------------


def credit(
    session: Session,
    *,
    account_id: int,
    amount_cents: int,
    idempotency_key: str,
    caused_by: str,
    now: datetime,
    memo: str = "",
) -> Receipt:
    """Assign money to an account (refused once it has expired)."""
    if amount_cents <= 0:
        raise ValueError("a credit is positive")

    def build(accounts: dict[int, LockedAccount]) -> list[LedgerEntry]:
        if accounts[account_id].account.is_expired(now):
            raise AccountExpired(f"account {account_id} expired")
        return [
            _entry(
                account_id,
                EntryKind.credit,
                amount=amount_cents,
                caused_by=caused_by,
                now=now,
                memo=memo,
            )
        ]

    receipt = _run(
        session,
        key=idempotency_key,
        kind=EntryKind.credit,
        account_ids=[account_id],
        build=build,
        parts=[(account_id, amount_cents, 0)],
    )
    assert receipt is not None
    return receipt


def adjust(
    session: Session,
    *,
    account_id: int,
    amount_cents: int,
    idempotency_key: str,
    caused_by: str,
    now: datetime,
    memo: str,
) -> Receipt:
    """A staff correction, positive or negative (never below zero; no increase after expiry)."""
    if amount_cents == 0:
        raise ValueError("an adjustment is not zero")
    if not memo:
        raise ValueError("say why in the memo")

    def build(accounts: dict[int, LockedAccount]) -> list[LedgerEntry]:
        if amount_cents > 0 and accounts[account_id].account.is_expired(now):
            raise AccountExpired(f"account {account_id} expired")
        balance, held = account_totals(session, [account_id])[account_id]
        if balance - held + amount_cents < 0:
            raise InsufficientFunds(
                account_id=account_id,
                available_cents=balance - held,
                requested_cents=-amount_cents,
            )
        return [
            _entry(
                account_id,
                EntryKind.adjustment,
                amount=amount_cents,
                caused_by=caused_by,
                now=now,
                memo=memo,
            )
        ]

    receipt = _run(
        session,
        key=idempotency_key,
        kind=EntryKind.adjustment,
        account_ids=[account_id],
        build=build,
        parts=[(account_id, amount_cents, 0)],
    )
    assert receipt is not None
    return receipt


def expire_accounts(
    session: Session, *, now: datetime, caused_by: str = "system:expiry"
) -> list[Receipt]:
    """Write an expiry entry zeroing what is still available on every account expired by
    ``now`` (open holds stay, to be captured or released). Idempotent: running it again
    writes nothing. Returns the operations written."""
    expired_ids = session.exec(
        select(BudgetAccount.id)
        .join(LedgerEntry, col(LedgerEntry.account_id) == col(BudgetAccount.id))
        .where(col(BudgetAccount.expires_at) <= now)
        .group_by(col(BudgetAccount.id))
        .having(func.sum(LedgerEntry.amount_cents) - func.sum(LedgerEntry.held_cents) > 0)
        .order_by(col(BudgetAccount.id))
    ).all()
    receipts = []
    for account_id in expired_ids:
        assert account_id is not None

        def build(accounts: dict[int, LockedAccount], account_id: int = account_id) -> list:
            balance, held = account_totals(session, [account_id])[account_id]
            if balance - held <= 0:
                return []
            return [
                _entry(
                    account_id,
                    EntryKind.expiry,
                    amount=-(balance - held),
                    caused_by=caused_by,
                    now=now,
                    memo="Scadenza del budget",
                )
            ]

        receipt = _run(
            session,
            key=f"expiry:{account_id}",
            kind=EntryKind.expiry,
            account_ids=[account_id],
            build=build,
        )
        if receipt is not None and not receipt.replayed:
            receipts.append(receipt)
    return receipts
