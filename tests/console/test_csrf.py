"""CSRF: state-changing requests need the token bound to the session (form field or header)."""

from __future__ import annotations

from console_helpers import CONSOLE, PASSWORD, MakeStaff, signed_in
from fastapi import FastAPI
from fastapi.testclient import TestClient

from console.auth import CSRF_HEADER
from staff.roles import Role

NEW = "tramonto su ponte vecchio"


def _change(client: TestClient, **extra: object):
    data = {"current_password": PASSWORD, "new_password": NEW, "confirm_password": NEW}
    headers = extra.pop("headers", None)
    data.update(extra)  # type: ignore[arg-type]
    return client.post(f"{CONSOLE}/account/password", data=data, headers=headers)


def test_form_without_token_is_refused(client: TestClient, make_staff: MakeStaff) -> None:
    signed_in(client, make_staff())
    response = _change(client)
    assert response.status_code == 403
    assert "ricarica la pagina" in response.json()["detail"]


def test_form_with_wrong_token_is_refused(client: TestClient, make_staff: MakeStaff) -> None:
    csrf = signed_in(client, make_staff())
    assert (
        _change(client, csrf_token=csrf[:-1] + ("0" if csrf[-1] != "0" else "1")).status_code == 403
    )
    assert _change(client, csrf_token="").status_code == 403


def test_token_of_another_session_is_refused(gateway: FastAPI, make_staff: MakeStaff) -> None:
    anna, bruno = make_staff(), make_staff()
    with (
        TestClient(gateway, follow_redirects=False) as a,
        TestClient(gateway, follow_redirects=False) as b,
    ):
        signed_in(a, anna)
        bruno_token = signed_in(b, bruno)
        assert _change(a, csrf_token=bruno_token).status_code == 403


def test_html_form_refusal_is_a_readable_page(client: TestClient, make_staff: MakeStaff) -> None:
    signed_in(client, make_staff())
    response = _change(client, headers={"accept": "text/html"})
    assert response.status_code == 403
    assert "<h1>Accesso non consentito</h1>" in response.text
    assert "ricarica la pagina" in response.text


def test_right_token_in_form_or_header_passes(client: TestClient, make_staff: MakeStaff) -> None:
    csrf = signed_in(client, make_staff(Role.hub_staff))
    assert _change(client, csrf_token=csrf).status_code == 303
    # fetch()-style call: token in the header (console.js does this); the session was renewed
    # by the password change, so the token is the new one.
    home = client.get(f"{CONSOLE}/")
    new_csrf = home.text.split('name="csrf-token" content="')[1].split('"')[0]
    assert new_csrf != csrf
    response = client.post(
        f"{CONSOLE}/account/password",
        data={"current_password": NEW, "new_password": PASSWORD, "confirm_password": PASSWORD},
        headers={CSRF_HEADER: new_csrf},
    )
    assert response.status_code == 303


def test_logout_needs_the_token_too(client: TestClient, make_staff: MakeStaff) -> None:
    csrf = signed_in(client, make_staff())
    assert client.post(f"{CONSOLE}/esci").status_code == 403
    assert client.get(f"{CONSOLE}/").status_code == 200  # still signed in
    assert client.post(f"{CONSOLE}/esci", data={"csrf_token": csrf}).status_code == 303
