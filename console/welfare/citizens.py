"""Citizens and their welfare budget (mounted at /cittadini): search, statement, CSV export,
one-time linking codes (shown once, only their hash is stored) and unlinking.

Every route depends on ``require_roles(*ROLES)``, which also checks the CSRF token on POST.
The audit log records the citizen's public reference, never a code or personal data.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from console import audit
from console.auth import CurrentStaff, Db, client_ip, require_roles
from console.web import console_path, render
from core.database import Database
from core.timeutil import utcnow
from staff.roles import Role
from welfare.ledger.accounts import balances, get_citizen, statement
from welfare.ledger.export import statement_csv
from welfare.ledger.linking import format_code, issue_link_code, unlink_citizen
from welfare.ledger.models import Citizen, ConversationLink
from welfare.ledger.money import format_eur
from welfare.models import VOUCHER_STATUS_LABELS, Voucher
from welfare.vouchers import VoucherError, cancel_voucher, format_voucher_code, vouchers_of

# Who may see a citizen's budgets and hand out the codes that link a chat to them: the
# people the citizen is told to ask ("il codice che ti danno al Welcome Point o al lavoro"),
# i.e. the Care Manager of a Welcome Point and the welfare office of the budget. Welcome Hub
# staff work with communities and companies, never with one citizen's budget
# (docs/security.md, "Who may issue linking codes").
ROLES = frozenset({Role.welfare_officer, Role.care_manager})
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


def _citizen_or_404(session: Session, ref: str) -> Citizen:
    citizen = get_citizen(session, public_ref=ref)
    if citizen is None:
        raise HTTPException(404, "Cittadino non trovato.")
    return citizen


def _audit(session: Session, *, staff: CurrentStaff, action: str, ref: str, ip: str) -> None:
    audit.record(
        session,
        action=action,
        actor_id=staff.id,
        object_type="citizen",
        object_id=ref,
        ip=ip,
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


def _detail_context(session: Session, *, ref: str) -> dict[str, Any]:
    citizen = _citizen_or_404(session, ref)
    assert citizen.id is not None
    return {
        "citizen": citizen,
        "accounts": balances(session, citizen_id=citizen.id, now=utcnow(), include_expired=True),
        "entries": statement(session, citizen_id=citizen.id, limit=None),
        "links": active_links(session, citizen.id),
        "vouchers": vouchers_of(session, citizen_id=citizen.id, limit=50),
    }


def _detail(
    request: Request,
    db: Database,
    staff: CurrentStaff,
    ref: str,
    *,
    code: str = "",
    notice: str = "",
    error: str = "",
) -> Response:
    return render(
        request,
        "welfare_citizen.html",
        {
            **db.run_sync(_detail_context, ref=ref),
            "code": format_code(code) if code else "",
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
    db: Db,
    staff: Officer,
    q: Annotated[str, Query(max_length=100)] = "",
) -> Response:
    return render(
        request,
        "welfare_citizens.html",
        {"q": q, "people": db.run_sync(find_citizens, text=q)},
        staff=staff,
    )


@router.get("/{ref}", name="citizen_detail")
def citizen_detail(
    request: Request,
    db: Db,
    staff: Officer,
    ref: str,
    msg: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    return _detail(request, db, staff, ref, notice=NOTICES.get(msg, ""))


def _issue_code(session: Session, *, staff: CurrentStaff, ref: str, ip: str) -> str:
    citizen = _citizen_or_404(session, ref)
    assert citizen.id is not None
    code = issue_link_code(
        session, citizen_id=citizen.id, issued_by=f"staff:{staff.id}", now=utcnow()
    )
    _audit(session, staff=staff, action="citizen.link_code", ref=citizen.public_ref, ip=ip)
    return code


@router.post("/{ref}/codice", name="citizen_link_code")
def citizen_link_code(request: Request, db: Db, staff: Officer, ref: str) -> Response:
    """Issue a new code and show it in this response only (a reload does not show it again)."""
    code = db.run_sync(_issue_code, staff=staff, ref=ref, ip=client_ip(request))
    return _detail(request, db, staff, ref, code=code)


def _unlink(session: Session, *, staff: CurrentStaff, ref: str, ip: str) -> tuple[str, int]:
    citizen = _citizen_or_404(session, ref)
    assert citizen.id is not None
    count = unlink_citizen(session, citizen_id=citizen.id, now=utcnow())
    _audit(session, staff=staff, action="citizen.unlink", ref=citizen.public_ref, ip=ip)
    return citizen.public_ref, count


@router.post("/{ref}/scollega", name="citizen_unlink")
def citizen_unlink(request: Request, db: Db, staff: Officer, ref: str) -> Response:
    public_ref, count = db.run_sync(_unlink, staff=staff, ref=ref, ip=client_ip(request))
    url = console_path(request, "citizen_detail", ref=public_ref)
    return RedirectResponse(f"{url}?msg={'unlinked' if count else 'none'}", status_code=303)


def _export(session: Session, *, staff: CurrentStaff, ref: str, ip: str) -> tuple[str, str]:
    citizen = _citizen_or_404(session, ref)
    assert citizen.id is not None
    text = statement_csv(session, citizen_id=citizen.id, bom=True)
    _audit(session, staff=staff, action="citizen.statement_csv", ref=citizen.public_ref, ip=ip)
    return citizen.public_ref, text


@router.get("/{ref}/estratto.csv", name="citizen_statement_csv")
def citizen_statement_csv(request: Request, db: Db, staff: Officer, ref: str) -> Response:
    public_ref, text = db.run_sync(_export, staff=staff, ref=ref, ip=client_ip(request))
    filename = f"estratto-{public_ref}-{utcnow():%Y%m%d}.csv"
    return Response(
        content=text.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


def _cancel_voucher(
    session: Session, *, staff: CurrentStaff, ref: str, voucher_id: int, ip: str
) -> str:
    citizen = _citizen_or_404(session, ref)
    voucher = session.get(Voucher, voucher_id)
    if voucher is None or voucher.citizen_id != citizen.id:
        raise HTTPException(404, "Voucher non trovato.")
    cancel_voucher(session, voucher=voucher, actor=f"staff:{staff.id}", now=utcnow())
    audit.record(
        session,
        action="voucher.cancel",
        actor_id=staff.id,
        object_type="voucher",
        object_id=voucher.code,
        ip=ip,
    )
    return citizen.public_ref


@router.post("/{ref}/voucher/{voucher_id}/annulla", name="citizen_voucher_cancel")
def citizen_voucher_cancel(
    request: Request, db: Db, staff: Officer, ref: str, voucher_id: int
) -> Response:
    """Cancel an unused voucher (the hold is released)."""
    try:
        public_ref = db.run_sync(
            _cancel_voucher, staff=staff, ref=ref, voucher_id=voucher_id, ip=client_ip(request)
        )
    except VoucherError as refusal:  # rolled back: nothing changed
        return _detail(request, db, staff, ref, error=refusal.message)
    url = console_path(request, "citizen_detail", ref=public_ref)
    return RedirectResponse(f"{url}?msg=voucher_cancelled", status_code=303)
