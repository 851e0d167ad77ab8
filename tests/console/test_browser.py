"""The console in headless Chromium: log in, see the navigation of one's roles, change the
password, log out. Served by uvicorn on a free 127.0.0.1 port, like the gateway will."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import pytest
from console_helpers import CONSOLE, PASSWORD, MakeStaff, mount_console, serve, stop, unavailable
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.engine import Engine

from console.auth import CurrentStaff, require_roles
from console.navigation import Section
from console.web import render
from core.settings import Settings
from staff.roles import Role

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
NEW = "tramonto su ponte vecchio"


def _announcements(templates: Path) -> Section:
    """A section registered the way issue 6 will register the broadcast composer."""
    (templates / "avvisi.html").write_text(
        '{% extends "base.html" %}{% block content %}<h1>Avvisi</h1>{% endblock %}',
        encoding="utf-8",
    )
    router = APIRouter()

    @router.get("", name="broadcasts")
    def broadcasts(
        request: Request, staff: Annotated[CurrentStaff, Depends(require_roles(Role.hub_staff))]
    ) -> Response:
        return render(request, "avvisi.html", staff=staff)

    return Section(
        key="broadcasts",
        label="Avvisi",
        path="/avvisi",
        roles=frozenset({Role.hub_staff}),
        description="Annunci ai cittadini iscritti.",
        order=20,
        router=router,
        templates_dir=templates,
    )


@pytest.fixture
def browser() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        unavailable(f"Chromium not installed at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def live_url(engine: Engine, console_settings: Settings, tmp_path: Path) -> Iterator[str]:
    live = serve(mount_console(engine, console_settings, [_announcements(tmp_path)]))
    yield live.url
    stop(live)


def _nav(page: Any) -> list[str]:
    return [t.strip() for t in page.locator("nav.main-nav a").all_inner_texts()]


def test_login_nav_password_change_logout(
    browser: Any, live_url: str, make_staff: MakeStaff
) -> None:
    member = make_staff(Role.hub_staff, Role.care_manager)
    context = browser.new_context(locale="it-IT")
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))

    page.goto(f"{live_url}{CONSOLE}/avvisi")  # a protected page: sent to login, then back
    assert "/console/accesso" in page.url
    assert page.locator("html").get_attribute("lang") == "it"
    page.get_by_label("Email").fill(member.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Accedi").click()
    page.wait_for_url(f"{live_url}{CONSOLE}/avvisi")
    assert page.locator("h1").inner_text() == "Avvisi"
    assert _nav(page) == ["Inizio", "Avvisi", "Il mio account"]  # no "Personale": not an admin
    assert page.locator('nav a[aria-current="page"]').inner_text() == "Avvisi"

    page.get_by_role("link", name="Il mio account").click()
    page.get_by_label("Password attuale").fill(PASSWORD)
    page.get_by_label("Nuova password", exact=True).fill(NEW)
    page.get_by_label("Ripeti la nuova password").fill(NEW)
    page.get_by_role("button", name="Cambia password").click()
    page.wait_for_url(f"{live_url}{CONSOLE}/account?msg=changed")
    assert "Password cambiata" in page.get_by_role("status").inner_text()

    page.get_by_role("button", name="Esci").click()
    page.wait_for_url(f"{live_url}{CONSOLE}/accesso?msg=logout")
    assert "Sei uscito dalla console." in page.get_by_role("status").inner_text()
    page.goto(f"{live_url}{CONSOLE}/")
    assert "/console/accesso" in page.url  # the session is really gone

    page.get_by_label("Email").fill(member.email)
    page.get_by_label("Password").fill(NEW)
    page.get_by_role("button", name="Accedi").click()
    page.wait_for_url(f"{live_url}{CONSOLE}/")
    assert "Console del personale" in page.locator("h1").inner_text()
    assert problems == []  # no script errors, no CSP violations
    context.close()


def test_an_admin_sees_the_staff_section(
    browser: Any, live_url: str, make_staff: MakeStaff
) -> None:
    admin = make_staff(Role.admin)
    page = browser.new_page()
    page.goto(f"{live_url}{CONSOLE}/")
    page.get_by_label("Email").fill(admin.email)
    page.get_by_label("Password").fill(admin.password)
    page.get_by_role("button", name="Accedi").click()
    page.wait_for_url(f"{live_url}{CONSOLE}/")
    assert _nav(page) == ["Inizio", "Personale", "Il mio account"]
    page.locator("nav.main-nav").get_by_role("link", name="Personale", exact=True).click()
    page.wait_for_url(f"{live_url}{CONSOLE}/personale")
    assert admin.email in page.locator("table").inner_text()
    page.close()
