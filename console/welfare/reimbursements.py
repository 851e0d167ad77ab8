"""Reimbursement review (mounted at /rimborsi, welfare_officer): the queue, one request with
its receipt, the service category (set or corrected by the reviewer when the provider was
not matched to the catalogue: it decides which budgets may pay, audited), approve (all or
part: ``reimburse()``) or reject with a reason. The citizen is
told on their channel through the running gateway (``HandoffService.gateway.send_text``,
as the hand-off's staff messages are); without a gateway the decision is still saved.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.requests import HTTPConnection
from fastapi.responses import FileResponse, RedirectResponse, Response
from sqlmodel import Session, col, select

from catalog.vocabulary import CATEGORY_LABELS
from console import audit
from console.auth import CurrentStaff, Db, client_ip, require_roles
from console.web import console_path, render
from conversations.models import Attachment, Author
from conversations.uploads import UploadStore
from core.database import Database
from core.settings import get_settings
from core.timeutil import utcnow
from staff.roles import Role
from welfare.ledger.errors import LedgerError
from welfare.ledger.models import Citizen
from welfare.ledger.money import format_eur, parse_eur
from welfare.ledger.plans import choose_sources
from welfare.models import REIMBURSEMENT_STATUS_LABELS, Reimbursement, ReimbursementStatus
from welfare.reimbursements import (
    approve_reimbursement,
    decision_text,
    reject_reimbursement,
    set_category,
)

log = logging.getLogger(__name__)
router = APIRouter()
Officer = Annotated[CurrentStaff, Depends(require_roles(Role.welfare_officer))]

NOTICES = {
    "approved": "Rimborso approvato e pagato dal budget.",
    "rejected": "Richiesta respinta.",
    "category": "Categoria salvata.",
}
BAD_AMOUNT = "Importo non valido (per esempio 45,50)."
# the catalogue's categories, by their Italian label, for the reviewer's choice
CATEGORY_CHOICES = sorted(CATEGORY_LABELS.items(), key=lambda item: item[1])
# the wording of this section's audit actions (its Section.audit_labels)
AUDIT_LABELS: dict[str, str] = {
    "reimbursement.approve": "rimborso approvato",
    "reimbursement.reject": "rimborso respinto",
    "reimbursement.category": "categoria del rimborso scelta",
}


def _request_or_404(session: Session, request_id: int) -> Reimbursement:
    found = session.get(Reimbursement, request_id)
    if found is None:
        raise HTTPException(404, "Richiesta non trovata.")
    return found


def _uploads(conn: HTTPConnection) -> UploadStore:
    service = getattr(conn.app.state, "handoff", None)
    if service is not None:
        return service.gateway.uploads
    settings = get_settings()
    return UploadStore(settings.var_dir / "uploads", settings.upload_max_bytes)


async def notify_citizen(conn: HTTPConnection, request: Reimbursement) -> bool:
    """Tell the citizen on their channel; False when no gateway runs (decision kept)."""
    service = getattr(conn.app.state, "handoff", None)
    if service is None:
        return False
    try:
        await service.gateway.send_text(
            request.conversation_id, decision_text(request), author=Author.gateway
        )
    except Exception:
        log.exception("reimbursement %s: citizen not notified", request.id)
        return False
    return True


def _detail_context(session: Session, *, request_id: int) -> dict[str, Any]:
    item = _request_or_404(session, request_id)
    covered = None
    if item.status == ReimbursementStatus.submitted:  # what approving all of it would find
        covered = choose_sources(
            session,
            citizen_id=item.citizen_id,
            category=item.category,
            amount_cents=item.amount_cents,
            now=utcnow(),
        ).covered_cents
    return {
        "item": item,
        "citizen": session.get(Citizen, item.citizen_id),
        "attachment": session.get(Attachment, item.attachment_id) if item.attachment_id else None,
        "category_label": CATEGORY_LABELS.get(item.category or ""),
        "covered": covered,
    }


def _detail(
    request: Request, staff: CurrentStaff, context: dict[str, Any], *, error: str = ""
) -> Response:
    """The request's page; ``context`` from ``_detail_context`` (read after any rollback)."""
    return render(
        request,
        "welfare_reimbursement.html",
        {
            **context,
            "categories": CATEGORY_CHOICES,
            "labels": REIMBURSEMENT_STATUS_LABELS,
            "eur": format_eur,
            "error": error,
            "notice": NOTICES.get(request.query_params.get("msg", ""), ""),
        },
        staff=staff,
        status_code=409 if error else 200,
    )


async def _refused(
    request: Request, db: Database, staff: CurrentStaff, request_id: int, error: str
) -> Response:
    """The request's page again with ``error`` (after the refused change rolled back)."""
    return _detail(
        request, staff, await db.run(_detail_context, request_id=request_id), error=error
    )


def _audit(
    session: Session,
    *,
    staff: CurrentStaff,
    action: str,
    item: Reimbursement,
    ip: str,
    detail: str = "",
) -> None:
    audit.record(
        session,
        action=action,
        actor_id=staff.id,
        object_type="reimbursement",
        object_id=item.number,
        detail=detail,
        ip=ip,
    )


def _list(session: Session, *, stato: str) -> list[Reimbursement]:
    query = select(Reimbursement).order_by(col(Reimbursement.created_at), col(Reimbursement.id))
    if stato in {s.value for s in ReimbursementStatus}:
        query = query.where(Reimbursement.status == stato)
    return list(session.exec(query.limit(200)).all())


