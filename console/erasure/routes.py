"""The erasure requests page (mounted at /cancellazioni; care_manager and admin)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from care.erasure import get_open_request, mark_done
from console import audit
from console.auth import CurrentStaff, DbSession, client_ip, require_roles
from console.erasure.views import erasure_rows
from console.roles import Role
from console.web import console_path, render
from welcome.timeutil import utcnow

ROLES = frozenset({Role.care_manager, Role.admin})
router = APIRouter()
Staff = Annotated[CurrentStaff, Depends(require_roles(*ROLES))]

NOTICES = {
    "done": "Richiesta segnata come evasa.",
    "gone": "Questa richiesta era già stata evasa.",
}
audit.ACTION_LABELS.update({"erasure.done": "richiesta di cancellazione dati evasa"})


@router.get("", name="erasure_requests")
def requests_page(request: Request, db: DbSession, staff: Staff, msg: str = "") -> Response:
    return render(
        request,
        "erasure_requests.html",
        {"rows": erasure_rows(db, staff, now=utcnow()), "notice": NOTICES.get(msg, "")},
        staff=staff,
    )


@router.post("/{request_id:int}/evasa", name="erasure_done")
def request_done(request: Request, db: DbSession, staff: Staff, request_id: int) -> Response:
    found = get_open_request(db, request_id=request_id)
    if found is None:
        url = console_path(request, "erasure_requests")
        return RedirectResponse(f"{url}?msg=gone", status_code=303)
    if not mark_done(db, request_id=request_id, now=utcnow()):
        raise HTTPException(409, "Un collega ha appena evaso questa richiesta.")
    audit.record(
        db,
        action="erasure.done",
        actor_id=staff.id,
        object_type="erasure_request",
        object_id=request_id,
        ip=client_ip(request),
    )
    db.commit()
    url = console_path(request, "erasure_requests")
    return RedirectResponse(f"{url}?msg=done", status_code=303)
