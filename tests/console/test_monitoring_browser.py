"""«Monitoraggio» in headless Chromium: the overview loads under the console's CSP and its
charts are drawn. With UPDATE_SCREENSHOTS=1 the overview is saved as
docs/monitoring-overview.png."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from console_helpers import CONSOLE, PASSWORD, MakeStaff, mount_console, serve, stop
from sqlalchemy.engine import Engine
from test_browser import browser  # noqa: F401  (the console tests' Chromium fixture)

import console.monitoring
from core.settings import Settings
from staff.roles import Role
from tests.monitoring import data

pytestmark = pytest.mark.browser

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "monitoring-overview.png"


@pytest.fixture
def live_url(engine: Engine, console_settings: Settings, db_url: str) -> Iterator[str]:
    data.seed(engine)
    data.seed_busy(engine)
    settings = console_settings.model_copy(update={"rasa_tracker_db_url": db_url})
    live = serve(mount_console(engine, settings, [console.monitoring.SECTION]))
    yield live.url
    stop(live)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_overview_charts_in_chromium(
    browser: Any,  # noqa: F811 (the imported fixture)
    live_url: str,
    make_staff: MakeStaff,
) -> None:
    member = make_staff(Role.data_analyst)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(f"{live_url}{CONSOLE}/accesso")
    page.fill("input[name=email]", member.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_url}{CONSOLE}/")
    page.click("nav.main-nav a[data-section=monitoring]")
    page.goto(f"{live_url}{CONSOLE}/monitoraggio?dal=2026-11-01&al=2026-11-30")
    assert page.locator("h1").inner_text() == "Monitoraggio"
    charts = page.locator("svg.chart")
    assert charts.count() == 3
    for i in range(charts.count()):
        chart = charts.nth(i)
        assert chart.is_visible()
        box = chart.bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] > 80
        # the chart is drawn: bars or a line in colour (attributes, not blocked CSS), or the
        # needs map's grid of shaded cells
        drawn = chart.locator("rect[fill='#1f5f8b'], polyline[stroke='#1f5f8b'], rect[stroke]")
        assert drawn.count() > 0
        # its labels and numbers are text the browser lays out (a font, a width)
        texts = chart.locator("text")
        assert texts.count() >= 3
        for j in range(texts.count()):
            label = texts.nth(j).bounding_box()
            assert label is not None and label["width"] > 0 and label["height"] > 5
    assert page.locator("svg.chart title").first.text_content()
    assert not [p for p in problems if "Content Security Policy" in p], problems
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        page.screenshot(path=str(SCREENSHOT), full_page=True)
    page.click("nav.mon-tabs a:text('Assistenza')")
    # the tab is a link: wait for its page before counting (a loaded CI machine saw 0)
    page.wait_for_url(f"{live_url}{CONSOLE}/monitoraggio/assistenza*")
    page.locator("svg.chart").nth(3).wait_for()
    assert page.locator("svg.chart").count() >= 4
    assert not problems, problems
