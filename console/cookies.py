"""The console's cookies: the session cookie and the login form's signed CSRF cookie."""

from __future__ import annotations

import hmac
import secrets

from fastapi.requests import HTTPConnection
from fastapi.responses import Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from console.auth import SESSION_COOKIE
from console.state import console_state
from console.web import console_root

LOGIN_COOKIE = "welcome_console_login"
LOGIN_FORM_MAX_AGE = 2 * 3600  # seconds a login page stays usable


def _secure(conn: HTTPConnection) -> bool:
    return console_state(conn).config.https or conn.url.scheme == "https"


def _cookie_path(conn: HTTPConnection) -> str:
    return console_root(conn).rstrip("/") or "/"


def set_session_cookie(response: Response, conn: HTTPConnection, token: str) -> None:
    """A browser-session cookie (gone when the browser closes); the server enforces expiry."""
    response.set_cookie(
        SESSION_COOKIE,
        token,
        path=_cookie_path(conn),
        httponly=True,
        samesite="lax",
        secure=_secure(conn),
    )


def clear_session_cookie(response: Response, conn: HTTPConnection) -> None:
    response.delete_cookie(
        SESSION_COOKIE, path=_cookie_path(conn), httponly=True, samesite="lax", secure=_secure(conn)
    )


def _serializer(conn: HTTPConnection) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(console_state(conn).config.secret_key, salt="console-login")


def new_login_nonce() -> str:
    return secrets.token_urlsafe(24)


def set_login_cookie(response: Response, conn: HTTPConnection, nonce: str) -> None:
    """Double-submit token for the login form: the cookie holds it signed, the form plain."""
    response.set_cookie(
        LOGIN_COOKIE,
        _serializer(conn).dumps(nonce),
        path=_cookie_path(conn),
        max_age=LOGIN_FORM_MAX_AGE,
        httponly=True,
        samesite="lax",
        secure=_secure(conn),
    )


def login_token_ok(conn: HTTPConnection, given: str) -> bool:
    signed = conn.cookies.get(LOGIN_COOKIE)
    if not signed or not given:
        return False
    try:
        nonce = _serializer(conn).loads(signed, max_age=LOGIN_FORM_MAX_AGE)
    except BadSignature:
        return False
    return isinstance(nonce, str) and hmac.compare_digest(nonce.encode(), given.encode())


def clear_login_cookie(response: Response, conn: HTTPConnection) -> None:
    response.delete_cookie(LOGIN_COOKIE, path=_cookie_path(conn), secure=_secure(conn))
