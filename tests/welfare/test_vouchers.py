"""Vouchers: issue (idempotent by nonce, also racing), redeem, cancel, and who wins."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from core.db import session_scope
from tests.ledger.conftest import NOW, Budget
from tests.welfare.conftest import Shop
from welfare.ledger.accounts import balances
from welfare.ledger.errors import NothingToHold
from welfare.ledger.models import Citizen, LedgerEntry
from welfare.models import Voucher, VoucherStatus
from welfare.vouchers import (
    ServiceNotPayable,
    VoucherCancelled,
    VoucherNotFound,
    VoucherRedeemed,
    cancel_voucher,
    format_voucher_code,
    issue_voucher,
    quote,
    redeem_voucher,
)

CONV = "e" * 32


def _issue(s: Session, budget: Budget, shop: Shop, nonce: str = "nonce-1") -> tuple[Voucher, bool]:
    citizen = s.get(Citizen, budget.citizen_id)
    assert citizen is not None
    result = issue_voucher(
        s,
        citizen=citizen,
        conversation_id=CONV,
        service_code=shop.service_code,
        nonce=nonce,
        now=NOW,
    )
    s.commit()
    return result


def _available(s: Session, budget: Budget) -> int:
    return sum(b.available_cents for b in balances(s, citizen_id=budget.citizen_id, now=NOW))


def test_quote_shows_what_the_budget_covers(session: Session, budget: Budget, shop: Shop) -> None:
    _service, provider, plan = quote(
        session, citizen_id=budget.citizen_id, service_code=shop.service_code, now=NOW
    )
    assert provider.code == "ENTE01" and plan.amount_cents == 12_000
    assert plan.covered_cents == 12_000  # 100 € public + 20 € employer
    assert "120,00 €" in plan.describe()


def test_issue_holds_once_per_nonce(session: Session, budget: Budget, shop: Shop) -> None:
    before = _available(session, budget)
    voucher, created = _issue(session, budget, shop)
    assert created and voucher.status == VoucherStatus.issued
    assert len(voucher.code) == 8 and not set(voucher.code) & set("01OI")
    assert format_voucher_code(voucher.code)[4] == "-"
    again, created_again = _issue(session, budget, shop)
    assert not created_again and again.id == voucher.id
    assert _available(session, budget) == before - 12_000
    other, created_other = _issue(session, budget, shop, nonce="nonce-2")
    assert created_other and other.id != voucher.id  # a new confirm is a new payment
    assert other.covered_cents == 3_000 and other.uncovered_cents == 9_000  # what was left
    assert _available(session, budget) == 0


def test_not_payable_and_not_enough(session: Session, budget: Budget, shop: Shop) -> None:
    citizen = session.get(Citizen, budget.citizen_id)
    assert citizen is not None
    with pytest.raises(ServiceNotPayable):
        issue_voucher(
            session,
            citizen=citizen,
            conversation_id=CONV,
            service_code="NOPE",
            nonce="n-123456",
            now=NOW,
        )
    _issue(session, budget, shop, nonce="spend-1")
    _issue(session, budget, shop, nonce="spend-2")
    with pytest.raises(NothingToHold):
        _issue(session, budget, shop, nonce="spend-3")
    session.rollback()


def test_redeem_then_cancel_refused(session: Session, budget: Budget, shop: Shop) -> None:
    voucher, _ = _issue(session, budget, shop)
    with pytest.raises(VoucherNotFound):
        redeem_voucher(session, code=voucher.code, provider_code="ENTE02", actor="staff:1", now=NOW)
    done = redeem_voucher(
        session,
        code=format_voucher_code(voucher.code).lower(),
        provider_code="ENTE01",
        actor="staff:1",
        now=NOW,
    )
    session.commit()
    assert done.status == VoucherStatus.redeemed
    with pytest.raises(VoucherRedeemed):
        redeem_voucher(session, code=voucher.code, provider_code="ENTE01", actor="staff:1", now=NOW)
    with pytest.raises(VoucherRedeemed):
        cancel_voucher(session, voucher=done, actor="citizen:x", now=NOW)
    spent = -sum(
        e.amount_cents for e in session.exec(select(LedgerEntry)).all() if e.kind == "capture"
    )
    assert spent == 12_000


def test_cancel_releases_then_redeem_refused(session: Session, budget: Budget, shop: Shop) -> None:
    before = _available(session, budget)
    voucher, _ = _issue(session, budget, shop)
    cancel_voucher(session, voucher=voucher, actor="citizen:x", now=NOW)
    session.commit()
    assert voucher.status == VoucherStatus.cancelled
    assert _available(session, budget) == before
    with pytest.raises(VoucherCancelled):
        redeem_voucher(session, code=voucher.code, provider_code=None, actor="staff:1", now=NOW)


def _race(n: int, work: Callable[[int], None]) -> list[BaseException]:
    errors: list[BaseException] = []
    barrier = threading.Barrier(n)

    def run(i: int) -> None:
        try:
            barrier.wait()
            work(i)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return errors


def test_double_taps_racing_charge_once(engine: Engine, budget: Budget, shop: Shop) -> None:
    def tap(_: int) -> None:
        with session_scope(engine) as s:
            citizen = s.get(Citizen, budget.citizen_id)
            assert citizen is not None
            issue_voucher(
                s,
                citizen=citizen,
                conversation_id=CONV,
                service_code=shop.service_code,
                nonce="same-tap",
                now=NOW,
            )

    assert _race(6, tap) == []
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(Voucher)).one() == 1
        holds = s.exec(select(LedgerEntry).where(LedgerEntry.kind == "hold")).all()
        assert sum(h.held_cents for h in holds) == 12_000


def test_redeem_and_cancel_racing_one_wins(engine: Engine, budget: Budget, shop: Shop) -> None:
    with Session(engine, expire_on_commit=False) as s:
        voucher, _ = _issue(s, budget, shop)

    def act(i: int) -> None:
        with session_scope(engine) as s:
            if i % 2:
                redeem_voucher(s, code=voucher.code, provider_code=None, actor="staff:1", now=NOW)
            else:
                v = s.get(Voucher, voucher.id)
                assert v is not None
                cancel_voucher(s, voucher=v, actor="citizen:x", now=NOW)

    errors = _race(4, act)
    assert all(isinstance(e, VoucherRedeemed | VoucherCancelled) for e in errors), errors
    with Session(engine) as s:
        final = s.get(Voucher, voucher.id)
        assert final is not None and final.status != VoucherStatus.issued
        closes = s.exec(
            select(LedgerEntry).where(
                LedgerEntry.hold_ref == voucher.hold_ref, LedgerEntry.kind != "hold"
            )
        ).all()
        kinds = {e.kind for e in closes}
        expected = "capture" if final.status == VoucherStatus.redeemed else "release"
        assert expected in kinds and len(kinds - {"expiry"}) == 1
