"""The hand-off protocol end to end on the real gateway (uvicorn, lifespan) with the web chat:
queue, honest messages, Rasa paused and resumed, human-mode messages to the console only,
claim, reply, close, CSAT, back to the bot."""

from __future__ import annotations

from typing import Any

from care import handoff_wording as wording
from care.handoff_models import HandoffStatus
from conversations.models import Mode
from tests.handoff.conftest import (
    Citizen,
    Live,
    StaffClient,
    closed_today_hours,
    make_care_manager,
)
from tests.handoff.fake_rasa_api import FakeRasaApi


def _handoff_of(live: Live, conversation_id: str) -> Any:
    return live.wait_until(
        lambda: next((h for h in live.handoffs() if h.conversation_id == conversation_id), None),
        what="the hand-off",
    )


def test_round_trip_on_the_web_chat(start_live, fake_rasa: FakeRasaApi, people: list) -> None:
    live: Live = start_live()
    citizen = Citizen(live.url)
    people.append(citizen)
    citizen.start()
    citizen.say("voglio parlare con un operatore")
    citizen.wait_for("ti metto in contatto")  # Rasa's words
    told = citizen.wait_for("Care Manager")  # ours: honest about when
    assert "ti scriverà" in told["text"] or "appena possibile" in told["text"]
    cid = citizen.conversation_id(live)
    handoff = _handoff_of(live, cid)
    assert handoff.status == HandoffStatus.waiting and handoff.priority == "normal"
    assert handoff.sla_due_at is not None and handoff.sla_due_at > handoff.requested_at
    assert live.conversation(cid).mode == Mode.human
    live.wait_until(lambda: fake_rasa.events_of(cid) == ["pause"], what="rasa paused")

    citizen.say("mi serve aiuto con l'affitto")  # human mode: for the console, not Rasa
    live.wait_until(
        lambda: any(m.data.get("route") == "human" for m in live.messages(cid)), what="routed"
    )
    assert "mi serve aiuto con l'affitto" not in fake_rasa.messages()
    assert fake_rasa.ignored == []

    cm = StaffClient(live.url, make_care_manager(live.engine)).login()
    people.append(cm)
    queue = cm.queue()
    assert queue.status_code == 200 and f"n. {handoff.id}" in queue.text
    assert cm.claim(handoff.id).status_code == 303
    page = cm.page(handoff.id)
    assert page.status_code == 200
    assert "mi serve aiuto con l" in page.text  # the whole history, bot turns included
    assert "ti metto in contatto" in page.text
    sent = cm.reply(handoff.id, "Buongiorno, sono Giulia del Comune.")
    assert sent.status_code == 200, sent.text
    assert sent.json()["message"]["author"] == "staff"
    message = citizen.wait_for("sono Giulia")
    assert message["author"] == "staff"

    canned = cm.reply(handoff.id, "/orari")
    assert canned.status_code == 200 and "Welcome Point" in canned.json()["message"]["text"]
    unknown = cm.reply(handoff.id, "/nonesiste")
    assert unknown.status_code == 409 and "nonesiste" in unknown.json()["detail"]

    assert cm.close(handoff.id, outcome="referred").status_code == 303
    citizen.wait_for(wording.CLOSED[:40])
    question = citizen.wait_for(wording.CSAT_QUESTION)
    live.wait_until(lambda: fake_rasa.events_of(cid) == ["pause", "resume"], what="resumed")
    closed = _handoff_of(live, cid)
    assert closed.status == HandoffStatus.closed and closed.outcome == "referred"
    assert [b["title"] for b in question["buttons"]] == [t for _, t in wording.CSAT_BUTTONS]

    citizen.tap(question["buttons"][0]["ref"])  # 😊 Bene
    citizen.wait_for(wording.CSAT_THANKS[:20])
    live.wait_until(lambda: live.conversation(cid).mode == Mode.bot, what="back to the bot")
    (answer,) = live.csat()
    assert answer.score == 3 and answer.answered_at is not None

    before = len(fake_rasa.requests)
    citizen.say("cerco un doposcuola")  # the bot carries on
    citizen.wait_for("Ho trovato")
    assert fake_rasa.messages()[before:] == ["cerco un doposcuola"]
    assert fake_rasa.ignored == []


def test_outside_office_hours_the_citizen_is_told_when(
    start_live, fake_rasa: FakeRasaApi, people: list
) -> None:
    live: Live = start_live(office=closed_today_hours())
    citizen = Citizen(live.url)
    people.append(citizen)
    citizen.start()
    citizen.say("/operatore")
    told = citizen.wait_for("uffici dei Welcome Point sono chiusi")
    assert "domani" in told["text"] and "alle 9:00" in told["text"]
    assert "112" not in told["text"]  # not an emergency


def test_an_emergency_goes_first_with_the_numbers(
    start_live, fake_rasa: FakeRasaApi, people: list
) -> None:
    live: Live = start_live(office=closed_today_hours())
    calm, scared = Citizen(live.url), Citizen(live.url)
    people.extend([calm, scared])
    calm.start()
    scared.start()
    calm.say("voglio parlare con un operatore")
    calm.wait_for("uffici dei Welcome Point sono chiusi")
    scared.say("mio marito mi picchia")  # the gateway's safety net
    told = scared.wait_for("uffici dei Welcome Point sono chiusi")
    assert "112" in told["text"] and "1522" in told["text"]
    scared_id = scared.conversation_id(live)
    live.wait_until(lambda: len(live.handoffs()) == 2, what="two hand-offs")
    first = live.handoffs()
    emergency = next(h for h in first if h.conversation_id == scared_id)
    assert emergency.priority == "top"
    cm = StaffClient(live.url, make_care_manager(live.engine)).login()
    people.append(cm)
    page = cm.queue().text
    assert page.index(f"n. {emergency.id}") < page.index(f"n. {first[0].id}")
    assert "🚨 EMERGENZA" in page


def test_a_second_request_while_waiting_changes_nothing_but_an_emergency_raises_priority(
    start_live, fake_rasa: FakeRasaApi, people: list
) -> None:
    live: Live = start_live()
    citizen = Citizen(live.url)
    people.append(citizen)
    citizen.start()
    citizen.say("/operatore")
    cid = citizen.conversation_id(live)
    handoff = _handoff_of(live, cid)
    citizen.say("/operatore")  # human mode: goes to the console
    citizen.say("ho paura, mio marito mi picchia")
    live.wait_until(lambda: live.handoffs()[0].priority == "top", what="raised to top priority")
    assert [h.id for h in live.handoffs()] == [handoff.id]


def test_two_failures_of_the_assistant_hand_off(
    start_live, fake_rasa: FakeRasaApi, people: list
) -> None:
    """action_default_fallback (two misses in a row) raises a bot_failure flag: a person takes
    over, without the citizen having to ask."""
    from care.flags import raise_flag
    from care.models import FlagKind, FlagPriority
    from core.db import session_scope

    live: Live = start_live()
    citizen = Citizen(live.url)
    people.append(citizen)
    citizen.start()
    cid = citizen.conversation_id(live)
    with session_scope(live.engine) as session:
        raise_flag(
            session,
            conversation_id=cid,
            kind=FlagKind.bot_failure,
            priority=FlagPriority.normal,
            source="rasa_action",
            reason="two_fallbacks",
        )
    citizen.wait_for("Care Manager")
    handoff = _handoff_of(live, cid)
    assert handoff.reason == "bot_failure" and live.conversation(cid).mode == Mode.human
