"""Rendering: Jinja2 templates (Italian), links relative to wherever the console is mounted."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2
from fastapi.requests import HTTPConnection
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from starlette.requests import Request

from console.navigation import sections_for
from console.state import console_state

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"

Templates = Jinja2Templates


def console_path(conn: HTTPConnection, name: str, **params: Any) -> str:
    """The path of the console route ``name``, including the mount prefix (e.g. /console)."""
    root = conn.scope.get("root_path", "").rstrip("/")
    return root + str(conn.app.url_path_for(name, **params))


def console_root(conn: HTTPConnection) -> str:
    return conn.scope.get("root_path", "").rstrip("/") + "/"


@jinja2.pass_context
def _path_for(context: Mapping[str, Any], name: str, **params: Any) -> str:
    return console_path(context["request"], name, **params)


@jinja2.pass_context
def _local_time(context: Mapping[str, Any], value: datetime | None) -> str:
    if value is None:
        return "—"
    tz = console_state(context["request"]).config.tz
    return value.astimezone(tz).strftime("%d/%m/%Y %H:%M")


@jinja2.pass_context
def _action_label(context: Mapping[str, Any], action: str) -> str:
    return console_state(context["request"]).action_labels.get(action, action)


def build_templates(extra_dirs: Iterable[Path] = ()) -> Jinja2Templates:
    loader = jinja2.FileSystemLoader([TEMPLATES_DIR, *extra_dirs])
    env = jinja2.Environment(
        loader=loader,
        autoescape=jinja2.select_autoescape(default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["path_for"] = _path_for
    env.filters["local_time"] = _local_time
    env.filters["action_label"] = _action_label
    return Jinja2Templates(env=env)


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
    staff: Any = None,
) -> HTMLResponse:
    """Render a console page; ``staff`` (a CurrentStaff) fills the navigation and CSRF token."""
    state = console_state(request)
    full: dict[str, Any] = {
        "staff": staff,
        "nav": sections_for(state.sections, staff.roles) if staff else [],
        "csrf_token": staff.csrf_token if staff else "",
        "console_root": console_root(request),
        "current_path": request.url.path,
    }
    full.update(context or {})
    response = state.templates.TemplateResponse(request, template, full, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    return response
