"""Reimbursement review (mounted at /rimborsi, welfare_officer): the queue, one request with
its receipt, the service category (set or corrected by the reviewer when the provider was
not matched to the catalogue: it decides which budgets may pay, audited), approve (all or
part: ``reimburse()``) or reject with a reason. The citizen is
told on their channel through the running gateway (``HandoffService.gateway.send_text``,
as the hand-off's staff messages are); without a gateway the decision is still saved.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.requests import HTTPConnection
from fastapi.responses import FileResponse, RedirectResponse, Response
from sqlmodel import Session, col, select

from catalog.vocabulary import CATEGORY_LABELS
from console import audit
from console.auth import CurrentStaff, DbSession, client_ip, require_roles
from console.web import console_path, render
from conversations.models import Attachment, Author
from conversations.uploads import UploadStore
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
# the catalogue's categories, by their Italian label, for the reviewer's choice
CATEGORY_CHOICES = sorted(CATEGORY_LABELS.items(), key=lambda item: item[1])
# the wording of this section's audit actions (its Section.audit_labels)
AUDIT_LABELS: dict[str, str] = {
    "reimbursement.approve": "rimborso approvato",
    "reimbursement.reject": "rimborso respinto",
    "reimbursement.category": "categoria del rimborso scelta",
}


def _request_or_404(db: Session, request_id: int) -> Reimbursement:
    found = db.get(Reimbursement, request_id)
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


def _detail(
    request: Request, db: Session, staff: CurrentStaff, item: Reimbursement, *, error: str = ""
) -> Response:
    citizen = db.get(Citizen, item.citizen_id)
    attachment = db.get(Attachment, item.attachment_id) if item.attachment_id else None
    covered = None
    if item.status == ReimbursementStatus.submitted:  # what approving all of it would find
        covered = choose_sources(
            db,
            citizen_id=item.citizen_id,
            category=item.category,
            amount_cents=item.amount_cents,
            now=utcnow(),
        ).covered_cents
    return render(
        request,
        "welfare_reimbursement.html",
        {
            "item": item,
            "citizen": citizen,
            "attachment": attachment,
            "categories": CATEGORY_CHOICES,
            "category_label": CATEGORY_LABELS.get(item.category or ""),
            "covered": covered,
            "labels": REIMBURSEMENT_STATUS_LABELS,
            "eur": format_eur,
            "error": error,
            "notice": NOTICES.get(request.query_params.get("msg", ""), ""),
        },
        staff=staff,
        status_code=409 if error else 200,
    )


def _audit(
    db: Session,
    request: Request,
    staff: CurrentStaff,
    action: str,
    item: Reimbursement,
    detail: str = "",
) -> None:
    audit.record(
        db,
        action=action,
        actor_id=staff.id,
        object_type="reimbursement",
        object_id=item.number,
        detail=detail,
        ip=client_ip(request),
    )


@router.get("", name="reimbursements")
def reimbursements_page(
    request: Request,
    db: DbSession,
    staff: Officer,
    stato: Annotated[str, Query(max_length=12)] = "submitted",
) -> Response:
    query = select(Reimbursement).order_by(col(Reimbursement.created_at), col(Reimbursement.id))
    if stato in {s.value for s in ReimbursementStatus}:
        query = query.where(Reimbursement.status == stato)
    return render(
        request,
        "welfare_reimbursements.html",
        {
            "items": list(db.exec(query.limit(200)).all()),
            "stato": stato,
            "labels": REIMBURSEMENT_STATUS_LABELS,
            "eur": format_eur,
        },
        staff=staff,
    )


@router.get("/{request_id:int}", name="reimbursement_detail")
def reimbursement_detail(
    request: Request, db: DbSession, staff: Officer, request_id: int
) -> Response:
    return _detail(request, db, staff, _request_or_404(db, request_id))


@router.get("/{request_id:int}/ricevuta", name="reimbursement_receipt")
def reimbursement_receipt(
    request: Request, db: DbSession, staff: Officer, request_id: int
) -> Response:
    item = _request_or_404(db, request_id)
    found = db.get(Attachment, item.attachment_id) if item.attachment_id else None
    if found is None or found.conversation_id != item.conversation_id:
        raise HTTPException(404, "Ricevuta non trovata.")
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


@router.post("/{request_id:int}/categoria", name="reimbursement_category")
async def reimbursement_category(
    request: Request,
    db: DbSession,
    staff: Officer,
    request_id: int,
    category: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    """Set or correct the service category before deciding (audited: from which to which)."""
    item = _request_or_404(db, request_id)
    try:
        previous = set_category(db, request=item, category=category.strip())
        detail = f"categoria: {previous or 'nessuna'} -> {item.category}"
        _audit(db, request, staff, "reimbursement.category", item, detail)
        db.commit()
    except LedgerError as refusal:
        db.rollback()
        db.refresh(item)
        return _detail(request, db, staff, item, error=refusal.message)
    url = console_path(request, "reimbursement_detail", request_id=request_id)
    return RedirectResponse(f"{url}?msg=category", status_code=303)


@router.post("/{request_id:int}/approva", name="reimbursement_approve")
async def reimbursement_approve(
    request: Request,
    db: DbSession,
    staff: Officer,
    request_id: int,
    amount: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    item = _request_or_404(db, request_id)
    try:
        cents = parse_eur(amount) if amount.strip() else None
    except ValueError:
        return _detail(request, db, staff, item, error="Importo non valido (per esempio 45,50).")
    try:
        await asyncio.to_thread(
            approve_reimbursement,
            db,
            request=item,
            amount_cents=cents,
            reviewer=f"staff:{staff.id}",
            now=utcnow(),
        )
        _audit(db, request, staff, "reimbursement.approve", item)
        db.commit()
    except LedgerError as refusal:
        db.rollback()
        db.refresh(item)
        return _detail(request, db, staff, item, error=refusal.message)
    await notify_citizen(request, item)
    url = console_path(request, "reimbursement_detail", request_id=request_id)
    return RedirectResponse(f"{url}?msg=approved", status_code=303)


@router.post("/{request_id:int}/respingi", name="reimbursement_reject")
async def reimbursement_reject(
    request: Request,
    db: DbSession,
    staff: Officer,
    request_id: int,
    reason: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    item = _request_or_404(db, request_id)
    try:
        reject_reimbursement(
            db, request=item, reason=reason, reviewer=f"staff:{staff.id}", now=utcnow()
        )
        _audit(db, request, staff, "reimbursement.reject", item)
        db.commit()
    except LedgerError as refusal:
        db.rollback()
        db.refresh(item)
        return _detail(request, db, staff, item, error=refusal.message)
    await notify_citizen(request, item)
    url = console_path(request, "reimbursement_detail", request_id=request_id)
    return RedirectResponse(f"{url}?msg=rejected", status_code=303)
