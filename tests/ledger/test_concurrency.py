"""Concurrent requests, each in its own thread and session, on PostgreSQL and on SQLite (a
file database in WAL mode): the ledger never goes below zero and never writes twice."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import pytest
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from core.db import make_engine, session_scope
from welfare.ledger.accounts import balances
from welfare.ledger.errors import IdempotencyConflict, InsufficientFunds
from welfare.ledger.models import EntryKind, LedgerEntry
from welfare.ledger.payments import capture_hold, choose_sources, credit, place_hold
from welfare.ledger.plans import PaymentPlan

from .conftest import NOW, Budget, make_budget

T = TypeVar("T")


@pytest.fixture
def wide_engine(db_url: str) -> Iterator[Engine]:
    """Enough pooled connections for many threads to run at once (24 of the 100; the rest
    queue for a connection, as requests do in production; PostgreSQL stays far below its
    max_connections even when several suites run)."""
    eng = make_engine(db_url, pool_size=16, max_overflow=8, pool_timeout=60)
    yield eng
    eng.dispose()


def _all_at_once(n: int, work: Callable[[int], T]) -> list[T | BaseException]:
    """Run ``work(i)`` for i in range(n) in n threads released together; results or errors."""
    barrier = threading.Barrier(n)

    def run(i: int) -> T | BaseException:
        barrier.wait()
        try:
            return work(i)
        except Exception as error:  # collected and asserted on by the test
            return error

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(run, range(n)))


def _setup(engine: Engine, *, public_cents: int) -> tuple[Budget, PaymentPlan]:
    with Session(engine, expire_on_commit=False) as s:
        budget = make_budget(s, public_cents=public_cents, employer_cents=0)
        plan = choose_sources(
            s, citizen_id=budget.citizen_id, category="childcare", amount_cents=1_000, now=NOW
        )
    assert [p.account_id for p in plan.parts] == [budget.public_id]
    return budget, plan


def _public_totals(engine: Engine, budget: Budget) -> tuple[int, int, int]:
    with Session(engine) as s:
        b = next(
            b
            for b in balances(s, citizen_id=budget.citizen_id, now=NOW)
            if b.account_id == budget.public_id
        )
        return b.balance_cents, b.held_cents, b.available_cents


def _count(engine: Engine, kind: EntryKind) -> int:
    with Session(engine) as s:
        return s.exec(
            select(func.count()).select_from(LedgerEntry).where(LedgerEntry.kind == kind)
        ).one()


def test_100_simultaneous_payments_against_a_budget_for_10(wide_engine: Engine):
    budget, plan = _setup(wide_engine, public_cents=10_000)  # affords exactly 10 x 10 €

    def pay(i: int) -> str:
        with session_scope(wide_engine) as s:
            hold = place_hold(
                s, plan=plan, idempotency_key=f"pay-{i}", caused_by=f"citizen:{i}", now=NOW
            )
        with session_scope(wide_engine) as s:
            assert hold.hold_ref is not None
            capture_hold(
                s, hold_ref=hold.hold_ref, idempotency_key=f"redeem-{i}", caused_by="p", now=NOW
            )
        return "paid"

    results = _all_at_once(100, pay)
    outcomes = Counter(type(r).__name__ if isinstance(r, BaseException) else r for r in results)
    assert outcomes == {"paid": 10, "InsufficientFunds": 90}, outcomes
    refused = [r for r in results if isinstance(r, InsufficientFunds)]
    assert all(r.requested_cents == 1_000 and r.available_cents < 1_000 for r in refused)
    assert _public_totals(wide_engine, budget) == (0, 0, 0)
    assert _count(wide_engine, EntryKind.hold) == 10
    assert _count(wide_engine, EntryKind.capture) == 10


def test_racing_retries_with_one_key_write_one_hold(wide_engine: Engine):
    budget, plan = _setup(wide_engine, public_cents=10_000)

    def tap(_: int) -> str | None:
        with session_scope(wide_engine) as s:
            return place_hold(s, plan=plan, idempotency_key="double-tap", caused_by="c", now=NOW)
        # (the receipt's hold_ref is compared below)

    results = _all_at_once(30, lambda i: tap(i).hold_ref)  # type: ignore[union-attr]
    errors = [r for r in results if isinstance(r, BaseException)]
    assert errors == []
    assert len(set(results)) == 1
    assert _count(wide_engine, EntryKind.hold) == 1
    assert _public_totals(wide_engine, budget) == (10_000, 1_000, 9_000)


def test_one_key_racing_on_different_accounts_writes_once(wide_engine: Engine):
    """Different locks, same key: the unique constraint decides, the loser sees a conflict."""
    budget, plan = _setup(wide_engine, public_cents=10_000)
    for round_ in range(10):
        key = f"shared-{round_}"

        def work(i: int, key: str = key) -> str:
            with session_scope(wide_engine) as s:
                if i == 0:
                    place_hold(s, plan=plan, idempotency_key=key, caused_by="c", now=NOW)
                else:
                    credit(
                        s,
                        account_id=budget.employer_id,
                        amount_cents=100,
                        idempotency_key=key,
                        caused_by="hr",
                        now=NOW,
                    )
            return "written"

        results = _all_at_once(2, work)
        assert sorted(type(r).__name__ for r in results) == ["IdempotencyConflict", "str"], results
        assert any(isinstance(r, IdempotencyConflict) for r in results)
        with Session(wide_engine) as s:
            written = s.exec(select(LedgerEntry).where(LedgerEntry.idempotency_key == key)).all()
        assert len(written) == 1
