"""The composer in headless Chromium: live preview (sanitised), live recipient count, send,
and the progress bar following the delivery to 100%, with no script error or CSP violation."""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from argon2 import PasswordHasher
from fastapi import FastAPI
from sqlalchemy.engine import Engine

from broadcast.engine import BroadcastWorker
from broadcast.senders import TelegramSender
from console import broadcasts, security
from console.app import build_console
from console.broadcasts import routes as web
from console.staff import create_staff
from core.db import session_scope
from core.settings import Settings
from staff.roles import Role
from tests.broadcast.helpers import TOKEN, fast_config, subscribers
from tests.conftest import unavailable
from tests.fakes.fake_telegram_limits import LimitedTelegram

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
PASSWORD = "lampredotto e ribollita"


@pytest.fixture
def live_url(sqlite_engine: Engine, tmp_path: Path) -> Iterator[str]:
    previous = security._hasher
    security.use_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    settings = Settings(var_dir=tmp_path, secret_key="test-secret-key-" + "x" * 32)
    web.configure(settings)
    app = FastAPI()
    app.mount(
        "/console", build_console(settings, engine=sqlite_engine, sections=[broadcasts.SECTION])
    )
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off", ws="none"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    web._settings = None
    security.use_hasher(previous)


@pytest.fixture
def browser() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        unavailable(f"Chromium not installed at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


def test_compose_preview_count_send_and_follow(
    browser: Any, live_url: str, sqlite_engine: Engine, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    subscribers(sqlite_engine, 3, quartieri=["Q5"])
    subscribers(sqlite_engine, 2, quartieri=["Q1"])
    with session_scope(sqlite_engine) as session:
        create_staff(
            session,
            email="hub@comune.example.it",
            full_name="Hub",
            roles={Role.hub_staff},
            password=PASSWORD,
        )
    page = browser.new_page(locale="it-IT")
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on(
        "dialog",
        lambda dialog: (
            problems.append(f"dialog: {dialog.message}")
            if "3 destinatari" not in dialog.message
            else None,
            dialog.accept(),
        ),
    )

    page.goto(f"{live_url}/console/avvisi/nuovo")
    page.get_by_label("Email").fill("hub@comune.example.it")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Accedi").click()
    page.wait_for_url(f"{live_url}/console/avvisi/nuovo")

    page.get_by_label("Titolo", exact=True).fill("Merenda in piazza")
    page.locator("#body").fill("Porta <b>i bambini</b> <script>alert(1)</script>")
    page.locator("#preview b", has_text="i bambini").wait_for()
    preview = page.locator("#preview").inner_text()
    assert preview.startswith("Merenda in piazza")
    assert "<script>alert(1)</script>" in preview  # shown as text, never run
    assert "caratteri" in page.locator("#preview-length").inner_text()
    expect(page.locator("#audience-count")).to_have_text("5")
    page.get_by_label("Q5 Rifredi").check()
    expect(page.locator("#audience-count")).to_have_text("3")

    page.get_by_role("button", name="Salva e invia").click()
    page.wait_for_url(f"{live_url}/console/avvisi/*")
    assert page.locator("#progress-bar").get_attribute("value") == "0"

    with LimitedTelegram(global_rate=25) as telegram:
        worker = BroadcastWorker(
            sqlite_engine,
            fast_config(tmp_path),
            {"telegram": TelegramSender(base_url=telegram.base_url, token=TOKEN)},
        )

        async def deliver() -> None:
            await worker.run(until_idle=True)
            await worker.aclose()

        # Playwright's sync API owns this thread's event loop: deliver from another thread
        runner = threading.Thread(target=lambda: asyncio.run(deliver()))
        runner.start()
        runner.join(60)
        assert len(telegram.accepted) == 3
    # the page polls, sees "done" and reloads with the final report
    expect(page.locator("[data-field=status_label]")).to_have_text("completato", timeout=15_000)
    expect(page.locator("#progress-bar")).to_have_attribute("value", "100")
    assert page.locator("[data-field=sent]").inner_text() == "3"
    assert page.get_by_role("button", name="Annulla l'avviso").count() == 0
    assert problems == []
    page.close()
