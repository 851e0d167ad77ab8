"""Changing one's own password from the account page."""

from __future__ import annotations

from console_helpers import CONSOLE, PASSWORD, MakeStaff, login, signed_in
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import select

from console.auth import SESSION_COOKIE
from core.db import session_scope
from staff.models import AuditLog

NEW = "tramonto su ponte vecchio"


def _change(client: TestClient, csrf: str, current: str, new: str, confirm: str | None = None):
    return client.post(
        f"{CONSOLE}/account/password",
        data={
            "csrf_token": csrf,
            "current_password": current,
            "new_password": new,
            "confirm_password": new if confirm is None else confirm,
        },
    )


def test_change_password_renews_the_session_and_ends_the_others(
    gateway: FastAPI, make_staff: MakeStaff, engine: Engine
) -> None:
    anna = make_staff()
    with (
        TestClient(gateway, follow_redirects=False) as here,
        TestClient(gateway, follow_redirects=False) as elsewhere,
    ):
        csrf = signed_in(here, anna)
        signed_in(elsewhere, anna)
        old_cookie = here.cookies[SESSION_COOKIE]
        response = _change(here, csrf, PASSWORD, NEW)
        assert response.status_code == 303
        assert response.headers["location"] == f"{CONSOLE}/account?msg=changed"
        assert here.cookies[SESSION_COOKIE] != old_cookie
        assert "Password cambiata" in here.get(f"{CONSOLE}/account?msg=changed").text
        assert elsewhere.get(f"{CONSOLE}/").status_code == 401
    with TestClient(gateway, follow_redirects=False) as fresh:
        assert login(fresh, anna.email, PASSWORD).status_code == 401
        assert login(fresh, anna.email, NEW).status_code == 303
    with session_scope(engine) as db:
        actions = [a.action for a in db.exec(select(AuditLog))]
        assert "password.change" in actions


def test_change_password_refusals(client: TestClient, make_staff: MakeStaff) -> None:
    anna = make_staff()
    csrf = signed_in(client, anna)
    cases = [
        (("password sbagliata", NEW, None), "La password attuale non è corretta."),
        ((PASSWORD, NEW, NEW + "x"), "non coincidono"),
        ((PASSWORD, PASSWORD, None), "diversa da quella attuale"),
        ((PASSWORD, "corta", None), "almeno 12 caratteri"),
        ((PASSWORD, anna.email, None), "uguale all&#39;email"),
    ]
    for (current, new, confirm), message in cases:
        response = _change(client, csrf, current, new, confirm)
        assert response.status_code == 400, message
        assert message in response.text
    client.cookies.clear()
    assert login(client, anna.email, PASSWORD).status_code == 303  # unchanged


def test_guessing_the_current_password_hits_the_login_limit(
    client: TestClient, make_staff: MakeStaff
) -> None:
    anna = make_staff()
    csrf = signed_in(client, anna)
    for _ in range(5):
        assert _change(client, csrf, "tentativo sbagliato", NEW).status_code == 400
    response = _change(client, csrf, PASSWORD, NEW)
    assert response.status_code == 429 and "Troppi tentativi" in response.text
