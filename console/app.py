"""The console as a FastAPI sub-application, to be mounted by the gateway::

    from console.app import build_console
    app.mount("/console", build_console(settings))

The sections are the values listed in ``SECTIONS`` (or those passed as ``sections=``): their
pages, their navigation entries and the wording of their audit actions all come from there.
Building refuses to start if any route lacks a role check.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.routing import APIWebSocketRoute
from fastapi.staticfiles import StaticFiles
from sqlalchemy.engine import Engine
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import WebSocketRoute

from console import (
    adhesion,
    audit,
    broadcasts,
    data_copy,
    erasure,
    handoff,
    monitoring,
    provider_services,
    review,
    welfare,
)
from console.auth import (
    SESSION_COOKIE,
    NotAuthenticated,
    PasswordChangeRequired,
    RoleRequirement,
    require_roles,
)
from console.config import ConsoleConfig
from console.cookies import clear_session_cookie
from console.navigation import Section, navigation
from console.pages import account, first_password, home, login, staff_admin
from console.pages.login import PUBLIC_ROUTES
from console.state import ConsoleState
from console.web import STATIC_DIR, build_templates, console_path, render
from core.database import Database
from core.security_headers import SecurityHeaders
from core.settings import Settings, get_settings
from staff.roles import ALL_ROLES, Role

# The sections other parts plug into the console, each defined by its package as a plain
# value (console.navigation.Section). A new section is imported here and added to the tuple.
SECTIONS: tuple[Section, ...] = (
    handoff.SECTION,
    erasure.SECTION,
    data_copy.SECTION,
    broadcasts.SECTION,
    welfare.CITIZENS,
    welfare.REIMBURSEMENTS,
    welfare.VOUCHERS,
    welfare.APPOINTMENTS,
    monitoring.SECTION,
    review.SECTION,
    adhesion.SECTION,
    provider_services.SECTION,
)

CSP = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; media-src 'self' blob:; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)


# The console's own pages (console/pages/), in the navigation beside SECTIONS; their routers
# carry their own role checks (the account page admits a pending password change).
OWN_SECTIONS: tuple[Section, ...] = (
    Section(key="home", label="Inizio", path="", roles=ALL_ROLES, order=0),
    Section(
        key="staff",
        label="Personale",
        path="/personale",
        roles=frozenset({Role.admin}),
        description="Crea gli account del personale, assegna i ruoli, reimposta le password.",
        order=500,
    ),
    Section(
        key="account",
        label="Il mio account",
        path="/account",
        roles=ALL_ROLES,
        description="I tuoi dati e il cambio della password.",
        order=900,
    ),
)


def _wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


async def _not_authenticated(request: Request, exc: Exception) -> Response:
    expired = SESSION_COOKIE in request.cookies
    if _wants_html(request):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        query = f"?next={quote(target, safe='/')}" if request.method == "GET" else ""
        if expired:
            query += ("&" if query else "?") + "msg=expired"
        response: Response = RedirectResponse(
            console_path(request, "login_form") + query, status_code=303
        )
    else:
        response = JSONResponse({"detail": "Accesso richiesto."}, status_code=401)
    if expired:
        clear_session_cookie(response, request)
    return response


async def _password_change(request: Request, exc: Exception) -> Response:
    if _wants_html(request):
        return RedirectResponse(console_path(request, "account"), status_code=303)
    return JSONResponse({"detail": str(getattr(exc, "detail", ""))}, status_code=403)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if not _wants_html(request):
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)
    titles = {403: "Accesso non consentito", 404: "Pagina non trovata"}
    detail = exc.detail if exc.status_code != 404 or exc.detail != "Not Found" else ""
    return render(
        request,
        "error.html",
        {"title": titles.get(exc.status_code, "Richiesta non valida"), "detail": detail},
        status_code=exc.status_code,
    )


def iter_routes(app: FastAPI) -> Iterator[Any]:
    """Every route of ``app``, with included routers flattened (their prefixes and router-level
    dependencies applied): objects with ``name``, ``path``, ``methods`` and ``dependant``."""
    try:
        from fastapi.routing import iter_route_contexts  # FastAPI >= 0.16x: lazy inclusion
    except ImportError:  # pragma: no cover - older FastAPI copies routes on inclusion
        yield from app.routes
        return
    yield from iter_route_contexts(app.routes)


def is_websocket(route: Any) -> bool:
    original = getattr(route, "original_route", route)
    return isinstance(original, APIWebSocketRoute | WebSocketRoute)


async def _invalid_request(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    if not _wants_html(request):
        return await request_validation_exception_handler(request, exc)
    return render(
        request,
        "error.html",
        {"title": "Richiesta non valida", "detail": "Controlla i dati inseriti e riprova."},
        status_code=422,
    )


def role_requirements(route: Any) -> list[RoleRequirement]:
    """Every ``require_roles`` dependency of a route (also nested ones)."""
    found: list[RoleRequirement] = []
    dependant = getattr(route, "dependant", None)
    stack = [dependant] if dependant is not None else []
    while stack:
        dependant = stack.pop()
        if isinstance(dependant.call, RoleRequirement):
            found.append(dependant.call)
        stack.extend(dependant.dependencies)
    return found


def unguarded_routes(app: FastAPI) -> list[str]:
    """Routes that are neither public nor role-checked (must be empty). A plain Starlette route
    or mount cannot carry the check, so only the static files may be one."""
    return [
        f"{route.name} {route.path}"
        for route in iter_routes(app)
        if route.name not in PUBLIC_ROUTES and not role_requirements(route)
    ]


def build_console(
    settings: Settings | None = None,
    *,
    engine: Engine | None = None,
    sections: Iterable[Section] | None = None,
) -> FastAPI:
    """The console app with ``sections`` (default: SECTIONS) beside its own pages."""
    settings = settings or get_settings()
    config = ConsoleConfig.from_settings(settings)
    if engine is None:
        from core.db import get_engine

        engine = get_engine()
    extra = list(SECTIONS if sections is None else sections)
    all_sections = navigation([*OWN_SECTIONS, *extra])
    templates = build_templates(s.templates_dir for s in extra if s.templates_dir)

    app = FastAPI(title="WEL.CO.ME console", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.console = ConsoleState(
        config=config,
        db=Database(engine),
        templates=templates,
        sections=all_sections,
        action_labels=audit.action_labels(s.audit_labels for s in all_sections),
        settings=settings,
    )
    for module in (login, first_password, home, account, staff_admin):
        app.include_router(module.router)
    for section in extra:
        if section.router is not None:
            app.include_router(
                section.router,
                prefix=section.path,
                dependencies=[Depends(require_roles(*section.roles))],
            )
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_exception_handler(NotAuthenticated, _not_authenticated)
    app.add_exception_handler(PasswordChangeRequired, _password_change)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_middleware(
        SecurityHeaders,
        csp=CSP,
        referrer="same-origin",
        permissions="camera=(), microphone=(), geolocation=()",
        https=config.https,
    )

    missing = unguarded_routes(app)
    if missing:
        raise RuntimeError(f"console routes without a role check: {missing}")
    return app
