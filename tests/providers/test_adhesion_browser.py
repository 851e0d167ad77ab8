"""End to end in headless Chromium, on the gateway as ``make run`` wires it
(server.app.create_app, served by uvicorn): an organisation applies at /aderisci, the
commission reviews and approves in the console, the contact sets the first password from
the one-time link, adds a service, the commission publishes it and the catalogue's search
finds it. No script error and no CSP violation on any page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from catalog.search import search_services
from core.settings import Settings
from providers.ethics import current_code
from server.app import create_app
from tests.console.console_helpers import serve, stop
from tests.gateway.test_webchat_browser import browser
from tests.providers.adhesion_helpers import PASSWORD, PDF, commission_member

pytestmark = pytest.mark.browser
__all__ = ["browser"]  # the Chromium fixture of the web chat's browser test

NEW_PASSWORD = "girasoli sul ponte di mezzo"


@pytest.fixture
def live_url(engine: Engine, tmp_path: Path) -> Iterator[str]:
    settings = Settings(var_dir=tmp_path / "var", secret_key="test-secret-key-" + "x" * 32)
    live = serve(create_app(settings, engine=engine))
    yield live.url
    stop(live)


def _watch(page: Any, problems: list[str]) -> Any:
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    return page


def _pdf(name: str) -> dict[str, Any]:
    return {"name": name, "mimeType": "application/pdf", "buffer": PDF}


def _apply(page: Any, url: str) -> str:
    page.goto(f"{url}/aderisci")
    assert page.locator("html").get_attribute("lang") == "it"
    page.fill("#org_name", "Cooperativa Il Girasole")
    page.select_option("#legal_form", "cooperative")
    page.fill("#tax_code", "01234567890")
    page.fill("#seat", "Via del Ponte di Mezzo 12, Firenze")
    page.fill("#contact_name", "Giulia Bianchi")
    page.fill("#email", "giulia@girasole.example.it")
    page.check("input[name=quartieri][value=Q5]")
    page.fill("#s_title", "Laboratorio di ceramica per ragazzi")
    page.fill("#s_description", "Laboratorio di ceramica e argilla per ragazzi, il pomeriggio.")
    page.select_option("#s_category", "sport_leisure")
    page.check("input[name=target_groups][value=teenagers]")
    page.select_option("#s_quartiere", "Q5")
    page.fill("#s_coordinates", "43.7890, 11.2370")
    page.fill("#s_opening_hours", "lun-ven 15:00-18:00")
    page.select_option("#s_cost_mode", "free")
    page.set_input_files("#doc_statute", _pdf("statuto.pdf"))
    page.set_input_files("#doc_insurance", _pdf("polizza.pdf"))
    page.get_by_role("button", name="Invia la domanda").click()  # no point of the code ticked
    alert = page.get_by_role("alert").inner_text()
    assert "Non abbiamo salvato niente" in alert and "codice etico" in alert
    assert page.input_value("#org_name") == "Cooperativa Il Girasole"  # what was typed stays
    for point in current_code().points:
        page.check(f"input[name=points][value={point.id}]")
    page.set_input_files("#doc_statute", _pdf("statuto.pdf"))
    page.set_input_files("#doc_insurance", _pdf("polizza.pdf"))
    page.get_by_role("button", name="Invia la domanda").click()
    assert page.locator("h1").inner_text() == "Domanda ricevuta"
    return page.locator("#codice-domanda").inner_text().strip()


def _sign_in(page: Any, url: str, email: str, password: str) -> None:
    page.goto(f"{url}/console/accesso")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Accedi").click()
    page.wait_for_url(re.compile(r".*/console/$"))


def _approve(page: Any, url: str) -> str:
    page.get_by_role("link", name="Adesioni").first.click()
    page.get_by_role("link", name=re.compile(r"n\. \d+")).first.click()
    lines = page.locator("form.check-line")
    for index in range(lines.count()):
        form = page.locator("form.check-line").nth(index)
        form.locator("select").select_option("ok")
        form.get_by_role("button", name="Salva").click()
        page.wait_for_load_state()
    assert page.locator("form.check-line select").evaluate_all(
        "(all) => all.every((s) => s.value === 'ok')"
    )
    page.get_by_role("radio", name="Approvare").check()
    page.get_by_role("button", name="Registra la decisione").click()
    assert "Decisione registrata: Approvare." in page.get_by_role("status").first.inner_text()
    return page.input_value("#account-link")


def test_apply_review_approve_add_a_service_and_find_it(
    browser: Any, live_url: str, engine: Engine
) -> None:
    problems: list[str] = []
    applicant = _watch(browser.new_context(locale="it-IT").new_page(), problems)
    tracking = _apply(applicant, live_url)
    assert re.fullmatch(r"ADE-[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}", tracking)

    with Session(engine) as session:
        commission_member(session, 1)
    commission = _watch(browser.new_context(locale="it-IT").new_page(), problems)
    _sign_in(commission, live_url, "commissione1@welcome.example.it", PASSWORD)
    link = _approve(commission, live_url)
    assert "/console/primo-accesso/" in link

    applicant.goto(f"{live_url}/aderisci/stato")
    applicant.fill("#tracking_code", tracking)
    applicant.get_by_role("button", name="Vedi la domanda").click()
    assert applicant.locator("#stato-domanda").inner_text() == "Approvata"

    provider = _watch(browser.new_context(locale="it-IT").new_page(), problems)
    provider.goto(link)
    provider.get_by_label("Nuova password").fill(NEW_PASSWORD)
    provider.get_by_label("Scrivila di nuovo").fill(NEW_PASSWORD)
    provider.get_by_role("button", name="Salva la password").click()
    assert provider.locator("h1").inner_text() == "Password salvata"
    _sign_in(provider, live_url, "giulia@girasole.example.it", NEW_PASSWORD)
    provider.get_by_role("link", name="I miei servizi").first.click()
    assert "Laboratorio di ceramica per ragazzi" in provider.locator("#servizi").inner_text()
    provider.get_by_role("link", name="Aggiungi un servizio").click()
    provider.fill("#title", "Corso serale di ceramica per adulti")
    provider.fill("#description", "Corso di ceramica al tornio per adulti, la sera, in gruppi.")
    provider.select_option("#category", "sport_leisure")
    provider.check("input[name=target_groups][value=everyone]")
    provider.select_option("#quartiere", "Q5")
    provider.fill("#opening_hours", "mar 18:00-20:00")
    provider.select_option("#cost_mode", "paid")
    provider.fill("#price", "25,00")
    provider.fill("#price_unit", "a lezione")
    provider.get_by_role("button", name="Invia alla Commissione").click()
    notice = provider.get_by_role("status").inner_text()
    assert "Inviato alla Commissione" in notice and "centro del quartiere" in notice

    with Session(engine) as session:
        titles = [h.service.title for h in search_services(session, "ceramica adulti").hits]
    assert "Corso serale di ceramica per adulti" not in titles  # not before the commission

    commission.get_by_role("link", name="Adesioni").first.click()
    commission.locator("#modifiche").get_by_role("link").first.click()
    commission.get_by_role("button", name="Pubblica").click()
    assert "Pubblicata" in commission.get_by_role("status").inner_text()

    with Session(engine) as session:
        hits = search_services(session, "corso di ceramica per adulti").hits
    assert hits and hits[0].service.title == "Corso serale di ceramica per adulti"
    assert hits[0].service.price_cents == 2500
    # the one refusal the test asked for (the form without the code's points) is a 422
    expected = "the server responded with a status of 422"
    assert [p for p in problems if expected not in p] == [], problems
    assert len(problems) == 1
