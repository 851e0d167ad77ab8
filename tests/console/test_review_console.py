"""«Revisione»: the queue, one message's page, masking more, marking an entity span and the
verdicts, with their refusals, on SQLite and PostgreSQL; then the page in real Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from console_helpers import CONSOLE, PASSWORD, MakeStaff, mount_console, serve, signed_in, stop
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from test_browser import browser  # noqa: F401  (the console tests' Chromium fixture)

import console.review as review_section
from console.audit import AuditLog
from conversations import repository as repo
from conversations.inbound import Inbound
from conversations.models import Channel, Kind
from core.db import session_scope
from core.settings import Settings
from review import queue
from review.models import Reason, ReviewItem, ReviewStatus
from review.tracker import Parsed
from staff.roles import Role

TEXT = "mi chiamo Carla Neri, cerco la mensa per Luca a Novoli"


def _queued(engine: Engine, text: str = TEXT, chat: str = "9001") -> int:
    with session_scope(engine) as s:
        message = repo.store_inbound(
            s, inbound=Inbound(channel=Channel.telegram, chat_key=chat, kind=Kind.text, text=text)
        ).message
        found = [  # what the model found: a quartiere, and words that get masked
            {"entity": "neighbourhood", "start": 48, "end": 54, "value": "Novoli"},
            {"entity": "target_group", "start": 10, "end": 20, "value": "Carla Neri"},
        ]
        parsed = Parsed(intent="nlu_fallback", confidence=0.42, entities=found, ranking=[])
        item = queue.add(s, message=message, reasons=[Reason.low_confidence], parsed=parsed)
        return int(item.id or 0)


@pytest.fixture
def client(engine: Engine, console_settings: Settings) -> Iterator[TestClient]:
    app = mount_console(engine, console_settings, sections=[review_section.SECTION])
    with TestClient(app, follow_redirects=False) as test_client:
        yield test_client


def _item(engine: Engine, item_id: int) -> ReviewItem:
    with Session(engine) as s:
        item = s.get(ReviewItem, item_id)
        assert item is not None
        return item


def test_only_reviewers_see_it(client: TestClient, make_staff: MakeStaff, engine: Engine) -> None:
    _queued(engine)
    signed_in(client, make_staff(Role.care_manager))
    assert client.get(f"{CONSOLE}/revisione").status_code == 403


def test_review_a_message(client: TestClient, make_staff: MakeStaff, engine: Engine) -> None:
    item_id = _queued(engine)
    other = _queued(engine, "boh non so", chat="9002")
    csrf = signed_in(client, make_staff(Role.nlu_reviewer))
    page = client.get(f"{CONSOLE}/revisione")
    assert page.status_code == 200
    assert "mi chiamo &lt;nome&gt;, cerco la mensa per Luca a Novoli" in page.text
    assert "Carla" not in page.text and "Poco sicuro" in page.text
    item_url = f"{CONSOLE}/revisione/{item_id}"
    shown = client.get(item_url).text
    assert "nlu_fallback (sicurezza 42%)" in shown
    assert "neighbourhood=Novoli" in shown and "Carla" not in shown

    def post(tail: str, **data: str) -> Any:
        return client.post(f"{item_url}/{tail}", data={"csrf_token": csrf, **data})

    # bad input: a polite message, nothing changes
    refused = post("parole/entita", parole="Firenze", inizio="", tipo="neighbourhood")
    assert refused.status_code == 422 and "non sono nel testo" in refused.text
    assert post("parole/nascondi", parole="Luca", inizio="", tipo="xx").status_code == 422
    assert post("decidi", scelta="confirm", intento="").status_code == 422
    assert _item(engine, item_id).status == ReviewStatus.pending
    # the reviewer hides the child's name and marks two entities
    assert post("parole/nascondi", parole="Luca", inizio="", tipo="nome").status_code == 303
    assert (
        post("parole/entita", parole="mensa", inizio="27", tipo="service_category").status_code
        == 303
    )
    assert (
        post("parole/entita", parole="Novoli", inizio="", tipo="neighbourhood").status_code == 303
    )
    item = _item(engine, item_id)
    assert item.masked_text == "mi chiamo <nome>, cerco la mensa per <nome> a Novoli"
    assert [e["value"] for e in item.corrected_entities] == ["mensa", "Novoli"]
    assert post("entita/1/togli").status_code == 303
    assert (
        post("parole/entita", parole="Novoli", inizio="", tipo="neighbourhood").status_code == 303
    )
    # confirm with a corrected intent: the next message of the queue opens
    done = post("decidi", scelta="confirm", intento="search_service")
    assert done.status_code == 303 and done.headers["location"].endswith(f"/{other}?msg=done")
    item = _item(engine, item_id)
    assert (item.status, item.corrected_intent) == (ReviewStatus.accepted, "search_service")
    assert item.reviewed_at is not None and item.reviewer_id is not None
    # the other one is out of scope: then the queue is empty
    out = client.post(
        f"{CONSOLE}/revisione/{other}/decidi",
        data={"csrf_token": csrf, "scelta": "out_of_scope"},
    )
    assert out.status_code == 303 and out.headers["location"].endswith("?msg=empty")
    assert _item(engine, other).corrected_intent == "out_of_scope"
    assert "Non ci sono messaggi da rivedere" in client.get(f"{CONSOLE}/revisione").text
    with Session(engine) as s:
        actions = sorted(a.action for a in s.exec(select(AuditLog)) if a.action.startswith("rev"))
    assert actions == ["review.confirm", "review.out_of_scope"]


@pytest.fixture
def live_url(engine: Engine, console_settings: Settings) -> Iterator[str]:
    live = serve(mount_console(engine, console_settings, [review_section.SECTION]))
    yield live.url
    stop(live)


@pytest.mark.browser
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_review_page_in_chromium(
    browser: Any,  # noqa: F811 (the imported fixture)
    live_url: str,
    make_staff: MakeStaff,
    engine: Engine,
) -> None:
    item_id = _queued(engine)
    member = make_staff(Role.nlu_reviewer)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(f"{live_url}{CONSOLE}/accesso")
    page.fill("input[name=email]", member.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_url}{CONSOLE}/")
    page.click("nav.main-nav a[data-section=review]")
    page.click(f"#coda-revisione a:text('{item_id}')")
    assert (
        page.locator("#testo").inner_text() == "mi chiamo <nome>, cerco la mensa per Luca a Novoli"
    )

    def select_words(words: str) -> None:
        # the reviewer drags over the words: a real selection in the page, then mouseup
        page.wait_for_load_state("load")  # review.js (deferred) listens
        page.evaluate(
            """(words) => {
                const root = document.getElementById('testo');
                const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
                while (walker.nextNode()) {
                    const node = walker.currentNode;
                    const at = node.textContent.indexOf(words);
                    if (at >= 0) {
                        const range = document.createRange();
                        range.setStart(node, at);
                        range.setEnd(node, at + words.length);
                        const sel = window.getSelection();
                        sel.removeAllRanges();
                        sel.addRange(range);
                        document.dispatchEvent(new MouseEvent('mouseup'));
                        return;
                    }
                }
            }""",
            words,
        )

    select_words("Luca")
    assert page.locator("#form-nascondi input[name=parole]").input_value() == "Luca"
    page.select_option("#form-nascondi select[name=tipo]", "nome")
    page.click("#form-nascondi button[type=submit]")
    assert "per <nome> a Novoli" in page.locator("#testo").inner_text()
    select_words("mensa")
    assert page.locator("#form-entita input[name=inizio]").input_value() == "27"
    page.select_option("#form-entita select[name=tipo]", "service_category")
    page.click("#form-entita button[type=submit]")
    marked = page.locator("#testo mark.entity")
    assert [marked.nth(i).inner_text() for i in range(marked.count())] == ["mensa", "Novoli"]
    page.select_option("#intento", "search_service")
    page.click("#form-decidi button[value=confirm]")
    page.wait_for_url(f"{live_url}{CONSOLE}/revisione?msg=empty")
    assert page.locator("#coda-vuota").is_visible()
    item = _item(engine, item_id)
    assert item.status == ReviewStatus.accepted
    assert item.corrected_entities == [
        {"start": 27, "end": 32, "entity": "service_category", "value": "mensa"},
        {"start": 46, "end": 52, "entity": "neighbourhood", "value": "Novoli"},
    ]
    assert not problems, problems
