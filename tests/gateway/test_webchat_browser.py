"""The web chat in headless Chromium (Playwright): consent, buttons, paging, location,
keyboard use, reload with history. Debian's chromium; no browser download."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.conftest import unavailable
from tests.fakes.fake_rasa import FakeRasa
from tests.gateway.conftest import RunningGateway

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

pytestmark = pytest.mark.browser


@pytest.fixture
def browser() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        unavailable(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield instance
        instance.close()


@pytest.fixture
def web_gateway(
    start_gateway: Callable[..., RunningGateway], fake_rasa: FakeRasa
) -> RunningGateway:
    return start_gateway(rasa_url=fake_rasa.url)


def _page(browser: Any, gateway: RunningGateway) -> tuple[Any, Any]:
    context = browser.new_context(
        locale="it-IT",
        geolocation={"latitude": 43.7989, "longitude": 11.2270},
        permissions=["geolocation"],
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(gateway.url + "/")
    return context, page


def test_a_whole_conversation_in_the_browser(
    browser: Any, web_gateway: RunningGateway, fake_rasa: FakeRasa
) -> None:
    from playwright.sync_api import expect

    context, page = _page(browser, web_gateway)
    log = page.get_by_role("log")
    expect(log).to_have_attribute("aria-live", "polite")
    expect(page.locator("html")).to_have_attribute("lang", "it")

    expect(log).to_contain_text("Chi li tiene")  # first contact: the privacy notice
    page.get_by_role("button", name="Accetto", exact=True).click()
    expect(log).to_contain_text("Grazie!")

    box = page.get_by_label("Scrivi un messaggio")
    box.fill("cerco un doposcuola a Rifredi")
    box.press("Enter")
    expect(log).to_contain_text("Ho trovato 4 servizi")
    page.get_by_role("button", name="Altri risultati").click()
    expect(log).to_contain_text("Altri risultati (3-4 di 4)")
    assert fake_rasa.messages() == ["cerco un doposcuola a Rifredi", "/more_results"]

    page.locator("#share-location").click()
    expect(log).to_contain_text("Welcome Point più vicini")
    assert fake_rasa.requests[-1]["metadata"]["location"] == {"lat": 43.7989, "lon": 11.227}

    token = page.evaluate("localStorage.getItem('welcome.chat.token')")
    page.reload()
    expect(page.get_by_role("log")).to_contain_text("Ho trovato 4 servizi")  # history reloaded
    assert page.evaluate("localStorage.getItem('welcome.chat.token')") == token
    assert page.get_by_text("Chi li tiene").count() == 1  # no second notice after reload
    context.close()


def test_keyboard_only_and_large_text(
    browser: Any, web_gateway: RunningGateway, fake_rasa: FakeRasa
) -> None:
    from playwright.sync_api import expect

    context, page = _page(browser, web_gateway)
    expect(page.get_by_role("log")).to_contain_text("Chi li tiene")
    accept = page.get_by_role("button", name="Accetto", exact=True)
    for _ in range(12):  # Tab through the page until "Accetto" has the focus
        page.keyboard.press("Tab")
        if accept.evaluate("element => element === document.activeElement"):
            break
    page.keyboard.press("Enter")
    expect(page.get_by_role("log")).to_contain_text("Grazie!")
    page.get_by_label("Scrivi un messaggio").focus()
    page.keyboard.type("ciao a tutti")
    page.keyboard.press("Enter")
    expect(page.get_by_role("log")).to_contain_text("Hai scritto: ciao a tutti")
    size = page.evaluate("parseFloat(getComputedStyle(document.querySelector('.msg')).fontSize)")
    assert size >= 18  # large readable text
    page.locator("#send").click()  # empty: an explanation, nothing sent
    expect(page.locator("#status")).to_have_text(re.compile("Scrivi un messaggio"))
    context.close()


def test_emergency_numbers_before_consent(
    browser: Any, web_gateway: RunningGateway, fake_rasa: FakeRasa
) -> None:
    from playwright.sync_api import expect

    context, page = _page(browser, web_gateway)
    log = page.get_by_role("log")
    expect(log).to_contain_text("Chi li tiene")
    box = page.get_by_label("Scrivi un messaggio")
    box.fill("mio marito mi picchia")
    box.press("Enter")
    expect(log).to_contain_text("1522")
    expect(log).to_contain_text("112")
    assert fake_rasa.requests == []
    context.close()


def test_rasa_down_then_up_the_answer_arrives_by_itself(
    browser: Any, web_gateway: RunningGateway, fake_rasa: FakeRasa
) -> None:
    from playwright.sync_api import expect

    context, page = _page(browser, web_gateway)
    log = page.get_by_role("log")
    page.get_by_role("button", name="Accetto", exact=True).click()
    expect(log).to_contain_text("Grazie!")
    fake_rasa.stop()
    box = page.get_by_label("Scrivi un messaggio")
    box.fill("ci sei?")
    box.press("Enter")
    expect(log).to_contain_text("momentaneamente non disponibile")
    fake_rasa.start()
    expect(log).to_contain_text("Hai scritto: ci sei?", timeout=15_000)
    context.close()


def test_a_photo_and_a_refused_file_from_the_browser(
    browser: Any, web_gateway: RunningGateway, fake_rasa: FakeRasa
) -> None:
    from playwright.sync_api import expect

    context, page = _page(browser, web_gateway)
    log = page.get_by_role("log")
    page.get_by_role("button", name="Accetto", exact=True).click()
    expect(log).to_contain_text("Grazie!")

    attach = page.get_by_role("button", name="Allega foto o PDF")
    expect(attach).to_be_visible()
    with page.expect_file_chooser() as chooser:
        attach.click()
    photo = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4
    chooser.value.set_files({"name": "ricevuta.jpg", "mimeType": "image/jpeg", "buffer": photo})
    expect(log).to_contain_text("File inviato")
    expect(log).to_contain_text("ho ricevuto la ricevuta")
    attachment = fake_rasa.requests[-1]["metadata"]["attachment"]
    assert attachment["mime_type"] == "image/jpeg" and attachment["size_bytes"] == len(photo)
    expect(page.locator(".msg.me").last).to_contain_text("Tu:")

    page.locator("#file").set_input_files(
        {"name": "programma.exe", "mimeType": "image/png", "buffer": b"MZ\x90\x00" + b"\0" * 64}
    )
    expect(page.locator("#status")).to_have_text(re.compile("solo foto"))
    page.locator("#file").set_input_files(
        {"name": "enorme.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-" + b"\0" * 200_001}
    )
    expect(page.locator("#status")).to_have_text(re.compile("troppo grande"))
    assert len([r for r in fake_rasa.requests if r["metadata"].get("attachment")]) == 1
    context.close()


def test_what_is_written_in_the_box_goes_with_the_file_as_its_caption(
    browser: Any, web_gateway: RunningGateway, fake_rasa: FakeRasa
) -> None:
    from playwright.sync_api import expect

    context, page = _page(browser, web_gateway)
    log = page.get_by_role("log")
    page.get_by_role("button", name="Accetto", exact=True).click()
    expect(log).to_contain_text("Grazie!")

    box = page.get_by_label("Scrivi un messaggio")
    box.fill("Ricevuta del nido, 35 €")
    photo = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4
    page.locator("#file").set_input_files(
        {"name": "ricevuta.jpg", "mimeType": "image/jpeg", "buffer": photo}
    )
    expect(log).to_contain_text("ho ricevuto la ricevuta")
    expect(page.locator(".msg.me").last).to_contain_text("Ricevuta del nido, 35 €")
    expect(box).to_have_value("")  # sent with the file, not left for a second message
    request = fake_rasa.requests[-1]
    assert request["message"] == "/request_reimbursement"
    assert request["metadata"]["caption"] == "Ricevuta del nido, 35 €"
    context.close()


def test_the_language_control_of_the_page(
    browser: Any, web_gateway: RunningGateway, fake_rasa: FakeRasa
) -> None:
    """The 🌐 control above the chat (issue 17): a tap on «English» switches the
    conversation, and the privacy notice comes again in English."""
    from playwright.sync_api import expect

    context, page = _page(browser, web_gateway)
    log = page.get_by_role("log")
    expect(log).to_contain_text("Chi li tiene")
    control = page.get_by_role("navigation", name="Lingua · Language")
    control.get_by_role("button", name="English", exact=True).click()
    expect(log).to_contain_text("from now on I write to you in English")
    expect(log).to_contain_text("Who keeps it")
    page.get_by_role("button", name="I accept", exact=True).click()
    expect(log).to_contain_text("Thank you!")
    control.get_by_role("button", name="Italiano", exact=True).click()
    expect(log).to_contain_text("da ora ti scrivo in italiano")
    assert fake_rasa.requests == []
    context.close()


def test_the_pages_own_texts_follow_the_conversations_language(
    browser: Any, web_gateway: RunningGateway, fake_rasa: FakeRasa
) -> None:
    """Issue 17: «English» on the control puts the page's own texts (title, labels, buttons,
    placeholder, footer, status lines, <html lang>) in English at once, without a reload;
    a reload keeps them English; «Italiano» brings the Italian back."""
    from playwright.sync_api import expect

    from tests.language.test_catalogues import still_italian

    context, page = _page(browser, web_gateway)
    log = page.get_by_role("log")
    expect(log).to_contain_text("Chi li tiene")
    expect(page.get_by_label("Scrivi un messaggio")).to_be_visible()
    control = page.get_by_role("navigation", name="Lingua · Language")
    control.get_by_role("button", name="English", exact=True).click()
    expect(log).to_contain_text("Who keeps it")

    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page).to_have_title("WEL.CO.ME – Assistant for community welfare in Florence")
    box = page.get_by_label("Write a message")
    expect(box).to_have_attribute("placeholder", re.compile("^For example"))
    expect(page.locator("#send")).to_have_text("Send")
    expect(page.get_by_role("button", name="📎 Attach a photo or PDF")).to_be_visible()
    expect(page.locator("#share-location")).to_have_text("📍 Share my location")
    expect(page.locator("footer")).to_have_text(re.compile("If you are in danger, call 112"))
    expect(page.locator("footer strong")).to_have_count(2)
    expect(log).to_have_attribute("aria-label", "Messages of the conversation")
    expect(page.locator(".msg.me").first).to_contain_text("You:")  # drawn again
    shown = page.evaluate(
        """() => [
            ...[...document.querySelectorAll('[data-text]')].map((e) => e.textContent),
            ...[...document.querySelectorAll('[placeholder]')].map((e) => e.placeholder),
            ...[...document.querySelectorAll('[aria-label]')].map((e) => e.ariaLabel),
            ...[...document.querySelectorAll('.who')].map((e) => e.textContent),
            document.title,
        ]"""
    )
    italian = [text for text in shown if text != "Lingua · Language" and still_italian(text)]
    assert len(shown) > 15 and italian == []

    page.locator("#send").click()  # a status line the page writes: English too
    expect(page.locator("#status")).to_have_text("Write a message before you press Send.")
    page.locator("#file").set_input_files(  # a refusal the server writes: English too
        {"name": "ricevuta.jpg", "mimeType": "image/jpeg", "buffer": b"\xff\xd8\xff\xe0" * 64}
    )
    expect(page.locator("#status")).to_have_text(re.compile("^Before you send a file"))

    page.reload()  # the language comes from the conversation, not from the click
    expect(page.get_by_label("Write a message")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_role("button", name="I accept", exact=True).click()
    expect(log).to_contain_text("Thank you!")

    control.get_by_role("button", name="Italiano", exact=True).click()
    expect(log).to_contain_text("da ora ti scrivo in italiano")
    expect(page.locator("html")).to_have_attribute("lang", "it")
    expect(page.get_by_label("Scrivi un messaggio")).to_be_visible()
    expect(page.locator("#send")).to_have_text("Invia")
    expect(page.locator("footer")).to_have_text(re.compile("In caso di pericolo chiama il 112"))
    assert fake_rasa.requests == []
    context.close()


def test_an_english_message_puts_the_page_in_english(
    browser: Any, web_gateway: RunningGateway, fake_rasa: FakeRasa
) -> None:
    """A language detected from what the citizen writes reaches the page as well."""
    from playwright.sync_api import expect

    context, page = _page(browser, web_gateway)
    expect(page.get_by_role("log")).to_contain_text("Chi li tiene")
    box = page.get_by_label("Scrivi un messaggio")
    box.fill("Hello, I am looking for help with my rent, can you help me?")
    box.press("Enter")
    expect(page.get_by_role("log")).to_contain_text("I need your consent")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_label("Write a message")).to_be_visible()
    context.close()
