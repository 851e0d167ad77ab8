"""Your own account: details and password change."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from console import audit
from console.auth import CurrentStaff, DbSession, client_ip, require_staff
from console.cookies import set_session_cookie
from console.pages.login import RATE_LIMITED
from console.sessions import LoginStatus, authenticate, start_session
from console.staff import StaffError, get_view, set_password
from console.state import console_state
from console.web import console_path, render
from core.timeutil import utcnow

router = APIRouter()

SignedIn = Annotated[CurrentStaff, Depends(require_staff(allow_pending_password=True))]

NOTICES = {
    "changed": "Password cambiata. Le altre sessioni aperte con il tuo account sono state chiuse."
}


def _page(
    request: Request,
    db: DbSession,
    staff: CurrentStaff,
    *,
    error: str = "",
    notice: str = "",
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "account.html",
        {"account": get_view(db, staff_id=staff.id), "error": error, "notice": notice},
        staff=staff,
        status_code=status_code,
    )


@router.get("/account", name="account")
def account(request: Request, db: DbSession, staff: SignedIn, msg: str = "") -> Response:
    return _page(request, db, staff, notice=NOTICES.get(msg, ""))


@router.post("/account/password", name="change_password")
def change_password(
    request: Request,
    db: DbSession,
    staff: SignedIn,
    current_password: Annotated[str, Form(max_length=1024)] = "",
    new_password: Annotated[str, Form(max_length=1024)] = "",
    confirm_password: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    config = console_state(request).config
    checked = authenticate(
        db,
        email=staff.email,
        password=current_password,
        ip=client_ip(request),
        now=utcnow(),
        config=config,
        is_login=False,
    )
    if checked.status is LoginStatus.rate_limited:
        return _page(request, db, staff, error=RATE_LIMITED, status_code=429)
    if checked.status is not LoginStatus.ok:
        return _page(
            request, db, staff, error="La password attuale non è corretta.", status_code=400
        )
    if new_password != confirm_password:
        return _page(
            request, db, staff, error="Le due nuove password non coincidono.", status_code=400
        )
    if new_password == current_password:
        return _page(
            request,
            db,
            staff,
            error="La nuova password deve essere diversa da quella attuale.",
            status_code=400,
        )
    now = utcnow()
    try:
        # Every session of this account ends, this one included; a fresh one replaces it.
        set_password(db, staff_id=staff.id, password=new_password, must_change=False, now=now)
    except StaffError as problem:
        db.rollback()
        return _page(request, db, staff, error=str(problem), status_code=400)
    token, _row = start_session(
        db,
        staff_id=staff.id,
        ip=client_ip(request),
        user_agent=request.headers.get("user-agent", ""),
        now=now,
        config=config,
    )
    audit.record(db, action="password.change", actor_id=staff.id, ip=client_ip(request), now=now)
    db.commit()
    response = RedirectResponse(console_path(request, "account") + "?msg=changed", status_code=303)
    set_session_cookie(response, request, token)
    return response
