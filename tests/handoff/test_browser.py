"""The Care Manager's console in headless Chromium (Playwright), against the real gateway: the
queue updates live and notifies, claim, the whole history, live chat both ways, a canned
reply, a private note, a label, closing with an outcome, the citizen's CSAT tap.

Set HANDOFF_SCREENSHOTS=<folder> to keep screenshots of the pages."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from care import handoff_wording as wording
from conversations.models import Mode
from tests.conftest import unavailable
from tests.handoff.conftest import PASSWORD, Citizen, Live, make_care_manager
from tests.handoff.fake_rasa_api import FakeRasaApi

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("WELCOME_CHROMIUM", "/usr/bin/chromium")
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
SHOTS = os.environ.get("HANDOFF_SCREENSHOTS", "")


@pytest.fixture
def browser() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        unavailable(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield instance
        instance.close()


def _shot(page: Any, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def test_claim_chat_note_close_csat(
    browser: Any, start_live, fake_rasa: FakeRasaApi, people: list
) -> None:
    live: Live = start_live()
    member = make_care_manager(live.engine, name="Giulia Bianchi")
    context = browser.new_context(locale="it-IT", viewport={"width": 1280, "height": 900})
    context.grant_permissions(["notifications"], origin=live.url)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))

    page.goto(f"{live.url}/console/coda")
    page.get_by_label("Email").fill(member.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Accedi").click()
    page.wait_for_url(f"{live.url}/console/coda")
    page.wait_for_selector("#handoff-app[data-connected='1']")
    assert "Nessuna conversazione in attesa" in page.locator("#coda-attesa").inner_text()
    notify = page.locator("#notify-on")
    assert notify.inner_text() == "Notifiche attive"  # permission granted to this origin
    notify.click()  # a user gesture: unlocks the sound

    citizen = Citizen(live.url)
    people.append(citizen)
    citizen.start()
    citizen.say("cerco un doposcuola")
    citizen.wait_for("Ho trovato")
    citizen.say("voglio parlare con un operatore")
    claim = page.get_by_role("button", name="Prendi in carico n. 1")
    claim.wait_for(timeout=5000)  # the queue updated live, without reloading
    status = page.locator("#live-status").inner_text()
    assert "Nuova conversazione in coda (n. 1)" in status
    alerts = page.evaluate("window.handoffAlerts")
    assert alerts["notifications"] >= 1 and alerts["beeps"] >= 1
    assert page.title().startswith("● ")
    _shot(page, "1-coda")

    claim.click()
    page.wait_for_url(f"{live.url}/console/coda/1?msg=claimed")
    page.wait_for_selector("#handoff-app[data-connected='1']")
    chat = page.locator("#chat")
    text = chat.inner_text()
    assert "cerco un doposcuola" in text and "Ho trovato" in text  # bot turns included
    assert "Assistente" in text and "Cittadino" in text

    started = time.monotonic()
    citizen.say("ho bisogno di aiuto per l'affitto")
    chat.get_by_text("ho bisogno di aiuto per l'affitto").wait_for(timeout=1000)
    assert time.monotonic() - started < 1.0

    page.get_by_label("Messaggio al cittadino").fill("Buongiorno, sono Giulia del Comune.")
    started = time.monotonic()
    page.get_by_role("button", name="Invia").click()
    citizen.wait_for("sono Giulia del Comune", timeout=1.0)
    assert time.monotonic() - started < 1.0
    chat.get_by_text("Care Manager · Giulia Bianchi").first.wait_for()
    page.locator("#chat .msg-staff .msg-status[data-status='sent']").first.wait_for()

    page.get_by_label("Risposte rapide").select_option("orari")
    assert "Welcome Point" in page.get_by_label("Messaggio al cittadino").input_value()
    page.get_by_role("button", name="Invia").click()
    citizen.wait_for("Welcome Point vicino a me")

    page.get_by_label("Nuova nota").fill("Sfratto esecutivo a marzo: sentire l'ufficio casa.")
    page.get_by_role("button", name="Salva nota").click()
    page.wait_for_url(f"{live.url}/console/coda/1?msg=note")
    assert "Sfratto esecutivo" in page.locator("#notes").inner_text()
    page.get_by_label("Nuova etichetta").fill("casa")
    page.get_by_role("button", name="Aggiungi etichetta").click()
    page.wait_for_url(f"{live.url}/console/coda/1?msg=label")
    assert "casa" in page.locator("#labels").inner_text()
    page.wait_for_selector("#handoff-app[data-connected='1']")
    _shot(page, "2-conversazione")

    page.get_by_label("Esito").select_option(label="Indirizzato a un servizio")
    page.get_by_role("button", name="Chiudi e restituisci all'assistente").click()
    page.wait_for_url(f"{live.url}/console/coda/1?msg=closed")
    assert "Chiusa" in page.locator("#handoff-state").inner_text()
    assert page.get_by_label("Messaggio al cittadino").count() == 0  # nothing more to write

    question = citizen.wait_for(wording.CSAT_QUESTION)
    citizen.tap(question["buttons"][0]["ref"])
    citizen.wait_for(wording.CSAT_THANKS[:20])
    live.wait_until(lambda: live.conversation(citizen.conversation_id(live)).mode == Mode.bot)
    assert [a.score for a in live.csat()] == [3]
    page.reload()
    assert "giudizio del cittadino: 😊 Bene" in page.locator("#handoff-state").inner_text()
    _shot(page, "3-chiusa")
    assert problems == []  # no script errors, no CSP violations (the websocket included)
    context.close()
