"""Every route of the hand-off section refuses anyone but a Care Manager (and state changes
without the CSRF token), enumerated from the console built with console.app.SECTIONS; and a Care
Manager sees only the queue and their own conversations (console.scope)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from starlette.websockets import WebSocketDisconnect

from care import handoff as core
from care.sla import OfficeHours
from console import handoff
from console.app import SECTIONS, build_console, is_websocket, iter_routes, role_requirements
from console.auth import CSRF_HEADER
from console.pages.login import PUBLIC_ROUTES
from core.db import session_scope
from core.settings import Settings
from core.timeutil import utcnow
from staff.roles import ALL_ROLES, Role
from tests.handoff.conftest import PASSWORD, make_care_manager

_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
OPEN = OfficeHours.parse("tutti i giorni 00:00-24:00")


@pytest.fixture
def gateway(engine: Engine, tmp_path) -> FastAPI:
    settings = Settings(var_dir=tmp_path, secret_key="test-secret-key-" + "x" * 32)
    app = FastAPI()
    app.mount("/console", build_console(settings, engine=engine))  # sections: SECTIONS
    return app


@pytest.fixture
def client(gateway: FastAPI) -> Iterator[TestClient]:
    with TestClient(gateway, follow_redirects=False) as test_client:
        yield test_client


def _console(gateway: FastAPI) -> FastAPI:
    return next(r.app for r in gateway.routes if getattr(r, "path", "") == "/console")


def _allowed(route: Any) -> frozenset[Role]:
    allowed = ALL_ROLES
    for requirement in role_requirements(route):
        allowed = allowed & requirement.roles
    return allowed


def _ours(app: FastAPI) -> list[Any]:
    return [r for r in iter_routes(app) if r.path.startswith("/coda")]


def _http(app: FastAPI) -> list[tuple[str, str]]:
    found = []
    for route in _ours(app):
        if is_websocket(route):
            continue
        for method in sorted(route.methods - {"HEAD"}):
            found.append((method, "/console" + re.sub(r"\{[^}]+\}", "1", route.path)))
    return found


def sign_in(client: TestClient, email: str) -> str:
    page = client.get("/console/accesso")
    token = _TOKEN.search(page.text)
    assert token
    response = client.post(
        "/console/accesso",
        data={"email": email, "password": PASSWORD, "csrf_token": token.group(1)},
    )
    assert response.status_code == 303
    found = _TOKEN.search(client.get("/console/").text)
    assert found
    return found.group(1)


# the team's settings and canned-reply edits: admins only (issue 13, console/handoff/team.py)
TEAM_ADMIN_NAMES = {
    "handoff_canned_save",
    "handoff_canned_toggle",
    "handoff_settings",
    "handoff_settings_save",
}
TEAM_ADMIN_URLS = {
    ("POST", "/console/coda/risposte"),
    ("POST", "/console/coda/risposte/1/stato"),
    ("GET", "/console/coda/impostazioni"),
    ("POST", "/console/coda/impostazioni"),
}


def test_the_section_is_registered_and_only_for_care_managers(gateway: FastAPI) -> None:
    assert handoff.SECTION in SECTIONS
    app = _console(gateway)
    routes = _ours(app)
    assert len(routes) >= 18
    for route in routes:
        assert route.name not in PUBLIC_ROUTES
        expected = Role.admin if route.name in TEAM_ADMIN_NAMES else Role.care_manager
        assert _allowed(route) == frozenset({expected}), route.path
    assert any(is_websocket(r) for r in routes)


def test_anonymous_callers_are_refused(gateway: FastAPI, client: TestClient) -> None:
    for method, url in _http(_console(gateway)):
        assert client.request(method, url).status_code == 401, (method, url)
        html = client.request(method, url, headers={"accept": "text/html"})
        assert html.status_code == 303 and "/console/accesso" in html.headers["location"]
    with (
        pytest.raises(WebSocketDisconnect) as closed,
        client.websocket_connect(
            "/console/coda/diretta", headers={"origin": "http://testserver"}
        ) as ws,
    ):
        ws.receive_json()
    assert closed.value.code == 1008


def test_other_roles_are_refused(gateway: FastAPI, engine: Engine) -> None:
    others = make_care_manager(engine, *(ALL_ROLES - {Role.care_manager}))
    with TestClient(gateway, follow_redirects=False) as client:
        csrf = sign_in(client, others.email)
        for method, url in _http(_console(gateway)):
            if (method, url) in TEAM_ADMIN_URLS:
                continue  # an admin's (tests/handoff/test_team_settings_roles.py)
            response = client.request(method, url, headers={CSRF_HEADER: csrf})
            assert response.status_code == 403, (method, url)
        with (
            pytest.raises(WebSocketDisconnect),
            client.websocket_connect(
                "/console/coda/diretta", headers={"origin": "http://testserver"}
            ) as ws,
        ):
            ws.receive_json()


def test_care_managers_are_admitted_but_need_the_csrf_token(
    gateway: FastAPI, engine: Engine
) -> None:
    member = make_care_manager(engine)
    with TestClient(gateway, follow_redirects=False) as client:
        sign_in(client, member.email)
        for method, url in _http(_console(gateway)):
            response = client.request(method, url)
            if (method, url) in TEAM_ADMIN_URLS:
                assert response.status_code == 403, (method, url)  # admins only
            elif method == "GET":
                assert response.status_code not in (401, 403, 500), (method, url)
            else:
                assert response.status_code == 403, (method, url)
                assert "modulo è scaduto" in response.json()["detail"]


def test_a_care_manager_sees_only_the_queue_and_their_own(gateway: FastAPI, engine: Engine) -> None:
    anna, bruno = make_care_manager(engine, name="Anna"), make_care_manager(engine, name="Bruno")
    now = utcnow()
    with session_scope(engine) as session:
        ids = []
        for n in range(3):
            requested = core.request_handoff(
                session, conversation_id=f"{n:032x}", now=now, office=OPEN
            )
            ids.append(requested.handoff.id)
    waiting, annas, brunos = ids
    with session_scope(engine) as session:
        assert core.claim(session, handoff_id=annas, staff_id=anna.id, now=now)
        assert core.claim(session, handoff_id=brunos, staff_id=bruno.id, now=now)
    with TestClient(gateway, follow_redirects=False) as client:
        csrf = sign_in(client, anna.email)
        queue = client.get("/console/coda/elenco").text
        assert f"n. {waiting}" in queue and f"Apri n. {annas}" in queue
        assert f"n. {brunos}" not in queue
        assert client.get(f"/console/coda/{waiting}").status_code == 200
        assert client.get(f"/console/coda/{annas}").status_code == 200
        assert client.get(f"/console/coda/{brunos}").status_code == 404
        assert client.get(f"/console/coda/{brunos}/messaggi").status_code == 404
        stolen = client.post(f"/console/coda/{brunos}/note", data={"text": "x", "csrf_token": csrf})
        assert stolen.status_code == 404
        taken = client.post(f"/console/coda/{brunos}/prendi", data={"csrf_token": csrf})
        assert taken.status_code == 303 and taken.headers["location"].endswith("msg=taken")
        # on a waiting conversation nobody holds, notes wait for the claim
        early = client.post(f"/console/coda/{waiting}/note", data={"text": "x", "csrf_token": csrf})
        assert early.status_code == 409