@router.get("", name="reimbursements")
def reimbursements_page(
    request: Request,
    db: Db,
    staff: Officer,
    stato: Annotated[str, Query(max_length=12)] = "submitted",
) -> Response:
    return render(
        request,
        "welfare_reimbursements.html",
        {
            "items": db.run_sync(_list, stato=stato),
            "stato": stato,
            "labels": REIMBURSEMENT_STATUS_LABELS,
            "eur": format_eur,
        },
        staff=staff,
    )


@router.get("/{request_id:int}", name="reimbursement_detail")
def reimbursement_detail(request: Request, db: Db, staff: Officer, request_id: int) -> Response:
    return _detail(request, staff, db.run_sync(_detail_context, request_id=request_id))


def _receipt(session: Session, *, request_id: int) -> tuple[Reimbursement, Attachment]:
    item = _request_or_404(session, request_id)
    found = session.get(Attachment, item.attachment_id) if item.attachment_id else None
    if found is None or found.conversation_id != item.conversation_id:
        raise HTTPException(404, "Ricevuta non trovata.")
    return item, found


@router.get("/{request_id:int}/ricevuta", name="reimbursement_receipt")
def reimbursement_receipt(request: Request, db: Db, staff: Officer, request_id: int) -> Response:
    item, found = db.run_sync(_receipt, request_id=request_id)
    try:
        path = _uploads(request).path_of(found.path)
    except ValueError:
        raise HTTPException(404, "Ricevuta non trovata.") from None
    if not path.is_file():
        raise HTTPException(404, "Ricevuta non trovata.")
    disposition = "inline" if found.mime_type.startswith("image/") else "attachment"
    return FileResponse(
        path,
        media_type=found.mime_type,
        headers={
            "Cache-Control": "private, no-store",
            "Content-Disposition": f'{disposition}; filename="ricevuta-{item.number}"',
        },
    )


def _set_category(
    session: Session, *, staff: CurrentStaff, request_id: int, category: str, ip: str
) -> None:
    item = _request_or_404(session, request_id)
    previous = set_category(session, request=item, category=category)
    detail = f"categoria: {previous or 'nessuna'} -> {item.category}"
    _audit(session, staff=staff, action="reimbursement.category", item=item, ip=ip, detail=detail)


@router.post("/{request_id:int}/categoria", name="reimbursement_category")
async def reimbursement_category(
    request: Request,
    db: Db,
    staff: Officer,
    request_id: int,
    category: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    """Set or correct the service category before deciding (audited: from which to which)."""
    try:
        await db.run(
            _set_category,
            staff=staff,
            request_id=request_id,
            category=category.strip(),
            ip=client_ip(request),
        )
    except LedgerError as refusal:  # rolled back: nothing changed
        return await _refused(request, db, staff, request_id, refusal.message)
    url = console_path(request, "reimbursement_detail", request_id=request_id)
    return RedirectResponse(f"{url}?msg=category", status_code=303)


def _approve(
    session: Session, *, staff: CurrentStaff, request_id: int, cents: int | None, ip: str
) -> Reimbursement:
    item = _request_or_404(session, request_id)
    approve_reimbursement(
        session, request=item, amount_cents=cents, reviewer=f"staff:{staff.id}", now=utcnow()
    )
    _audit(session, staff=staff, action="reimbursement.approve", item=item, ip=ip)
    return item


@router.post("/{request_id:int}/approva", name="reimbursement_approve")
async def reimbursement_approve(
    request: Request,
    db: Db,
    staff: Officer,
    request_id: int,
    amount: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    try:
        cents = parse_eur(amount) if amount.strip() else None
    except ValueError:  # the page (or 404) as it is, with the error
        return await _refused(request, db, staff, request_id, BAD_AMOUNT)
    try:
        item = await db.run(
            _approve, staff=staff, request_id=request_id, cents=cents, ip=client_ip(request)
        )
    except LedgerError as refusal:  # rolled back: nothing changed
        return await _refused(request, db, staff, request_id, refusal.message)
    await notify_citizen(request, item)
    url = console_path(request, "reimbursement_detail", request_id=request_id)
    return RedirectResponse(f"{url}?msg=approved", status_code=303)


def _reject(
    session: Session, *, staff: CurrentStaff, request_id: int, reason: str, ip: str
) -> Reimbursement:
    item = _request_or_404(session, request_id)
    reject_reimbursement(
        session, request=item, reason=reason, reviewer=f"staff:{staff.id}", now=utcnow()
    )
    _audit(session, staff=staff, action="reimbursement.reject", item=item, ip=ip)
    return item


@router.post("/{request_id:int}/respingi", name="reimbursement_reject")
async def reimbursement_reject(
    request: Request,
    db: Db,
    staff: Officer,
    request_id: int,
    reason: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    try:
        item = await db.run(
            _reject, staff=staff, request_id=request_id, reason=reason, ip=client_ip(request)
        )
    except LedgerError as refusal:  # rolled back: nothing changed
        return await _refused(request, db, staff, request_id, refusal.message)
    await notify_citizen(request, item)
    url = console_path(request, "reimbursement_detail", request_id=request_id)
    return RedirectResponse(f"{url}?msg=rejected", status_code=303)
