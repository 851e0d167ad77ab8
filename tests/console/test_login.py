"""Login, logout, cookies, rate limits, expiry (through HTTP, on SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

from console_helpers import CONSOLE, MakeStaff, form_token, login, mount_console, signed_in
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from console.auth import SESSION_COOKIE
from core.db import session_scope
from core.settings import Settings
from core.timeutil import utcnow
from staff.models import AuditLog, LoginAttempt, StaffSession, StaffUser
from staff.roles import Role

WRONG = "Email o password non corretti."
TOO_MANY = "Troppi tentativi di accesso"


def test_login_success_sets_a_safe_session_cookie(
    client: TestClient, make_staff: MakeStaff, engine: Engine
) -> None:
    anna = make_staff(Role.care_manager)
    response = login(client, anna.email.upper(), anna.password)
    assert response.status_code == 303
    assert response.headers["location"] == f"{CONSOLE}/"
    cookie = next(
        c for c in response.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE)
    )
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/console" in cookie
    assert "Secure" not in cookie and "Max-Age" not in cookie  # a browser-session cookie
    token = client.cookies[SESSION_COOKIE]
    with session_scope(engine) as db:
        row = db.exec(select(StaffSession)).one()
        assert token not in row.token_hash  # only the hash is stored
        user = db.get(StaffUser, anna.view.id)
        assert user is not None and user.last_login_at is not None
        assert [a.action for a in db.exec(select(AuditLog))] == ["login"]
    assert client.get(f"{CONSOLE}/").status_code == 200


def test_secure_cookie_when_served_over_https(
    engine: Engine, console_settings: Settings, make_staff: MakeStaff
) -> None:
    settings = console_settings.model_copy(update={"console_https": True})
    anna = make_staff()
    app = mount_console(engine, settings)
    with TestClient(app, follow_redirects=False) as client:  # plain http to the app itself
        page = client.get(f"{CONSOLE}/accesso")
        assert "Secure" in page.headers["set-cookie"]  # the setting alone decides
        assert "max-age=31536000" in page.headers["strict-transport-security"]
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as client:
        page = client.get(f"{CONSOLE}/accesso")
        response = client.post(
            f"{CONSOLE}/accesso",
            data={
                "email": anna.email,
                "password": anna.password,
                "csrf_token": form_token(page.text),
            },
        )
        assert response.status_code == 303
        assert all("Secure" in c for c in response.headers.get_list("set-cookie"))


def test_login_redirects_to_next_but_never_outside_the_console(
    client: TestClient, make_staff: MakeStaff
) -> None:
    anna = make_staff(Role.admin)
    assert (
        login(client, anna.email, anna.password, next_url=f"{CONSOLE}/personale").headers[
            "location"
        ]
        == f"{CONSOLE}/personale"
    )
    client.cookies.clear()
    for evil in ("https://evil.example/", "//evil.example/console/", "/altro", "/console\\@evil"):
        response = login(client, anna.email, anna.password, next_url=evil)
        assert response.headers["location"] == f"{CONSOLE}/", evil
        client.cookies.clear()


def test_a_protected_page_sends_the_browser_to_login_and_back(
    client: TestClient, make_staff: MakeStaff
) -> None:
    response = client.get(f"{CONSOLE}/personale", headers={"accept": "text/html"})
    assert response.status_code == 303
    assert response.headers["location"] == f"{CONSOLE}/accesso?next=/console/personale"
    assert client.get(f"{CONSOLE}/personale").status_code == 401  # fetch/JSON callers


def test_wrong_password_unknown_email_and_inactive_account_look_the_same(
    client: TestClient, make_staff: MakeStaff, engine: Engine
) -> None:
    anna = make_staff()
    gone = make_staff()
    with session_scope(engine) as db:
        db.exec(update(StaffUser).where(col(StaffUser.id) == gone.view.id).values(active=False))
    answers = [
        login(client, anna.email, "password sbagliata"),
        login(client, "nessuno@comune.example.it", "password sbagliata"),
        login(client, gone.email, gone.password),
    ]
    for response in answers:
        assert response.status_code == 401
        assert WRONG in response.text
        assert SESSION_COOKIE not in client.cookies
    assert answers[0].text.replace(anna.email, "X") == answers[1].text.replace(
        "nessuno@comune.example.it", "X"
    ).replace(form_token(answers[1].text), form_token(answers[0].text))
    with session_scope(engine) as db:
        assert [a.action for a in db.exec(select(AuditLog))] == ["login.failed"] * 3


def test_login_form_needs_its_token(client: TestClient, make_staff: MakeStaff) -> None:
    anna = make_staff()
    client.get(f"{CONSOLE}/accesso")
    bare = client.post(f"{CONSOLE}/accesso", data={"email": anna.email, "password": anna.password})
    assert bare.status_code == 400 and SESSION_COOKIE not in client.cookies
    forged = client.post(
        f"{CONSOLE}/accesso",
        data={"email": anna.email, "password": anna.password, "csrf_token": "x" * 32},
    )
    assert forged.status_code == 400 and SESSION_COOKIE not in client.cookies


def test_rate_limit_per_email_then_per_address(
    client: TestClient, make_staff: MakeStaff, engine: Engine
) -> None:
    anna = make_staff()
    for _ in range(5):
        assert login(client, anna.email, "password sbagliata").status_code == 401
    # The sixth attempt is refused even with the right password, and says so politely.
    blocked = login(client, anna.email, anna.password)
    assert blocked.status_code == 429 and TOO_MANY in blocked.text
    # Same answer for an email that does not exist: nothing to enumerate.
    for _ in range(5):
        login(client, "fantasma@comune.example.it", "password sbagliata")
    assert login(client, "fantasma@comune.example.it", "x").status_code == 429
    # A colleague on the same address can still log in (12 failures so far, limit 20)...
    bruno = make_staff()
    assert login(client, bruno.email, bruno.password).status_code == 303
    client.cookies.clear()
    # ...until the address itself has failed more than 20 times in the window.
    for n in range(9):
        login(client, f"altro{n}@comune.example.it", "password sbagliata")
    assert login(client, bruno.email, bruno.password).status_code == 429
    # After the window, everyone may try again.
    with session_scope(engine) as db:
        db.exec(update(LoginAttempt).values(attempted_at=utcnow() - timedelta(minutes=16)))
    assert login(client, anna.email, anna.password).status_code == 303


def test_a_success_resets_the_email_counter(client: TestClient, make_staff: MakeStaff) -> None:
    anna = make_staff()
    for _ in range(4):
        login(client, anna.email, "password sbagliata")
    assert login(client, anna.email, anna.password).status_code == 303
    client.cookies.clear()
    for _ in range(5):
        assert login(client, anna.email, "password sbagliata").status_code == 401
    assert login(client, anna.email, anna.password).status_code == 429


def test_logout_ends_the_session_for_good(
    client: TestClient, make_staff: MakeStaff, engine: Engine
) -> None:
    anna = make_staff()
    csrf = signed_in(client, anna)
    token = client.cookies[SESSION_COOKIE]
    response = client.post(f"{CONSOLE}/esci", data={"csrf_token": csrf})
    assert response.status_code == 303
    assert response.headers["location"] == f"{CONSOLE}/accesso?msg=logout"
    assert SESSION_COOKIE not in client.cookies
    # Replaying the old cookie does not work: the session is revoked server-side.
    client.cookies.set(SESSION_COOKIE, token, path=CONSOLE)
    assert client.get(f"{CONSOLE}/").status_code == 401
    with session_scope(engine) as db:
        assert db.exec(select(StaffSession)).one().revoked_at is not None
    page = client.get(f"{CONSOLE}/accesso?msg=logout")
    assert "Sei uscito dalla console." in page.text


def _age_session(engine: Engine, **values: object) -> None:
    with session_scope(engine) as db:
        db.exec(update(StaffSession).values(**values))


def test_idle_expiry(client: TestClient, make_staff: MakeStaff, engine: Engine) -> None:
    signed_in(client, make_staff())
    _age_session(engine, last_seen_at=utcnow() - timedelta(minutes=29))
    assert client.get(f"{CONSOLE}/").status_code == 200  # and this request refreshes it
    _age_session(engine, last_seen_at=utcnow() - timedelta(minutes=31))
    response = client.get(f"{CONSOLE}/", headers={"accept": "text/html"})
    assert response.status_code == 303
    assert response.headers["location"].endswith("msg=expired")
    assert SESSION_COOKIE not in client.cookies  # the stale cookie is dropped


def test_activity_keeps_the_session_alive(
    client: TestClient, make_staff: MakeStaff, engine: Engine
) -> None:
    signed_in(client, make_staff())
    _age_session(engine, last_seen_at=utcnow() - timedelta(minutes=20))
    assert client.get(f"{CONSOLE}/").status_code == 200
    with session_scope(engine) as db:
        seen = db.exec(select(StaffSession)).one().last_seen_at
    assert utcnow() - seen < timedelta(minutes=1)


def test_absolute_expiry(client: TestClient, make_staff: MakeStaff, engine: Engine) -> None:
    signed_in(client, make_staff())
    _age_session(engine, expires_at=utcnow() - timedelta(seconds=1))
    assert client.get(f"{CONSOLE}/").status_code == 401


def test_deactivated_staff_is_out_at_the_next_request(
    client: TestClient, make_staff: MakeStaff, engine: Engine
) -> None:
    anna = make_staff()
    signed_in(client, anna)
    with session_scope(engine) as db:
        db.exec(update(StaffUser).values(active=False))
    assert client.get(f"{CONSOLE}/").status_code == 401


def test_each_login_gets_a_new_token(client: TestClient, make_staff: MakeStaff) -> None:
    anna = make_staff()
    planted = "planted-by-someone-else-" + "x" * 20
    client.cookies.set(SESSION_COOKIE, planted, domain="testserver.local", path=CONSOLE)
    signed_in(client, anna)
    first = client.cookies[SESSION_COOKIE]
    assert first != planted  # a planted cookie is replaced, never adopted (no fixation)
    # Signed in already: the login page goes straight to the console.
    assert client.get(f"{CONSOLE}/accesso").headers["location"] == f"{CONSOLE}/"
    client.cookies.clear()
    signed_in(client, anna)
    assert client.cookies[SESSION_COOKIE] != first


def test_oversized_form_is_a_readable_page(client: TestClient) -> None:
    response = client.post(
        f"{CONSOLE}/accesso",
        data={"email": "x" * 300, "password": "y"},
        headers={"accept": "text/html"},
    )
    assert response.status_code == 422
    assert "Richiesta non valida" in response.text
    assert client.post(f"{CONSOLE}/accesso", data={"email": "x" * 300}).status_code == 422


def test_security_headers(client: TestClient) -> None:
    response = client.get(f"{CONSOLE}/accesso")
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"
    assert "strict-transport-security" not in response.headers  # plain http here
