"""«L'assistente ha capito male» in a hand-off: the Care Manager's mark puts the citizen's
message in the review inbox, with what the model understood (from the tracker store, written
here as Rasa writes it); only messages of that hand-off's conversation, only care_manager.
On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlmodel import Session, select

from console.audit import AuditLog
from conversations.models import Direction
from core.db import make_engine
from review.models import Reason, ReviewItem
from staff.roles import Role
from tests.handoff.conftest import PASSWORD, Citizen, Live, StaffClient, make_care_manager
from tests.handoff.fake_rasa_api import FakeRasaApi
from tests.handoff.test_browser import browser  # noqa: F401  (Chromium)
from tests.review.tracker_events import user_event

CONFUSED = "il coso per la luce che non arriva più"


def _mark(cm: StaffClient, handoff_id: int, message_id: int) -> httpx.Response:
    return cm.http.post(
        f"/console/coda/{handoff_id}/messaggi/{message_id}/capito-male",
        headers={"X-CSRF-Token": cm.csrf, "Accept": "application/json"},
    )


def test_a_care_manager_marks_a_message(
    start_live: Callable[..., Live],
    fake_rasa: FakeRasaApi,
    people: list[Any],
    db_url: str,
    tmp_path: Any,
) -> None:
    tracker_url = f"sqlite:///{tmp_path / 'tracker.db'}"
    tracker = make_engine(tracker_url)
    live = start_live(db_url, rasa_tracker_db_url=tracker_url)
    citizen = Citizen(live.url)
    people.append(citizen)
    citizen.start()
    citizen.say(CONFUSED)
    citizen.wait_for("Hai scritto")
    cid = citizen.conversation_id(live)
    asked = next(m for m in live.messages(cid) if m.text == CONFUSED)
    answer = next(m for m in live.messages(cid) if m.reply_to_id == asked.id)
    assert asked.id is not None and answer.id is not None
    user_event(tracker, sender=cid, text=CONFUSED, message_id=asked.id,
               intent="check_budget", confidence=0.71)  # fmt: skip
    citizen.say("voglio parlare con un operatore")
    handoff = live.wait_until(
        lambda: next((h for h in live.handoffs() if h.conversation_id == cid), None),
        what="the hand-off",
    )
    cm = StaffClient(live.url, make_care_manager(live.engine)).login()
    people.append(cm)
    assert cm.claim(handoff.id).status_code == 303
    assert "/messaggi/" in cm.page(handoff.id).text  # the page's script knows where to post

    # the bot's answer: the request behind it is what goes to review
    marked = _mark(cm, handoff.id, answer.id)
    assert marked.status_code == 200, marked.text
    assert marked.json() == {"queued": True}
    with Session(live.engine) as session:
        items = list(session.exec(select(ReviewItem)))
        audit = [a.action for a in session.exec(select(AuditLog))]
    assert [(i.message_id, i.reasons) for i in items] == [(asked.id, [Reason.staff_marked])]
    assert (items[0].intent, items[0].confidence) == ("check_budget", 0.71)
    assert "handoff.misunderstood" in audit
    # a message of another conversation: not found, nothing queued
    other = Citizen(live.url)
    people.append(other)
    other.start()
    other_message = next(
        m for m in live.messages(other.conversation_id(live)) if m.direction == Direction.inbound
    )
    assert other_message.id is not None
    assert _mark(cm, handoff.id, other_message.id).status_code == 404
    # a reviewer is not a Care Manager
    reviewer = StaffClient(live.url, make_care_manager(live.engine, Role.nlu_reviewer)).login()
    people.append(reviewer)
    assert _mark(reviewer, handoff.id, asked.id).status_code == 403
    with Session(live.engine) as session:
        assert len(list(session.exec(select(ReviewItem)))) == 1
    tracker.dispose()


@pytest.mark.browser
def test_the_button_in_chromium(
    browser: Any,  # noqa: F811 (the imported fixture)
    start_live: Callable[..., Live],
    fake_rasa: FakeRasaApi,
    people: list[Any],
) -> None:
    live = start_live()
    member = make_care_manager(live.engine)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    citizen = Citizen(live.url)
    people.append(citizen)
    citizen.start()
    citizen.say(CONFUSED)
    citizen.wait_for("Hai scritto")
    citizen.say("voglio parlare con un operatore")
    cid = citizen.conversation_id(live)
    handoff = live.wait_until(
        lambda: next((h for h in live.handoffs() if h.conversation_id == cid), None),
        what="the hand-off",
    )
    page.goto(f"{live.url}/console/coda")
    page.get_by_label("Email").fill(member.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Accedi").click()
    page.wait_for_url(f"{live.url}/console/coda")
    page.get_by_role("button", name=f"Prendi in carico n. {handoff.id}").click()
    page.wait_for_selector("#handoff-app[data-connected='1']")
    message = page.locator("#chat li.msg-citizen", has_text=CONFUSED)
    message.get_by_role("button", name="L'assistente ha capito male").click()
    message.get_by_text("Segnalato per la revisione.").wait_for(timeout=5000)
    with Session(live.engine) as session:
        items = list(session.exec(select(ReviewItem)))
    assert [i.reasons for i in items] == [[Reason.staff_marked]]
    assert not problems, problems
