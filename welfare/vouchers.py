"""Vouchers: a budget hold for one service, with a short code the provider redeems.

``issue_voucher`` places the hold (``welfare.ledger.payments.place_hold``) with the
idempotency key ``voucher:<conversation>:<service>:<nonce>``; the nonce travels in the
confirm button's payload, so a double tap, a retry or a race returns the same voucher and
charges once. ``redeem_voucher`` captures the hold (provider staff), ``cancel_voucher``
releases it (the citizen in chat or staff); the ledger decides which of the two wins
(a hold is closed once), the voucher's status follows.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from catalog.models import AdhesionStatus, Provider, Service
from welfare.ledger.codes import normalise, random_code
from welfare.ledger.errors import HoldClosed, IdempotencyConflict, LedgerError
from welfare.ledger.models import Citizen
from welfare.ledger.payments import capture_hold, place_hold, release_hold
from welfare.ledger.plans import PaymentPlan, choose_sources
from welfare.models import Voucher, VoucherStatus

CODE_LENGTH = 8
NONCE_RE = re.compile(r"^[A-Za-z0-9_-]{6,32}$")


class VoucherError(LedgerError):
    """A voucher operation refused (Italian ``message``); nothing was written."""

    message = "Operazione sul voucher non riuscita."


class ServiceNotPayable(VoucherError):
    message = "Questo servizio non si può pagare con il budget welfare."


class VoucherNotFound(VoucherError):
    message = "Voucher non trovato: controlla il codice."


class VoucherRedeemed(VoucherError):
    message = "Questo voucher è già stato usato."


class VoucherCancelled(VoucherError):
    message = "Questo voucher è stato annullato."


def format_voucher_code(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"


def new_nonce() -> str:
    """A fresh nonce for a confirm button (one per quote shown)."""
    return secrets.token_urlsafe(9)


def payable_service(session: Session, service_code: str) -> tuple[Service, Provider]:
    row = session.exec(
        select(Service, Provider)
        .join(Provider, Provider.id == Service.provider_id)  # type: ignore[arg-type]
        .where(Service.code == service_code)
    ).first()
    if row is None:
        raise ServiceNotPayable(f"no service {service_code!r}")
    service, provider = row
    if (
        provider.adhesion_status != AdhesionStatus.approved
        or not service.budget_payable
        or service.price_cents <= 0
    ):
        raise ServiceNotPayable(f"service {service_code!r} is not budget payable")
    return service, provider


def quote(
    session: Session, *, citizen_id: int, service_code: str, now: datetime
) -> tuple[Service, Provider, PaymentPlan]:
    """The service and the plan to show before the citizen confirms."""
    service, provider = payable_service(session, service_code)
    plan = choose_sources(
        session,
        citizen_id=citizen_id,
        category=service.category,
        amount_cents=service.price_cents,
        now=now,
    )
    return service, provider, plan


def voucher_key(conversation_id: str, service_code: str, nonce: str) -> str:
    if not NONCE_RE.match(nonce):
        raise ValueError("invalid nonce")
    return f"voucher:{conversation_id}:{service_code}:{nonce}"[:120]


def _by_key(session: Session, key: str) -> Voucher | None:
    return session.exec(select(Voucher).where(Voucher.idempotency_key == key)).first()


def _new_code(session: Session) -> str:
    while True:
        code = random_code(CODE_LENGTH)
        if session.exec(select(Voucher.id).where(Voucher.code == code)).first() is None:
            return code


def issue_voucher(
    session: Session,
    *,
    citizen: Citizen,
    conversation_id: str,
    service_code: str,
    nonce: str,
    now: datetime,
) -> tuple[Voucher, bool]:
    """Place the hold and create the voucher; ``(voucher, created)``. The same nonce again
    returns the first voucher (``created`` False) and holds nothing more. Raises
    ``ServiceNotPayable`` or a ``LedgerError`` (``NothingToHold``, ``InsufficientFunds``...)."""
    assert citizen.id is not None
    key = voucher_key(conversation_id, service_code, nonce)
    existing = _by_key(session, key)
    if existing is not None:
        return existing, False
    service, provider, plan = quote(
        session, citizen_id=citizen.id, service_code=service_code, now=now
    )
    try:
        receipt = place_hold(
            session,
            plan=plan,
            idempotency_key=key,
            caused_by=f"citizen:{citizen.public_ref}",
            now=now,
            service_code=service.code[:40],
            memo=f"Voucher {service.code}"[:200],
        )
    except IdempotencyConflict:
        # a twin request committed meanwhile (its plan was computed on other balances)
        existing = _by_key(session, key)
        if existing is not None:
            return existing, False
        raise
    assert receipt.hold_ref is not None
    voucher = session.exec(select(Voucher).where(Voucher.hold_ref == receipt.hold_ref)).first()
    if voucher is not None:
        return voucher, False
    voucher = Voucher(
        code=_new_code(session),
        hold_ref=receipt.hold_ref,
        idempotency_key=key,
        qr_token=secrets.token_urlsafe(24),
        citizen_id=citizen.id,
        conversation_id=conversation_id,
        service_code=service.code,
        provider_code=provider.code,
        category=service.category,
        price_cents=service.price_cents,
        covered_cents=receipt.held_cents,
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(voucher)
    except IntegrityError:
        existing = _by_key(session, key)
        if existing is None:
            raise
        return existing, False
    return voucher, True


def find_voucher(session: Session, code: str) -> Voucher | None:
    return session.exec(select(Voucher).where(Voucher.code == normalise(code))).first()


def _close(
    session: Session, voucher: Voucher, status: VoucherStatus, actor: str, now: datetime
) -> None:
    session.exec(
        update(Voucher)
        .where(col(Voucher.id) == voucher.id, col(Voucher.status) == VoucherStatus.issued)
        .values(status=status, closed_at=now, closed_by=actor[:80])
    )
    session.flush()
    session.refresh(voucher)


def _check_open(voucher: Voucher) -> None:
    if voucher.status == VoucherStatus.redeemed:
        raise VoucherRedeemed(voucher.code)
    if voucher.status == VoucherStatus.cancelled:
        raise VoucherCancelled(voucher.code)


def redeem_voucher(
    session: Session,
    *,
    code: str,
    provider_code: str | None,
    actor: str,
    now: datetime,
) -> Voucher:
    """The provider redeems the voucher: the hold is captured. ``provider_code`` None means
    any provider (welfare staff); a voucher of another provider is 'not found'."""
    voucher = find_voucher(session, code)
    if voucher is None or (provider_code is not None and voucher.provider_code != provider_code):
        raise VoucherNotFound(normalise(code)[:12])
    _check_open(voucher)
    try:
        capture_hold(
            session,
            hold_ref=voucher.hold_ref,
            idempotency_key=f"voucher-redeem:{voucher.id}",
            caused_by=actor,
            now=now,
            memo=f"Voucher {voucher.code} riscattato",
        )
    except HoldClosed:
        session.refresh(voucher)
        _check_open(voucher)
        _close(session, voucher, VoucherStatus.cancelled, actor, now)  # released meanwhile
        raise VoucherCancelled(voucher.code) from None
    _close(session, voucher, VoucherStatus.redeemed, actor, now)
    if voucher.status != VoucherStatus.redeemed:
        raise VoucherCancelled(voucher.code)
    return voucher


def cancel_voucher(session: Session, *, voucher: Voucher, actor: str, now: datetime) -> Voucher:
    """Cancel before redemption: the held money is available again."""
    _check_open(voucher)
    try:
        release_hold(
            session,
            hold_ref=voucher.hold_ref,
            idempotency_key=f"voucher-cancel:{voucher.id}",
            caused_by=actor,
            now=now,
            memo=f"Voucher {voucher.code} annullato",
        )
    except HoldClosed:
        session.refresh(voucher)
        _check_open(voucher)
        _close(session, voucher, VoucherStatus.redeemed, actor, now)  # captured meanwhile
        raise VoucherRedeemed(voucher.code) from None
    _close(session, voucher, VoucherStatus.cancelled, actor, now)
    if voucher.status != VoucherStatus.cancelled:
        raise VoucherRedeemed(voucher.code)
    return voucher


def open_vouchers(session: Session, *, citizen_id: int) -> list[Voucher]:
    return list(
        session.exec(
            select(Voucher)
            .where(Voucher.citizen_id == citizen_id, Voucher.status == VoucherStatus.issued)
            .order_by(col(Voucher.created_at).desc(), col(Voucher.id).desc())
        ).all()
    )


def vouchers_of(session: Session, *, citizen_id: int, limit: int = 10) -> list[Voucher]:
    return list(
        session.exec(
            select(Voucher)
            .where(Voucher.citizen_id == citizen_id)
            .order_by(col(Voucher.created_at).desc(), col(Voucher.id).desc())
            .limit(limit)
        ).all()
    )
