"""Citizens and their welfare budget (mounted at /cittadini): search, statement, CSV export,
one-time linking codes (shown once, only their hash is stored) and unlinking.

Every route depends on ``require_roles(*ROLES)``, which also checks the CSRF token on POST.
The audit log records the citizen's public reference, never a code or personal data.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from console import audit
from console.auth import CurrentStaff, DbSession, client_ip, require_roles
from console.web import console_path, render
from core.timeutil import utcnow
from staff.roles import Role
from welfare.ledger.accounts import balances, get_citizen, statement
from welfare.ledger.export import statement_csv
from welfare.ledger.linking import format_code, issue_link_code, unlink_citizen
from welfare.ledger.models import Citizen, ConversationLink
from welfare.ledger.money import format_eur
from welfare.models import VOUCHER_STATUS_LABELS, Voucher
from welfare.vouchers import VoucherError, cancel_voucher, format_voucher_code, vouchers_of

ROLES = frozenset({Role.welfare_officer, Role.care_manager, Role.hub_staff})
router = APIRouter()
Officer = Annotated[CurrentStaff, Depends(require_roles(*ROLES))]
SEARCH_LIMIT = 50

NOTICES = {
    "unlinked": "Chat scollegate dal budget del cittadino.",
    "none": "Nessuna chat era collegata.",
    "voucher_cancelled": "Voucher annullato: l'importo è di nuovo disponibile.",
}

# the wording of this section's audit actions (its Section.audit_labels)
AUDIT_LABELS: dict[str, str] = {
    "citizen.link_code": "codice di collegamento emesso",
    "citizen.unlink": "chat scollegate",
    "citizen.statement_csv": "estratto conto esportato",
    "voucher.cancel": "voucher annullato",
}


def _citizen_or_404(db: Session, ref: str) -> Citizen:
    citizen = get_citizen(db, public_ref=ref)
    if citizen is None:
        raise HTTPException(404, "Cittadino non trovato.")
    return citizen


def _audit(db: Session, request: Request, staff: CurrentStaff, action: str, ref: str) -> None:
    audit.record(
        db,
        action=action,
        actor_id=staff.id,
        object_type="citizen",
        object_id=ref,
        ip=client_ip(request),
    )


def find_citizens(db: Session, text: str, *, limit: int = SEARCH_LIMIT) -> list[Citizen]:
    """By public reference, tax code, or (part of) the name; empty text lists the newest."""
    query = select(Citizen)
    words = text.strip().split()
    for word in words:
        pattern = f"%{word.lower()}%"
        query = query.where(
            or_(
                func.lower(Citizen.public_ref) == word.lower(),
                func.lower(col(Citizen.tax_code)) == word.lower(),
                func.lower(Citizen.first_name).like(pattern),
                func.lower(Citizen.family_name).like(pattern),
            )
        )
    query = query.order_by(col(Citizen.family_name), col(Citizen.first_name), col(Citizen.id))
    return list(db.exec(query.limit(limit)).all())


def active_links(db: Session, citizen_id: int) -> int:
    return db.exec(
        select(func.count())
        .select_from(ConversationLink)
        .where(
            ConversationLink.citizen_id == citizen_id,
            col(ConversationLink.unlinked_at).is_(None),
        )
    ).one()


def _detail(
    request: Request,
    db: Session,
    staff: CurrentStaff,
    citizen: Citizen,
    *,
    code: str = "",
    notice: str = "",
    error: str = "",
) -> Response:
    assert citizen.id is not None
    now = utcnow()
    return render(
        request,
        "welfare_citizen.html",
        {
            "citizen": citizen,
            "accounts": balances(db, citizen_id=citizen.id, now=now, include_expired=True),
            "entries": statement(db, citizen_id=citizen.id, limit=None),
            "links": active_links(db, citizen.id),
            "code": format_code(code) if code else "",
            "vouchers": vouchers_of(db, citizen_id=citizen.id, limit=50),
            "status_labels": VOUCHER_STATUS_LABELS,
            "voucher_code": format_voucher_code,
            "notice": notice,
            "error": error,
            "eur": format_eur,
        },
        staff=staff,
    )


@router.get("", name="citizens")
def citizens_page(
    request: Request,
    db: DbSession,
    staff: Officer,
    q: Annotated[str, Query(max_length=100)] = "",
) -> Response:
    return render(
        request,
        "welfare_citizens.html",
        {"q": q, "people": find_citizens(db, q)},
        staff=staff,
    )


@router.get("/{ref}", name="citizen_detail")
def citizen_detail(
    request: Request,
    db: DbSession,
    staff: Officer,
    ref: str,
    msg: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    return _detail(request, db, staff, _citizen_or_404(db, ref), notice=NOTICES.get(msg, ""))


@router.post("/{ref}/codice", name="citizen_link_code")
def citizen_link_code(request: Request, db: DbSession, staff: Officer, ref: str) -> Response:
    """Issue a new code and show it in this response only (a reload does not show it again)."""
    citizen = _citizen_or_404(db, ref)
    assert citizen.id is not None
    code = issue_link_code(db, citizen_id=citizen.id, issued_by=f"staff:{staff.id}", now=utcnow())
    _audit(db, request, staff, "citizen.link_code", citizen.public_ref)
    db.commit()
    return _detail(request, db, staff, citizen, code=code)


@router.post("/{ref}/scollega", name="citizen_unlink")
def citizen_unlink(request: Request, db: DbSession, staff: Officer, ref: str) -> Response:
    citizen = _citizen_or_404(db, ref)
    assert citizen.id is not None
    count = unlink_citizen(db, citizen_id=citizen.id, now=utcnow())
    _audit(db, request, staff, "citizen.unlink", citizen.public_ref)
    db.commit()
    url = console_path(request, "citizen_detail", ref=citizen.public_ref)
    return RedirectResponse(f"{url}?msg={'unlinked' if count else 'none'}", status_code=303)


@router.get("/{ref}/estratto.csv", name="citizen_statement_csv")
def citizen_statement_csv(request: Request, db: DbSession, staff: Officer, ref: str) -> Response:
    citizen = _citizen_or_404(db, ref)
    assert citizen.id is not None
    text = statement_csv(db, citizen_id=citizen.id, bom=True)
    _audit(db, request, staff, "citizen.statement_csv", citizen.public_ref)
    db.commit()
    filename = f"estratto-{citizen.public_ref}-{utcnow():%Y%m%d}.csv"
    return Response(
        content=text.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


@router.post("/{ref}/voucher/{voucher_id}/annulla", name="citizen_voucher_cancel")
def citizen_voucher_cancel(
    request: Request, db: DbSession, staff: Officer, ref: str, voucher_id: int
) -> Response:
    """Cancel an unused voucher (the hold is released)."""
    citizen = _citizen_or_404(db, ref)
    voucher = db.get(Voucher, voucher_id)
    if voucher is None or voucher.citizen_id != citizen.id:
        raise HTTPException(404, "Voucher non trovato.")
    try:
        cancel_voucher(db, voucher=voucher, actor=f"staff:{staff.id}", now=utcnow())
    except VoucherError as refusal:
        db.rollback()
        return _detail(request, db, staff, citizen, error=refusal.message)
    audit.record(
        db,
        action="voucher.cancel",
        actor_id=staff.id,
        object_type="voucher",
        object_id=voucher.code,
        ip=client_ip(request),
    )
    db.commit()
    url = console_path(request, "citizen_detail", ref=citizen.public_ref)
    return RedirectResponse(f"{url}?msg=voucher_cancelled", status_code=303)
