"""Voucher redemption for provider staff (mounted at /voucher): a page with a form, and a
JSON API (``POST /voucher/api/riscatta`` with ``{"code": "..."}`` and the X-CSRF-Token
header) under the same role and CSRF rules. A member of staff redeems only the vouchers of
their own provider (``CurrentStaff.provider_code``); another provider's code is 'not found'.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from sqlmodel import Session

from console import audit
from console.auth import CurrentStaff, Db, client_ip, require_roles
from console.web import render
from core.timeutil import utcnow
from staff.roles import Role
from welfare.ledger.codes import normalise
from welfare.ledger.errors import LedgerError
from welfare.ledger.money import format_eur
from welfare.models import VOUCHER_STATUS_LABELS, Voucher
from welfare.vouchers import format_voucher_code, redeem_voucher

router = APIRouter()
ProviderStaff = Annotated[CurrentStaff, Depends(require_roles(Role.provider_staff))]

# the wording of this section's audit actions (its Section.audit_labels)
AUDIT_LABELS: dict[str, str] = {"voucher.redeem": "voucher riscattato"}


class RedeemRequest(BaseModel):
    code: str = Field(min_length=4, max_length=20)


def _voucher_json(voucher: Voucher) -> dict[str, object]:
    return {
        "code": format_voucher_code(voucher.code),
        "status": voucher.status.value,
        "service_code": voucher.service_code,
        "price_cents": voucher.price_cents,
        "covered_cents": voucher.covered_cents,
        "to_pay_cents": voucher.uncovered_cents,
    }


def _redeem(session: Session, *, staff: CurrentStaff, code: str, ip: str) -> Voucher:
    """The redemption and its audit record, in one transaction (a LedgerError rolls back)."""
    voucher = redeem_voucher(
        session,
        code=code,
        provider_code=staff.provider_code or "",
        actor=f"staff:{staff.id}",
        now=utcnow(),
    )
    audit.record(
        session,
        action="voucher.redeem",
        actor_id=staff.id,
        object_type="voucher",
        object_id=voucher.code,
        ip=ip,
    )
    return voucher


@router.get("", name="vouchers")
def vouchers_page(
    request: Request,
    staff: ProviderStaff,
    codice: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    """The form; ``?codice=`` (what the voucher's QR opens) fills the code in. A GET never
    redeems: the member of staff checks it and presses «Riscatta»."""
    prefill = normalise(codice)
    if not re.fullmatch(r"[A-Z0-9]{8}", prefill):
        prefill = ""
    return render(
        request,
        "welfare_vouchers.html",
        {"prefill": format_voucher_code(prefill) if prefill else ""},
        staff=staff,
    )


@router.post("", name="voucher_redeem")
def voucher_redeem(
    request: Request,
    db: Db,
    staff: ProviderStaff,
    code: Annotated[str, Form(max_length=20)],
) -> Response:
    try:
        voucher = db.run_sync(_redeem, staff=staff, code=code, ip=client_ip(request))
    except LedgerError as error:
        return render(
            request, "welfare_vouchers.html", {"error": error.message}, staff=staff, status_code=409
        )
    return render(
        request,
        "welfare_vouchers.html",
        {
            "notice": "Voucher riscattato.",
            "voucher": voucher,
            "code": format_voucher_code(voucher.code),
            "status": VOUCHER_STATUS_LABELS[voucher.status],
            "eur": format_eur,
        },
        staff=staff,
    )


@router.post("/api/riscatta", name="voucher_redeem_api")
def voucher_redeem_api(
    request: Request, db: Db, staff: ProviderStaff, body: RedeemRequest
) -> Response:
    try:
        voucher = db.run_sync(_redeem, staff=staff, code=body.code, ip=client_ip(request))
    except LedgerError as error:
        return JSONResponse({"detail": error.message}, status_code=409)
    return JSONResponse(_voucher_json(voucher))
