"""Holds, captures, releases, credits, reimbursements and expiry: arithmetic and refusals."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import func, text
from sqlalchemy.exc import DatabaseError
from sqlmodel import Session, select

from welfare.ledger.accounts import account_totals, balances
from welfare.ledger.errors import (
    AccountExpired,
    CategoryNotAllowed,
    HoldClosed,
    IdempotencyConflict,
    InsufficientFunds,
    LimitExceeded,
    NothingToHold,
    UnknownHold,
)
from welfare.ledger.models import AppendOnlyError, EntryKind, LedgerEntry
from welfare.ledger.payments import (
    adjust,
    capture_hold,
    choose_sources,
    credit,
    expire_accounts,
    place_hold,
    reimburse,
    release_hold,
)
from welfare.ledger.plans import PaymentPlan

from .conftest import NOW, Budget, make_budget


def _by_account(session: Session, budget: Budget) -> dict[int, tuple[int, int, int]]:
    """account id -> (balance, held, available)."""
    return {
        b.account_id: (b.balance_cents, b.held_cents, b.available_cents)
        for b in balances(session, citizen_id=budget.citizen_id, now=NOW, include_expired=True)
    }


def _plan(session: Session, budget: Budget, cents: int, category: str = "childcare") -> PaymentPlan:
    return choose_sources(
        session, citizen_id=budget.citizen_id, category=category, amount_cents=cents, now=NOW
    )


def _entries(session: Session) -> int:
    return session.exec(select(func.count()).select_from(LedgerEntry)).one()


def test_hold_reduces_available_not_balance_until_captured(session: Session, budget: Budget):
    receipt = place_hold(
        session, plan=_plan(session, budget, 3_000), idempotency_key="h1", caused_by="t", now=NOW
    )
    assert receipt.kind == EntryKind.hold and receipt.held_cents == 3_000
    assert receipt.amount_cents == 0
    assert _by_account(session, budget)[budget.public_id] == (10_000, 3_000, 7_000)

    capture_hold(session, hold_ref=receipt.hold_ref, idempotency_key="c1", caused_by="p", now=NOW)
    assert _by_account(session, budget)[budget.public_id] == (7_000, 0, 7_000)


def test_release_frees_the_hold(session: Session, budget: Budget):
    hold = place_hold(
        session, plan=_plan(session, budget, 2_500), idempotency_key="h", caused_by="t", now=NOW
    )
    release = release_hold(
        session, hold_ref=hold.hold_ref, idempotency_key="r", caused_by="citizen", now=NOW
    )
    assert release.kind == EntryKind.release and release.amount_cents == 0
    assert _by_account(session, budget)[budget.public_id] == (10_000, 0, 10_000)


def test_partial_capture_spends_part_and_frees_the_rest(session: Session, budget: Budget):
    hold = place_hold(
        session, plan=_plan(session, budget, 4_000), idempotency_key="h", caused_by="t", now=NOW
    )
    receipt = capture_hold(
        session,
        hold_ref=hold.hold_ref,
        idempotency_key="c",
        caused_by="p",
        now=NOW,
        amount_cents=2_500,
    )
    assert receipt.captured_cents == 2_500
    assert _by_account(session, budget)[budget.public_id] == (7_500, 0, 7_500)
    with pytest.raises(ValueError):
        capture_hold(
            session,
            hold_ref=hold.hold_ref,
            idempotency_key="c2",
            caused_by="p",
            now=NOW,
            amount_cents=0,
        )


def test_split_hold_over_two_sources_is_captured_first_source_first(
    session: Session, budget: Budget
):
    plan = _plan(session, budget, 12_000)  # public 10 000 (expires first) + employer 2 000
    assert [(p.account_id, p.amount_cents) for p in plan.parts] == [
        (budget.public_id, 10_000),
        (budget.employer_id, 2_000),
    ]
    hold = place_hold(session, plan=plan, idempotency_key="h", caused_by="t", now=NOW)
    assert len(hold.postings) == 2
    capture_hold(
        session,
        hold_ref=hold.hold_ref,
        idempotency_key="c",
        caused_by="p",
        now=NOW,
        amount_cents=11_000,
    )
    totals = _by_account(session, budget)
    assert totals[budget.public_id] == (0, 0, 0)
    assert totals[budget.employer_id] == (4_000, 0, 4_000)


def test_balance_is_the_sum_of_entries_and_available_is_balance_minus_held(
    session: Session, budget: Budget
):
    h1 = place_hold(
        session, plan=_plan(session, budget, 1_000), idempotency_key="a", caused_by="t", now=NOW
    )
    place_hold(
        session, plan=_plan(session, budget, 2_000), idempotency_key="b", caused_by="t", now=NOW
    )
    capture_hold(session, hold_ref=h1.hold_ref, idempotency_key="c", caused_by="p", now=NOW)
    reimburse(
        session, plan=_plan(session, budget, 500), idempotency_key="r", caused_by="w", now=NOW
    )
    adjust(
        session,
        account_id=budget.public_id,
        amount_cents=-300,
        idempotency_key="adj",
        caused_by="staff:x",
        now=NOW,
        memo="correzione",
    )
    rows = session.exec(
        select(LedgerEntry.amount_cents, LedgerEntry.held_cents).where(
            LedgerEntry.account_id == budget.public_id
        )
    ).all()
    balance, held = sum(r[0] for r in rows), sum(r[1] for r in rows)
    assert (balance, held) == (10_000 - 1_000 - 500 - 300, 2_000)
    assert _by_account(session, budget)[budget.public_id] == (balance, held, balance - held)
    assert account_totals(session, [budget.public_id])[budget.public_id] == (balance, held)


def test_nothing_goes_below_zero(session: Session, budget: Budget):
    plan = _plan(session, budget, 10_000)
    place_hold(session, plan=plan, idempotency_key="all", caused_by="t", now=NOW)
    with pytest.raises(InsufficientFunds) as refused:
        place_hold(session, plan=plan, idempotency_key="again", caused_by="t", now=NOW)
    assert refused.value.available_cents == 0 and refused.value.requested_cents == 10_000
    with pytest.raises(InsufficientFunds):
        adjust(
            session,
            account_id=budget.public_id,
            amount_cents=-1,
            idempotency_key="adj",
            caused_by="staff:x",
            now=NOW,
            memo="troppo",
        )
    with pytest.raises(NothingToHold):
        place_hold(
            session,
            plan=PaymentPlan(
                citizen_id=budget.citizen_id, category="childcare", amount_cents=1, parts=()
            ),
            idempotency_key="empty",
            caused_by="t",
            now=NOW,
        )


def test_a_stale_plan_is_checked_again(session: Session):
    budget = make_budget(session, public_max=5_000)
    plan = _plan(session, budget, 5_000)
    # a plan cannot be stretched past the source's rules
    big = PaymentPlan(
        citizen_id=plan.citizen_id,
        category="childcare",
        amount_cents=6_000,
        parts=(replace(plan.parts[0], amount_cents=6_000),),
    )
    with pytest.raises(LimitExceeded):
        place_hold(session, plan=big, idempotency_key="big", caused_by="t", now=NOW)
    wrong_category = PaymentPlan(
        citizen_id=plan.citizen_id, category="health", amount_cents=5_000, parts=plan.parts
    )
    with pytest.raises(CategoryNotAllowed):
        place_hold(session, plan=wrong_category, idempotency_key="cat", caused_by="t", now=NOW)
    with pytest.raises(AccountExpired):
        place_hold(
            session,
            plan=plan,
            idempotency_key="late",
            caused_by="t",
            now=NOW + timedelta(days=31),
        )
    assert _entries(session) == 2  # the two seed credits only


def test_same_key_twice_writes_once_and_returns_the_first_result(session: Session, budget: Budget):
    plan = _plan(session, budget, 1_500)
    first = place_hold(session, plan=plan, idempotency_key="tap", caused_by="t", now=NOW)
    session.commit()
    again = place_hold(session, plan=plan, idempotency_key="tap", caused_by="t", now=NOW)
    assert again.replayed and not first.replayed
    assert again.hold_ref == first.hold_ref and again.postings == first.postings
    c1 = capture_hold(
        session, hold_ref=first.hold_ref, idempotency_key="cap", caused_by="p", now=NOW
    )
    c2 = capture_hold(
        session, hold_ref=first.hold_ref, idempotency_key="cap", caused_by="p", now=NOW
    )
    assert c2.replayed and c2.postings == c1.postings
    r1 = credit(
        session,
        account_id=budget.employer_id,
        amount_cents=700,
        idempotency_key="cr",
        caused_by="hr",
        now=NOW,
    )
    r2 = credit(
        session,
        account_id=budget.employer_id,
        amount_cents=700,
        idempotency_key="cr",
        caused_by="hr",
        now=NOW,
    )
    assert r2.replayed and r1.postings == r2.postings
    session.commit()
    assert _entries(session) == 2 + 1 + 1 + 1
    assert _by_account(session, budget)[budget.public_id] == (8_500, 0, 8_500)


def test_same_key_for_a_different_request_is_refused(session: Session, budget: Budget):
    credit(
        session,
        account_id=budget.public_id,
        amount_cents=100,
        idempotency_key="k",
        caused_by="t",
        now=NOW,
    )
    with pytest.raises(IdempotencyConflict):
        credit(
            session,
            account_id=budget.public_id,
            amount_cents=999,
            idempotency_key="k",
            caused_by="t",
            now=NOW,
        )
    with pytest.raises(IdempotencyConflict):
        place_hold(
            session,
            plan=_plan(session, budget, 100),
            idempotency_key="k",
            caused_by="t",
            now=NOW,
        )


def test_a_hold_closes_once(session: Session, budget: Budget):
    hold = place_hold(
        session, plan=_plan(session, budget, 1_000), idempotency_key="h", caused_by="t", now=NOW
    )
    release_hold(session, hold_ref=hold.hold_ref, idempotency_key="r", caused_by="c", now=NOW)
    with pytest.raises(HoldClosed):
        capture_hold(session, hold_ref=hold.hold_ref, idempotency_key="c", caused_by="p", now=NOW)
    with pytest.raises(UnknownHold):
        release_hold(session, hold_ref="H-NOPE", idempotency_key="x", caused_by="c", now=NOW)


def test_expiry_zeroes_the_rest_once_and_blocks_spending(session: Session, budget: Budget):
    hold = place_hold(
        session, plan=_plan(session, budget, 2_000), idempotency_key="h", caused_by="t", now=NOW
    )
    later = NOW + timedelta(days=31)  # the public budget expired, the employer one not
    assert _plan(session, budget, 100).parts[0].account_id == budget.public_id
    written = expire_accounts(session, now=later)
    assert [r.postings[0].account_id for r in written] == [budget.public_id]
    assert written[0].amount_cents == -8_000  # what was available; the hold stays
    assert expire_accounts(session, now=later) == []
    session.commit()

    shown = {b.account_id: b for b in balances(session, citizen_id=budget.citizen_id, now=later)}
    assert budget.public_id not in shown  # expired budgets are hidden by default
    plan = choose_sources(
        session, citizen_id=budget.citizen_id, category="childcare", amount_cents=100, now=later
    )
    assert [p.account_id for p in plan.parts] == [budget.employer_id]
    with pytest.raises(AccountExpired):
        credit(
            session,
            account_id=budget.public_id,
            amount_cents=1,
            idempotency_key="late",
            caused_by="t",
            now=later,
        )

    # the voucher issued before expiry can still be redeemed, partly: the rest expires too
    capture_hold(
        session,
        hold_ref=hold.hold_ref,
        idempotency_key="c",
        caused_by="p",
        now=later,
        amount_cents=1_500,
    )
    assert _by_account(session, budget)[budget.public_id] == (0, 0, 0)
    assert expire_accounts(session, now=later + timedelta(days=1)) == []


def test_released_hold_on_an_expired_account_expires_at_once(session: Session, budget: Budget):
    hold = place_hold(
        session, plan=_plan(session, budget, 2_000), idempotency_key="h", caused_by="t", now=NOW
    )
    later = NOW + timedelta(days=40)
    receipt = release_hold(
        session, hold_ref=hold.hold_ref, idempotency_key="r", caused_by="c", now=later
    )
    assert [p.kind for p in receipt.postings] == [EntryKind.release, EntryKind.expiry]
    assert _by_account(session, budget)[budget.public_id] == (0, 0, 0)
    expired = balances(session, citizen_id=budget.citizen_id, now=later, include_expired=True)
    assert [b.expired for b in expired] == [True, False]


def test_expired_but_not_yet_written_off_shows_nothing_available(session: Session, budget: Budget):
    later = NOW + timedelta(days=31)
    shown = balances(session, citizen_id=budget.citizen_id, now=later, include_expired=True)
    public = next(b for b in shown if b.account_id == budget.public_id)
    assert public.expired and public.balance_cents == 10_000 and public.available_cents == 0


def test_entries_cannot_be_updated_or_deleted(session: Session, budget: Budget):
    with pytest.raises(DatabaseError, match="append-only"):
        session.exec(text("UPDATE ledger_entry SET amount_cents = 1000000"))  # type: ignore[call-overload]
    session.rollback()
    with pytest.raises(DatabaseError, match="append-only"):
        session.exec(text("DELETE FROM ledger_entry"))  # type: ignore[call-overload]
    session.rollback()
    assert _entries(session) == 2


def test_the_orm_refuses_to_change_or_delete_entries(session: Session, budget: Budget):
    entry = session.exec(select(LedgerEntry)).first()
    assert entry is not None
    entry.amount_cents = 1
    with pytest.raises(AppendOnlyError):
        session.flush()
    session.rollback()
    entry = session.exec(select(LedgerEntry)).first()
    session.delete(entry)
    with pytest.raises(AppendOnlyError):
        session.flush()
    session.rollback()
