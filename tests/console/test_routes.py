"""Every console route refuses anyone without the right role, and every state-changing route
refuses a request without the CSRF token. The routes are enumerated from the app itself (its
own pages, the sections of console.app.SECTIONS, and a sample section), so a route added
later is covered without touching this file."""

from __future__ import annotations

import re
from typing import Annotated, Any

import pytest
from console_helpers import CONSOLE, MakeStaff, mount_console, signed_in
from fastapi import APIRouter, Depends, FastAPI, WebSocket
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from starlette.routing import Mount
from starlette.websockets import WebSocketDisconnect

from console.app import (
    SECTIONS,
    build_console,
    is_websocket,
    iter_routes,
    role_requirements,
    unguarded_routes,
)
from console.auth import CSRF_HEADER, CurrentStaff, require_roles
from console.navigation import Section
from console.pages.login import PUBLIC_ROUTES
from core.settings import Settings
from staff.roles import ALL_ROLES, Role


def _sample_section() -> Section:
    """A section like the ones later issues add; its routes carry no role check of their own:
    the section's roles must protect them anyway."""
    router = APIRouter()

    @router.get("", name="sample_index")
    def index() -> dict[str, str]:
        return {"ok": "indice"}

    @router.get("/solo-admin", name="sample_admin_only")
    def admin_only(staff: Annotated[CurrentStaff, Depends(require_roles(Role.admin))]) -> dict:
        return {"ok": staff.email}

    @router.post("/azione", name="sample_action")
    def action() -> dict[str, str]:
        return {"ok": "fatto"}

    @router.get("/{item_id}", name="sample_item")
    def item(item_id: int) -> dict[str, int]:
        return {"item": item_id}

    @router.websocket("/diretta")
    async def live(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_json({"ok": True})
        await websocket.close()

    return Section(
        key="sample",
        label="Esempio",
        path="/esempio",
        roles=frozenset({Role.hub_staff, Role.admin}),
        router=router,
    )


@pytest.fixture
def full_gateway(engine: Engine, console_settings: Settings) -> FastAPI:
    return mount_console(engine, console_settings, [*SECTIONS, _sample_section()])


def _console_app(gateway: FastAPI) -> FastAPI:
    mount = next(r for r in gateway.routes if isinstance(r, Mount) and r.path == CONSOLE)
    assert isinstance(mount.app, FastAPI)
    return mount.app


def _allowed(route: Any) -> frozenset[Role]:
    allowed = ALL_ROLES
    for requirement in role_requirements(route):
        allowed = allowed & requirement.roles
    return allowed


def _url(route: Any) -> str:
    return CONSOLE + re.sub(r"\{[^}]+\}", "1", route.path)


def _routes(app: FastAPI) -> list[tuple[str, str, frozenset[Role]]]:
    """(method, url, allowed roles) for every non-public HTTP route."""
    found = []
    for route in iter_routes(app):
        if route.name in PUBLIC_ROUTES or is_websocket(route):
            continue
        assert route.methods, f"{route.name}: not an HTTP endpoint (a raw mount?)"
        for method in sorted(route.methods - {"HEAD"}):
            found.append((method, _url(route), _allowed(route)))
    return found


def _websockets(app: FastAPI) -> list[tuple[str, frozenset[Role]]]:
    return [(_url(r), _allowed(r)) for r in iter_routes(app) if is_websocket(r)]


def test_the_app_has_no_unguarded_route(full_gateway: FastAPI) -> None:
    app = _console_app(full_gateway)
    assert unguarded_routes(app) == []
    routes = _routes(app)
    assert len(routes) >= 12  # the console's own pages and the sample section's
    assert ("POST", f"{CONSOLE}/esempio/azione", frozenset({Role.hub_staff, Role.admin})) in routes
    assert ("GET", f"{CONSOLE}/esempio/solo-admin", frozenset({Role.admin})) in routes


def test_an_unguarded_route_stops_the_console_from_starting(
    engine: Engine, console_settings: Settings
) -> None:
    app = build_console(console_settings, engine=engine, sections=[])

    @app.get("/dimenticata")
    def forgotten() -> dict:
        return {}

    assert unguarded_routes(app) == ["forgotten /dimenticata"]


def test_every_route_refuses_anonymous_callers(full_gateway: FastAPI) -> None:
    with TestClient(full_gateway, follow_redirects=False) as client:
        for method, url, _roles in _routes(_console_app(full_gateway)):
            response = client.request(method, url)
            assert response.status_code == 401, (method, url)
            html = client.request(method, url, headers={"accept": "text/html"})
            assert html.status_code == 303, (method, url)
            assert html.headers["location"].startswith(f"{CONSOLE}/accesso"), (method, url)
        sockets = _websockets(_console_app(full_gateway))
        assert (f"{CONSOLE}/esempio/diretta", frozenset({Role.hub_staff, Role.admin})) in sockets
        for url, _roles in sockets:
            with (
                pytest.raises(WebSocketDisconnect) as closed,
                client.websocket_connect(url, headers={"origin": "http://testserver"}) as ws,
            ):
                ws.receive_json()
            assert closed.value.code == 1008, url


def test_every_route_refuses_staff_without_the_role(
    full_gateway: FastAPI, make_staff: MakeStaff
) -> None:
    routes = _routes(_console_app(full_gateway))
    for method, url, allowed in routes:
        others = ALL_ROLES - allowed
        if not others:
            continue  # open to every member of staff
        with TestClient(full_gateway, follow_redirects=False) as client:
            csrf = signed_in(client, make_staff(*others))
            response = client.request(method, url, headers={CSRF_HEADER: csrf})
            assert response.status_code == 403, (method, url, sorted(others))
    for url, allowed in _websockets(_console_app(full_gateway)):
        others = ALL_ROLES - allowed
        with TestClient(full_gateway, follow_redirects=False) as client:
            signed_in(client, make_staff(*others))
            with (
                pytest.raises(WebSocketDisconnect),
                client.websocket_connect(url, headers={"origin": "http://testserver"}) as ws,
            ):
                ws.receive_json()


def test_every_route_admits_the_right_role(full_gateway: FastAPI, make_staff: MakeStaff) -> None:
    for method, url, allowed in _routes(_console_app(full_gateway)):
        with TestClient(full_gateway, follow_redirects=False) as client:
            signed_in(client, make_staff(*sorted(allowed)[:1]))
            response = client.request(method, url)
            if method == "GET":
                assert response.status_code not in (401, 403), (method, url)
            else:  # state-changing: the right role is not enough without the CSRF token
                assert response.status_code == 403, (method, url)
                assert "modulo è scaduto" in response.json()["detail"]


def test_a_pending_password_change_blocks_everything_but_the_account_page(
    full_gateway: FastAPI, make_staff: MakeStaff
) -> None:
    member = make_staff(*ALL_ROLES, must_change_password=True)
    with TestClient(full_gateway, follow_redirects=False) as client:
        csrf = signed_in_pending(client, member)
        for method, url, _roles in _routes(_console_app(full_gateway)):
            if url in (f"{CONSOLE}/account", f"{CONSOLE}/account/password", f"{CONSOLE}/esci"):
                continue
            response = client.request(method, url, headers={CSRF_HEADER: csrf})
            assert response.status_code == 403, (method, url)
            html = client.request(method, url, headers={"accept": "text/html", CSRF_HEADER: csrf})
            assert html.headers["location"] == f"{CONSOLE}/account", (method, url)


def signed_in_pending(client: TestClient, member) -> str:
    from console_helpers import form_token, login

    response = login(client, member.email, member.password)
    assert response.headers["location"] == f"{CONSOLE}/account"
    return form_token(client.get(f"{CONSOLE}/account").text)


def test_websocket_needs_role_and_same_origin(full_gateway: FastAPI, make_staff: MakeStaff) -> None:
    url = f"{CONSOLE}/esempio/diretta"
    with TestClient(full_gateway, follow_redirects=False) as client:
        signed_in(client, make_staff(Role.care_manager))
        with pytest.raises(WebSocketDisconnect), client.websocket_connect(url) as ws:
            ws.receive_json()
    with TestClient(full_gateway, follow_redirects=False) as client:
        signed_in(client, make_staff(Role.hub_staff))
        with (
            pytest.raises(WebSocketDisconnect),
            client.websocket_connect(url, headers={"origin": "https://evil.example"}) as ws,
        ):
            ws.receive_json()
        with client.websocket_connect(url, headers={"origin": "http://testserver"}) as ws:
            assert ws.receive_json() == {"ok": True}
