"""Who is asking: the session cookie, role checks and CSRF checks, as FastAPI dependencies.

Every console route depends on ``require_roles(...)`` (or sits in a section whose router
does): it loads the staff member behind the session cookie, refuses anyone without one of
the roles, and on state-changing requests (POST, PUT, PATCH, DELETE) refuses a missing or
wrong CSRF token (form field ``csrf_token`` or header ``X-CSRF-Token``). Websockets are
checked for the role and for a same-origin ``Origin`` header instead.

    from console.auth import CurrentStaff, require_roles
    from staff.roles import Role

    @router.get("")
    def queue(staff: Annotated[CurrentStaff, Depends(require_roles(Role.care_manager))]): ...
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import Depends, HTTPException, Request, WebSocketException, status
from fastapi.requests import HTTPConnection
from sqlmodel import Session

from console.config import ConsoleConfig
from console.security import csrf_token_for, same_secret
from console.sessions import load_session
from console.staff import roles_of
from console.state import console_state
from core.database import Database
from core.net import client_address
from core.timeutil import utcnow
from staff.models import StaffSession, StaffUser
from staff.roles import ALL_ROLES, Role

SESSION_COOKIE = "welcome_console"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


@dataclass(frozen=True)
class CurrentStaff:
    """The member of staff behind the request (a snapshot, not a database row)."""

    id: int
    email: str
    full_name: str
    roles: frozenset[Role]
    welcome_place_code: str | None
    provider_code: str | None
    must_change_password: bool
    session_id: int
    csrf_token: str

    def has_role(self, *roles: Role) -> bool:
        return bool(self.roles.intersection(roles))


# --- refusals, rendered by the console app's exception handlers -------------------------


class NotAuthenticated(HTTPException):
    def __init__(self) -> None:
        super().__init__(status.HTTP_401_UNAUTHORIZED, "Accesso richiesto.")


class Forbidden(HTTPException):
    def __init__(self, detail: str = "Non hai i permessi per questa pagina.") -> None:
        super().__init__(status.HTTP_403_FORBIDDEN, detail)


class CsrfRefused(Forbidden):
    def __init__(self) -> None:
        super().__init__("Il modulo è scaduto o non è valido: ricarica la pagina e riprova.")


class PasswordChangeRequired(Forbidden):
    def __init__(self) -> None:
        super().__init__("Prima di continuare scegli una nuova password.")


# --- dependencies ------------------------------------------------------------------------


def get_config(conn: HTTPConnection) -> ConsoleConfig:
    return console_state(conn).config


def get_database(conn: HTTPConnection) -> Database:
    """The console's database: ``db.run_sync(work, **kw)`` in a sync endpoint (FastAPI runs
    those in its threadpool), ``await db.run(work, **kw)`` in an async one. Either runs
    ``work(session, **kw)`` in one transaction, committed when it returns, rolled back when it
    raises: what must commit together (a change and its audit record) goes in one ``work``."""
    return console_state(conn).db


Db = Annotated[Database, Depends(get_database)]


def client_ip(conn: HTTPConnection) -> str:
    """The client's address: the TCP peer, or X-Forwarded-For's client when the peer is one
    of TRUSTED_PROXIES (core.net; login limits and the audit count on it)."""
    peer = conn.client.host if conn.client else ""
    return client_address(peer, conn.headers, console_state(conn).config.trusted_proxies)


def _load_session(
    session: Session, *, token: str, config: ConsoleConfig
) -> tuple[StaffSession, StaffUser, frozenset[Role]] | None:
    found = load_session(session, token=token, now=utcnow(), config=config)
    if found is None:
        return None
    row, user = found
    return row, user, roles_of(session, staff_id=row.staff_user_id)


def optional_staff(conn: HTTPConnection) -> CurrentStaff | None:
    """The staff member behind the session cookie, or None (no cookie, expired, revoked)."""
    token = conn.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    state = console_state(conn)
    return _as_staff(state.db.run_sync(_load_session, token=token, config=state.config), token)


async def optional_staff_async(conn: HTTPConnection) -> CurrentStaff | None:
    """``optional_staff`` for async code (the live websocket's re-checks): the database work
    runs in a worker thread."""
    token = conn.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    state = console_state(conn)
    return _as_staff(await state.db.run(_load_session, token=token, config=state.config), token)


def _as_staff(found: Any, token: str) -> CurrentStaff | None:
    if found is None:
        return None
    row, user, roles = found
    assert row.id is not None and user.id is not None
    return CurrentStaff(
        id=user.id,
        email=user.email,
        full_name=user.full_name,
        roles=roles,
        welcome_place_code=user.welcome_place_code,
        provider_code=user.provider_code,
        must_change_password=user.must_change_password,
        session_id=row.id,
        csrf_token=csrf_token_for(token),
    )


async def check_csrf(request: Request, expected: str) -> None:
    """Refuse a state-changing request whose CSRF token is missing or wrong."""
    given = request.headers.get(CSRF_HEADER)
    if given is None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            value = (await request.form()).get(CSRF_FIELD)
            given = value if isinstance(value, str) else None
    if not same_secret(given, expected):
        raise CsrfRefused()


def _same_origin(conn: HTTPConnection) -> bool:
    origin = conn.headers.get("origin")
    if not origin:
        return False
    return urlsplit(origin).netloc.lower() == conn.headers.get("host", "").lower()


class RoleRequirement:
    """The dependency ``require_roles`` returns; tests find it in every route's dependencies."""

    def __init__(self, roles: frozenset[Role], *, allow_pending_password: bool = False) -> None:
        self.roles = roles
        self.allow_pending_password = allow_pending_password

    def __repr__(self) -> str:
        return f"require_roles({', '.join(sorted(self.roles))})"

    async def __call__(
        self,
        conn: HTTPConnection,
        staff: Annotated[CurrentStaff | None, Depends(optional_staff)],
    ) -> CurrentStaff:
        websocket = conn.scope["type"] == "websocket"
        if staff is None:
            if websocket:
                raise WebSocketException(status.WS_1008_POLICY_VIOLATION, "login required")
            raise NotAuthenticated()
        if staff.must_change_password and not self.allow_pending_password:
            if websocket:
                raise WebSocketException(status.WS_1008_POLICY_VIOLATION, "password change")
            raise PasswordChangeRequired()
        if not staff.roles & self.roles:
            if websocket:
                raise WebSocketException(status.WS_1008_POLICY_VIOLATION, "forbidden")
            raise Forbidden()
        if websocket:
            if not _same_origin(conn):
                raise WebSocketException(status.WS_1008_POLICY_VIOLATION, "cross-origin")
        elif conn.scope["method"] not in SAFE_METHODS:
            assert isinstance(conn, Request)
            await check_csrf(conn, staff.csrf_token)
        return staff


def require_roles(*roles: Role, allow_pending_password: bool = False) -> Any:
    """A dependency admitting staff holding at least one of ``roles`` (every role when none is
    given), checking CSRF on state-changing requests. Returns the ``CurrentStaff``."""
    return RoleRequirement(
        frozenset(roles) or ALL_ROLES, allow_pending_password=allow_pending_password
    )


def require_staff(*, allow_pending_password: bool = False) -> Any:
    """Any signed-in member of staff, whatever their roles."""
    return require_roles(allow_pending_password=allow_pending_password)
