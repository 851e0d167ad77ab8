"""Login and logout: the only console pages reachable without a session."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from console import audit
from console.auth import CurrentStaff, Db, client_ip, optional_staff, require_staff
from console.config import ConsoleConfig
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

# the first-password page of a provider account is reached by its one-time link
PUBLIC_ROUTES = frozenset(
    {"login_form", "login", "static", "first_password_form", "first_password"}
)

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


def _login(
    session: Session,
    *,
    email: str,
    password: str,
    ip: str,
    user_agent: str,
    config: ConsoleConfig,
) -> tuple[LoginStatus, str, bool]:
    """(status, session token, must change password): the attempt, the audit record and, when
    the password matches, a new session. ``authenticate`` commits the attempt first."""
    now = utcnow()
    outcome = authenticate(session, email=email, password=password, ip=ip, now=now, config=config)
    if outcome.status is LoginStatus.rate_limited:
        audit.record(session, action="login.rate_limited", ip=ip, now=now)
        return outcome.status, "", False
    if outcome.status is LoginStatus.wrong_credentials or outcome.user is None:
        audit.record(session, action="login.failed", ip=ip, now=now)
        return LoginStatus.wrong_credentials, "", False
    user = outcome.user
    assert user.id is not None
    token, _row = start_session(
        session, staff_id=user.id, ip=ip, user_agent=user_agent, now=now, config=config
    )
    audit.record(session, action="login", actor_id=user.id, ip=ip, now=now)
    return LoginStatus.ok, token, user.must_change_password


@router.post("/accesso", name="login")
def login(
    request: Request,
    db: Db,
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
    status, token, must_change = db.run_sync(
        _login,
        email=email,
        password=password,
        ip=client_ip(request),
        user_agent=request.headers.get("user-agent", ""),
        config=console_state(request).config,
    )
    if status is LoginStatus.rate_limited:
        return _login_page(
            request, next_url=next_url, error=RATE_LIMITED, email=email, status_code=429
        )
    if status is not LoginStatus.ok:
        return _login_page(request, next_url=next_url, error=WRONG, email=email, status_code=401)
    target = console_path(request, "account") if must_change else next_url
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(response, request, token)
    clear_login_cookie(response, request)
    return response


def _end_session(session: Session, *, staff: CurrentStaff, ip: str) -> None:
    now = utcnow()
    end_session(session, session_id=staff.session_id, now=now)
    audit.record(session, action="logout", actor_id=staff.id, ip=ip, now=now)


@router.post("/esci", name="logout")
def logout(
    request: Request,
    db: Db,
    staff: Annotated[CurrentStaff, Depends(require_staff(allow_pending_password=True))],
) -> Response:
    db.run_sync(_end_session, staff=staff, ip=client_ip(request))
    response = RedirectResponse(
        console_path(request, "login_form") + "?msg=logout", status_code=303
    )
    clear_session_cookie(response, request)
    return response
