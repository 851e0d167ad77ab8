"""Reimbursements: the citizen paid a receipt, a welfare officer pays it back from the budget.

``submit_reimbursement`` records the request (idempotent by key, e.g. the chat message id)
and gives it a number; ``set_category`` lets the reviewer set or correct the service
category (which budgets may pay) before deciding; ``approve_reimbursement`` pays the
approved amount (all or part) with ``welfare.ledger.payments.reimburse`` (key
``reimbursement:<id>``: a double click pays once); ``reject_reimbursement`` closes it with
a reason. A request is decided once
(conditional UPDATE). ``decision_text`` is what the citizen is told on their channel.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from catalog.vocabulary import CATEGORY_LABELS
from welfare.ledger.codes import random_code
from welfare.ledger.errors import LedgerError
from welfare.ledger.models import Citizen, LinkCode
from welfare.ledger.money import format_eur
from welfare.ledger.payments import reimburse
from welfare.ledger.plans import choose_sources
from welfare.models import Reimbursement, ReimbursementStatus


class ReimbursementError(LedgerError):
    message = "Operazione sulla richiesta di rimborso non riuscita."


class AlreadyDecided(ReimbursementError):
    message = "Questa richiesta è già stata decisa."


class LinkedByReviewer(ReimbursementError):
    message = (
        "Hai creato tu il codice che ha collegato questa chat al budget del cittadino: "
        "la richiesta deve essere decisa da un altro collega."
    )


class NotCovered(ReimbursementError):
    message = "Il budget disponibile del cittadino non copre l'importo approvato."


class InvalidAmount(ReimbursementError):
    message = "L'importo approvato deve essere maggiore di zero e non superare quello richiesto."


class UnknownCategory(ReimbursementError):
    message = "Categoria non valida: scegline una dall'elenco."


def submit_reimbursement(
    session: Session,
    *,
    citizen: Citizen,
    conversation_id: str,
    amount_cents: int,
    paid_on: date,
    provider_name: str,
    beneficiary: str,
    idempotency_key: str,
    now: datetime,
    attachment_id: int | None = None,
    category: str | None = None,
) -> tuple[Reimbursement, bool]:
    """Record the request; ``(request, created)`` (the same key again: the first one)."""
    assert citizen.id is not None
    if amount_cents <= 0:
        raise InvalidAmount(str(amount_cents))
    existing = session.exec(
        select(Reimbursement).where(Reimbursement.idempotency_key == idempotency_key)
    ).first()
    if existing is not None:
        return existing, False
    request = Reimbursement(
        number=f"RIM-{random_code(6)}",
        idempotency_key=idempotency_key[:120],
        citizen_id=citizen.id,
        conversation_id=conversation_id,
        attachment_id=attachment_id,
        amount_cents=amount_cents,
        paid_on=paid_on,
        provider_name=provider_name.strip()[:120],
        beneficiary=beneficiary.strip()[:120],
        category=category,
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(request)
    except IntegrityError:
        existing = session.exec(
            select(Reimbursement).where(Reimbursement.idempotency_key == idempotency_key)
        ).first()
        if existing is None:
            raise
        return existing, False
    return request, True


def _decide(
    session: Session, request: Reimbursement, *, reviewer: str, now: datetime, **values: object
) -> None:
    result = session.exec(
        update(Reimbursement)
        .where(
            col(Reimbursement.id) == request.id,
            col(Reimbursement.status) == ReimbursementStatus.submitted,
        )
        .values(reviewed_by=reviewer[:80], reviewed_at=now, **values)
    )
    if result.rowcount != 1:
        raise AlreadyDecided(str(request.id))
    session.flush()
    session.refresh(request)


def set_category(session: Session, *, request: Reimbursement, category: str) -> str | None:
    """Set or correct the service category of a request still to decide (a reviewer's choice,
    e.g. when the provider was not matched to the catalogue); returns the previous one.

    The category decides which budgets may pay (``choose_sources``). Conditional UPDATE: a
    request decided meanwhile is left as it is (``AlreadyDecided``)."""
    if category not in CATEGORY_LABELS:
        raise UnknownCategory(category[:40])
    if request.status != ReimbursementStatus.submitted:
        raise AlreadyDecided(str(request.id))
    previous = request.category
    result = session.exec(
        update(Reimbursement)
        .where(
            col(Reimbursement.id) == request.id,
            col(Reimbursement.status) == ReimbursementStatus.submitted,
        )
        .values(category=category)
    )
    if result.rowcount != 1:
        raise AlreadyDecided(str(request.id))
    session.flush()
    session.refresh(request)
    return previous


def linked_by(session: Session, *, conversation_id: str, staff: str) -> bool:
    """Whether ``staff`` ("staff:<id>") issued a code that linked the conversation."""
    used = session.exec(
        select(LinkCode.id)
        .where(LinkCode.used_by_conversation == conversation_id, LinkCode.issued_by == staff)
        .limit(1)
    ).first()
    return used is not None


def approve_reimbursement(
    session: Session,
    *,
    request: Reimbursement,
    amount_cents: int | None,
    reviewer: str,
    now: datetime,
) -> Reimbursement:
    """Pay back ``amount_cents`` (None: the whole amount) from the citizen's budget."""
    if request.status != ReimbursementStatus.submitted:
        raise AlreadyDecided(str(request.id))
    if linked_by(session, conversation_id=request.conversation_id, staff=reviewer):
        raise LinkedByReviewer(str(request.id))  # separation of duties (docs/security.md)
    amount = request.amount_cents if amount_cents is None else amount_cents
    if not 0 < amount <= request.amount_cents:
        raise InvalidAmount(str(amount))
    plan = choose_sources(
        session,
        citizen_id=request.citizen_id,
        category=request.category,
        amount_cents=amount,
        now=now,
    )
    if plan.uncovered_cents:
        raise NotCovered(f"uncovered {plan.uncovered_cents}")
    _decide(
        session,
        request,
        reviewer=reviewer,
        now=now,
        status=ReimbursementStatus.approved,
        approved_cents=amount,
    )
    reimburse(
        session,
        plan=plan,
        idempotency_key=f"reimbursement:{request.id}",
        caused_by=reviewer,
        now=now,
        memo=f"Rimborso {request.number}",
    )
    return request


