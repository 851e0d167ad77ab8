"""The staff administration pages (admin role)."""

from __future__ import annotations

import re

from console_helpers import CONSOLE, MakeStaff, form_token, login, signed_in
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import select

from console.staff import get_by_email, list_staff
from core.db import session_scope
from staff.models import AuditLog
from staff.roles import Role

NEW = "tramonto su ponte vecchio"


def _temporary_password(html: str) -> str:
    match = re.search(r'<code id="temporary-password">([^<]+)</code>', html)
    assert match, html
    return match.group(1)


def test_admin_creates_an_account_with_a_temporary_password(
    gateway: FastAPI, make_staff: MakeStaff, engine: Engine
) -> None:
    admin = make_staff(Role.admin)
    with TestClient(gateway, follow_redirects=False) as client:
        csrf = signed_in(client, admin)
        page = client.get(f"{CONSOLE}/personale")
        assert page.status_code == 200 and admin.email in page.text
        response = client.post(
            f"{CONSOLE}/personale",
            data={
                "csrf_token": csrf,
                "email": "Nuova.Collega@Comune.Example.IT",
                "full_name": "Nuova Collega",
                "roles": ["care_manager", "hub_staff"],
                "welcome_place_code": "WP-Q5",
            },
        )
        assert response.status_code == 200
        assert response.headers["cache-control"] == "no-store"
        temporary = _temporary_password(response.text)
    with session_scope(engine) as db:
        person = next(p for p in list_staff(db) if p.email == "nuova.collega@comune.example.it")
        assert person.roles == {Role.care_manager, Role.hub_staff}
        assert person.must_change_password and person.welcome_place_code == "WP-Q5"
        entry = db.exec(select(AuditLog).where(AuditLog.action == "staff.create")).one()
        assert entry.actor_id == admin.view.id and temporary not in entry.detail
    # The newcomer logs in, is sent to the account page, and can do nothing else first.
    with TestClient(gateway, follow_redirects=False) as client:
        response = login(client, "nuova.collega@comune.example.it", temporary)
        assert response.headers["location"] == f"{CONSOLE}/account"
        page = client.get(f"{CONSOLE}/account")
        assert "password è provvisoria" in page.text
        home = client.get(f"{CONSOLE}/", headers={"accept": "text/html"})
        assert home.headers["location"] == f"{CONSOLE}/account"
        changed = client.post(
            f"{CONSOLE}/account/password",
            data={
                "csrf_token": form_token(page.text),
                "current_password": temporary,
                "new_password": NEW,
                "confirm_password": NEW,
            },
        )
        assert changed.status_code == 303
        assert client.get(f"{CONSOLE}/").status_code == 200


def test_create_refusals_keep_the_form(client: TestClient, make_staff: MakeStaff) -> None:
    admin = make_staff(Role.admin)
    csrf = signed_in(client, admin)
    response = client.post(
        f"{CONSOLE}/personale",
        data={
            "csrf_token": csrf,
            "email": admin.email,
            "full_name": "Doppione",
            "roles": ["hub_staff"],
        },
    )
    assert response.status_code == 400
    assert "Esiste già un account" in response.text
    assert 'value="Doppione"' in response.text
    bad_role = client.post(
        f"{CONSOLE}/personale",
        data={"csrf_token": csrf, "email": "x@example.org", "full_name": "X", "roles": ["boss"]},
    )
    assert bad_role.status_code == 400


def test_edit_deactivate_reactivate_and_reset(
    gateway: FastAPI, make_staff: MakeStaff, engine: Engine
) -> None:
    admin = make_staff(Role.admin)
    anna = make_staff(Role.care_manager)
    with (
        TestClient(gateway, follow_redirects=False) as anna_client,
        TestClient(gateway, follow_redirects=False) as client,
    ):
        signed_in(anna_client, anna)
        csrf = signed_in(client, admin)
        url = f"{CONSOLE}/personale/{anna.view.id}"
        assert anna.email in client.get(url).text
        updated = client.post(
            url,
            data={
                "csrf_token": csrf,
                "full_name": "Anna Bianchi",
                "roles": ["welfare_officer"],
                "provider_code": "",
            },
        )
        assert updated.status_code == 303
        assert updated.headers["location"] == f"{url}?msg=updated"
        detail = client.get(updated.headers["location"]).text
        assert "Anna Bianchi" in detail and "Modifiche salvate." in detail
        assert "dati o ruoli modificati" in detail  # the history, in Italian
        # Roles apply at Anna's next request, without logging in again.
        assert "Ufficio welfare" in anna_client.get(f"{CONSOLE}/").text

        off = client.post(f"{url}/stato", data={"csrf_token": csrf, "active": "false"})
        assert off.headers["location"] == f"{url}?msg=deactivated"
        assert anna_client.get(f"{CONSOLE}/").status_code == 401
        assert login(anna_client, anna.email, anna.password).status_code == 401
        on = client.post(f"{url}/stato", data={"csrf_token": csrf, "active": "true"})
        assert on.headers["location"] == f"{url}?msg=reactivated"

        reset = client.post(f"{url}/password", data={"csrf_token": csrf})
        temporary = _temporary_password(reset.text)
        assert login(anna_client, anna.email, anna.password).status_code == 401
        assert login(anna_client, anna.email, temporary).headers["location"] == (
            f"{CONSOLE}/account"
        )
    with session_scope(engine) as db:
        actions = [
            a.action for a in db.exec(select(AuditLog).where(AuditLog.actor_id == admin.view.id))
        ]
        for action in (
            "staff.update",
            "staff.deactivate",
            "staff.reactivate",
            "staff.password_reset",
        ):
            assert action in actions


def test_an_admin_cannot_lock_themselves_out(
    client: TestClient, make_staff: MakeStaff, engine: Engine
) -> None:
    admin = make_staff(Role.admin)
    csrf = signed_in(client, admin)
    url = f"{CONSOLE}/personale/{admin.view.id}"
    assert (
        client.post(f"{url}/stato", data={"csrf_token": csrf, "active": "false"}).status_code == 400
    )
    demoted = client.post(url, data={"csrf_token": csrf, "full_name": "X", "roles": ["hub_staff"]})
    assert demoted.status_code == 400 and "amministrazione" in demoted.text
    assert client.post(f"{url}/password", data={"csrf_token": csrf}).status_code == 400
    with session_scope(engine) as db:
        user = get_by_email(db, email=admin.email)
        assert user is not None and user.active


def test_unknown_account_is_a_404_page(client: TestClient, make_staff: MakeStaff) -> None:
    signed_in(client, make_staff(Role.admin))
    response = client.get(f"{CONSOLE}/personale/999999", headers={"accept": "text/html"})
    assert response.status_code == 404
    assert "Account non trovato." in response.text
