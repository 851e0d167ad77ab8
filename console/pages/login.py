"""Login and logout: the only console pages reachable without a session."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from console import audit
from console.auth import CurrentStaff, DbSession, client_ip, optional_staff, require_staff
from console.cookies import (
    clear_login_cookie,
    clear_session_cookie,
    login_token_ok,
    new_login_nonce,
    set_login_cookie,
    set_session_cookie,
)
from console.sessions import LoginStatus, authenticate, end_session, start_session
from console.state import console_state
from console.web import console_path, console_root, render
from core.timeutil import utcnow

router = APIRouter()

PUBLIC_ROUTES = frozenset({"login_form", "login", "static"})

MESSAGES = {
    "logout": "Sei uscito dalla console.",
    "expired": "La sessione è scaduta: accedi di nuovo.",
    "password": "Password cambiata: accedi con la nuova password.",
}
WRONG = "Email o password non corretti."
RATE_LIMITED = (
    "Troppi tentativi di accesso non riusciti. Per sicurezza l'accesso è sospeso per "
    "qualche minuto: riprova più tardi. Se hai dimenticato la password, chiedi "
    "all'amministrazione di reimpostarla."
)
STALE_FORM = "La pagina di accesso è scaduta: riprova."


def safe_next(request: Request, target: str | None) -> str:
    """Where to go after login: only a path inside the console (no open redirect)."""
    root = console_root(request)
    if (
        target
        and target.startswith(root)
        and not target.startswith("//")
        and "\\" not in target
        and not target.startswith(console_path(request, "login_form"))
    ):
        return target
    return root


def _login_page(
    request: Request,
    *,
    next_url: str,
    error: str = "",
    notice: str = "",
    email: str = "",
    status_code: int = 200,
) -> Response:
    nonce = new_login_nonce()
    response = render(
        request,
        "login.html",
        {"login_token": nonce, "next": next_url, "error": error, "notice": notice, "email": email},
        status_code=status_code,
    )
    set_login_cookie(response, request, nonce)
    return response


@router.get("/accesso", name="login_form")
def login_form(
    request: Request,
    staff: Annotated[CurrentStaff | None, Depends(optional_staff)],
    next: str = "",
    msg: str = "",
) -> Response:
    if staff is not None:
        return RedirectResponse(safe_next(request, next), status_code=303)
    return _login_page(request, next_url=safe_next(request, next), notice=MESSAGES.get(msg, ""))


@router.post("/accesso", name="login")
def login(
    request: Request,
    db: DbSession,
    email: Annotated[str, Form(max_length=254)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    next_url = safe_next(request, next)
    if not login_token_ok(request, csrf_token):
        return _login_page(
            request, next_url=next_url, error=STALE_FORM, email=email, status_code=400
        )
    config = console_state(request).config
    now = utcnow()
    ip = client_ip(request)
    outcome = authenticate(db, email=email, password=password, ip=ip, now=now, config=config)
    if outcome.status is LoginStatus.rate_limited:
        audit.record(db, action="login.rate_limited", ip=ip, now=now)
        db.commit()
        return _login_page(
            request, next_url=next_url, error=RATE_LIMITED, email=email, status_code=429
        )
    if outcome.status is LoginStatus.wrong_credentials or outcome.user is None:
        audit.record(db, action="login.failed", ip=ip, now=now)
        db.commit()
        return _login_page(request, next_url=next_url, error=WRONG, email=email, status_code=401)
    user = outcome.user
    assert user.id is not None
    token, _row = start_session(
        db,
        staff_id=user.id,
        ip=ip,
        user_agent=request.headers.get("user-agent", ""),
        now=now,
        config=config,
    )
    audit.record(db, action="login", actor_id=user.id, ip=ip, now=now)
    db.commit()
    target = console_path(request, "account") if user.must_change_password else next_url
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(response, request, token)
    clear_login_cookie(response, request)
    return response


def _logout(request: Request, db: Session, staff: CurrentStaff, *, msg: str) -> Response:
    now = utcnow()
    end_session(db, session_id=staff.session_id, now=now)
    audit.record(db, action="logout", actor_id=staff.id, ip=client_ip(request), now=now)
    db.commit()
    response = RedirectResponse(
        console_path(request, "login_form") + f"?msg={msg}", status_code=303
    )
    clear_session_cookie(response, request)
    return response


@router.post("/esci", name="logout")
def logout(
    request: Request,
    db: DbSession,
    staff: Annotated[CurrentStaff, Depends(require_staff(allow_pending_password=True))],
) -> Response:
    return _logout(request, db, staff, msg="logout")
