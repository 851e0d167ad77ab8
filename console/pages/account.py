"""Your own account: details and password change."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from console import audit
from console.auth import CurrentStaff, Db, client_ip, require_staff
from console.config import ConsoleConfig
from console.cookies import set_session_cookie
from console.pages.login import RATE_LIMITED
from console.sessions import LoginStatus, authenticate, start_session
from console.staff import StaffError, get_view, set_password
from console.state import console_state
from console.web import console_path, render
from core.database import Database
from core.timeutil import utcnow

router = APIRouter()

SignedIn = Annotated[CurrentStaff, Depends(require_staff(allow_pending_password=True))]

NOTICES = {
    "changed": "Password cambiata. Le altre sessioni aperte con il tuo account sono state chiuse."
}


def _page(
    request: Request,
    db: Database,
    staff: CurrentStaff,
    *,
    error: str = "",
    notice: str = "",
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "account.html",
        {
            "account": db.run_sync(get_view, staff_id=staff.id),
            "error": error,
            "notice": notice,
        },
        staff=staff,
        status_code=status_code,
    )


@router.get("/account", name="account")
def account(request: Request, db: Db, staff: SignedIn, msg: str = "") -> Response:
    return _page(request, db, staff, notice=NOTICES.get(msg, ""))


class _Refused(Exception):
    def __init__(self, message: str, status_code: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code


def _change_password(
    session: Session,
    *,
    staff: CurrentStaff,
    current_password: str,
    new_password: str,
    confirm_password: str,
    ip: str,
    user_agent: str,
    config: ConsoleConfig,
) -> str:
    """The new password, a fresh session (its token returned) and the audit record, in one
    transaction; ``authenticate`` commits the attempt first. Refusals raise ``_Refused``."""
    checked = authenticate(
        session,
        email=staff.email,
        password=current_password,
        ip=ip,
        now=utcnow(),
        config=config,
        is_login=False,
    )
    if checked.status is LoginStatus.rate_limited:
        raise _Refused(RATE_LIMITED, 429)
    if checked.status is not LoginStatus.ok:
        raise _Refused("La password attuale non è corretta.")
    if new_password != confirm_password:
        raise _Refused("Le due nuove password non coincidono.")
    if new_password == current_password:
        raise _Refused("La nuova password deve essere diversa da quella attuale.")
    now = utcnow()
    try:
        # Every session of this account ends, this one included; a fresh one replaces it.
        set_password(session, staff_id=staff.id, password=new_password, must_change=False, now=now)
    except StaffError as problem:
        raise _Refused(str(problem)) from problem
    token, _row = start_session(
        session, staff_id=staff.id, ip=ip, user_agent=user_agent, now=now, config=config
    )
    audit.record(session, action="password.change", actor_id=staff.id, ip=ip, now=now)
    return token


@router.post("/account/password", name="change_password")
def change_password(
    request: Request,
    db: Db,
    staff: SignedIn,
    current_password: Annotated[str, Form(max_length=1024)] = "",
    new_password: Annotated[str, Form(max_length=1024)] = "",
    confirm_password: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    try:
        token = db.run_sync(
            _change_password,
            staff=staff,
            current_password=current_password,
            new_password=new_password,
            confirm_password=confirm_password,
            ip=client_ip(request),
            user_agent=request.headers.get("user-agent", ""),
            config=console_state(request).config,
        )
    except _Refused as refusal:
        return _page(request, db, staff, error=refusal.message, status_code=refusal.status_code)
    response = RedirectResponse(console_path(request, "account") + "?msg=changed", status_code=303)
    set_session_cookie(response, request, token)
    return response