def reject_reimbursement(
    session: Session, *, request: Reimbursement, reason: str, reviewer: str, now: datetime
) -> Reimbursement:
    reason = " ".join(reason.split())[:300]
    if not reason:
        raise ReimbursementError("Indica il motivo del rifiuto.")
    _decide(
        session,
        request,
        reviewer=reviewer,
        now=now,
        status=ReimbursementStatus.rejected,
        reason=reason,
    )
    return request


def decision_text(request: Reimbursement) -> str:
    """What the citizen is told (Italian, "tu")."""
    if request.status == ReimbursementStatus.approved:
        approved = request.approved_cents or 0
        text = (
            f"La tua richiesta di rimborso {request.number} è stata approvata: "
            f"{format_eur(approved)} sono stati rimborsati dal tuo budget welfare."
        )
        if approved < request.amount_cents:
            text += f" L'importo richiesto era {format_eur(request.amount_cents)}."
        return text
    if request.status == ReimbursementStatus.rejected:
        return (
            f"La tua richiesta di rimborso {request.number} non è stata accolta. "
            f"Motivo: {request.reason}"
        )
    return f"La tua richiesta di rimborso {request.number} è in esame."


def requests_of(session: Session, *, citizen_id: int, limit: int = 10) -> list[Reimbursement]:
    return list(
        session.exec(
            select(Reimbursement)
            .where(Reimbursement.citizen_id == citizen_id)
            .order_by(col(Reimbursement.created_at).desc(), col(Reimbursement.id).desc())
            .limit(limit)
        ).all()
    )
