"""Chat: pay a service with the budget (quote, confirm with a nonce, voucher + QR), double
taps, cancel; the details of a payable service offer the button."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from actions.details import ActionServiceDetails
from actions.vouchers import ActionCancelVoucher, ActionConfirmPayment, ActionPayWithBudget
from tests.actions.action_helpers import (
    STRANGER,
    button_payloads,
    texts,
)
from tests.welfare.conftest import tap, tap_and_confirm
from welfare.ledger.models import LedgerEntry
from welfare.models import Voucher, VoucherStatus


def _held(engine: Engine) -> int:
    with Session(engine) as s:
        return s.exec(select(func.coalesce(func.sum(LedgerEntry.held_cents), 0))).one()


def test_details_offer_the_pay_button(db: Engine) -> None:
    messages = tap(ActionServiceDetails(), '/service_details{"service_code":"CE-GAV"}')
    assert '/pay_with_budget{"service_code":"CE-GAV"}' in button_payloads(messages)
    messages = tap(ActionServiceDetails(), '/service_details{"service_code":"ITA-Q1"}')
    assert not any(p.startswith("/pay_with_budget") for p in button_payloads(messages))


def test_quote_confirm_twice_and_cancel(db: Engine) -> None:
    messages = tap(ActionPayWithBudget(), '/pay_with_budget{"service_code":"CE-GAV"}')
    text = texts(messages)
    assert "Centro estivo Gavinana" in text and "Prezzo: 90,00 €" in text
    assert "coperto interamente dal tuo budget" in text
    confirm = next(p for p in button_payloads(messages) if p.startswith("/confirm_payment"))

    first = tap(ActionConfirmPayment(), confirm)
    assert "Ecco il tuo voucher" in texts(first) and "Il budget paga 90,00 €" in texts(first)
    images = [m["image"] for m in first if m.get("image")]
    assert len(images) == 1 and images[0].startswith("https://welcome.example.org/welfare/qr/")
    assert _held(db) == 9_000

    second = tap(ActionConfirmPayment(), confirm)  # double tap / retry
    assert "una volta sola" in texts(second)
    assert _held(db) == 9_000
    with Session(db) as s:
        voucher = s.exec(select(Voucher)).one()
    assert voucher.code[:4] in texts(first) and voucher.code[:4] in texts(second)

    again = tap(ActionPayWithBudget(), '/pay_with_budget{"service_code":"CE-GAV"}')
    assert confirm not in button_payloads(again)  # a new quote, a new nonce

    asked = tap(ActionCancelVoucher(), "annulla voucher")
    assert "Vuoi annullare il voucher" in texts(asked) and _held(db) == 9_000  # asked first
    cancelled = tap_and_confirm(ActionCancelVoucher(), "annulla voucher")
    assert "annullato" in texts(cancelled) and "90,00 €" in texts(cancelled)
    assert _held(db) == 0
    with Session(db) as s:
        assert s.exec(select(Voucher)).one().status == VoucherStatus.cancelled
    assert "Non hai voucher" in texts(tap(ActionCancelVoucher(), "annulla voucher"))


def test_several_vouchers_ask_which(db: Engine) -> None:
    for nonce in ("aaaaaa", "bbbbbb"):
        tap(
            ActionConfirmPayment(),
            f'/confirm_payment{{"service_code":"DOP-RIF","voucher_nonce":"{nonce}"}}',
        )
    messages = tap(ActionCancelVoucher(), "annulla il voucher")
    buttons = [p for p in button_payloads(messages) if p.startswith("/cancel_voucher")]
    assert len(buttons) == 2
    done = tap_and_confirm(ActionCancelVoucher(), buttons[0])
    assert "annullato" in texts(done) and _held(db) == 3_000


def test_not_linked_and_not_payable(db: Engine) -> None:
    stranger = tap(
        ActionPayWithBudget(), '/pay_with_budget{"service_code":"CE-GAV"}', sender=STRANGER
    )
    assert "codice" in texts(stranger) and "€" not in texts(stranger)
    refused = tap(ActionPayWithBudget(), '/pay_with_budget{"service_code":"ITA-Q1"}')
    assert "non si può pagare con il budget" in texts(refused)
    bad = tap(
        ActionConfirmPayment(), '/confirm_payment{"service_code":"CE-GAV","voucher_nonce":"x"}'
    )
    assert "voucher" not in texts(bad).lower() or "Quale servizio" in texts(bad)
    assert _held(db) == 0
