"""Nothing is lost if the gateway restarts in the middle of a hand-off: the state is in the
database, and the reconcile loop finishes the steps a crash interrupted."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update
from sqlmodel import Session

from care import handoff as core
from care.handoff_models import Handoff, HandoffStatus, Outcome
from conversations.models import Conversation, Mode
from core.db import session_scope
from core.timeutil import utcnow
from tests.handoff.conftest import Citizen, Live, StaffClient, make_care_manager
from tests.handoff.fake_rasa_api import FakeRasaApi


def test_restart_while_waiting_and_while_chatting(
    start_live, fake_rasa: FakeRasaApi, people: list
) -> None:
    first: Live = start_live()
    citizen = Citizen(first.url)
    people.append(citizen)
    citizen.start()
    citizen.say("/operatore")
    citizen.wait_for("Care Manager")
    cid = citizen.conversation_id(first)
    citizen.say("prima del riavvio")
    first.wait_until(
        lambda: any(
            m.text == "prima del riavvio" and m.data.get("route") for m in first.messages(cid)
        ),
        what="routed to the console",
    )
    first.stop()

    second: Live = start_live()
    citizen = Citizen(second.url, token=citizen.token)
    people.append(citizen)
    citizen.say("dopo il riavvio")
    (handoff,) = second.handoffs()
    assert handoff.status == HandoffStatus.waiting
    cm = StaffClient(second.url, make_care_manager(second.engine)).login()
    people.append(cm)
    assert cm.claim(handoff.id).status_code == 303
    second.wait_until(
        lambda: any(
            m.text == "dopo il riavvio" and m.data.get("route") for m in second.messages(cid)
        ),
        what="still for the console",
    )
    page = cm.page(handoff.id).text
    assert "prima del riavvio" in page and "dopo il riavvio" in page
    assert cm.reply(handoff.id, "Eccomi.").status_code == 200
    citizen.wait_for("Eccomi.")
    second.stop()

    third: Live = start_live()
    citizen = Citizen(third.url, token=citizen.token)
    cm = StaffClient(third.url, cm.member).login()
    people.extend([citizen, cm])
    assert cm.reply(handoff.id, "Sono ancora qui.").status_code == 200  # still hers
    citizen.wait_for("Sono ancora qui.")
    assert cm.close(handoff.id, csat=False).status_code == 303
    third.wait_until(lambda: third.conversation(cid).mode == Mode.bot, what="back to the bot")
    assert fake_rasa.ignored == []
    assert all(t not in fake_rasa.messages() for t in ("prima del riavvio", "dopo il riavvio"))


def test_a_crash_between_the_steps_is_completed_after_restart(
    start_live, fake_rasa: FakeRasaApi, sqlite_url: str, people: list
) -> None:
    live: Live = start_live()
    waiting, closing = Citizen(live.url), Citizen(live.url)
    people.extend([waiting, closing])
    waiting.start()
    closing.start()
    waiting_id, closing_id = waiting.conversation_id(live), closing.conversation_id(live)
    cm = make_care_manager(live.engine)
    live.stop()

    # as if the gateway died right after committing the switch to human mode (before the
    # hand-off was stored), and in the middle of closing another hand-off
    past = utcnow() - timedelta(minutes=1)
    with session_scope(live.engine) as session:
        session.execute(
            update(Conversation)
            .where(Conversation.conversation_id.in_([waiting_id, closing_id]))
            .values(mode="human", mode_reason="requested", mode_changed_at=past)
        )
        session.add(
            Handoff(
                conversation_id=closing_id,
                status=HandoffStatus.assigned,
                assigned_to=cm.id,
                requested_at=past,
                claimed_at=past,
                citizen_told_at=past,
                rasa_paused_at=past,
            )
        )
    with session_scope(live.engine) as session:
        hid = core.open_handoff(session, conversation_id=closing_id).id
        assert core.close(
            session, handoff_id=hid, staff_id=cm.id, outcome=Outcome.resolved, now=past
        )

    again: Live = start_live()
    waiting = Citizen(again.url, token=waiting.token)
    people.append(waiting)
    waiting.wait_for("Care Manager")  # the hand-off was recreated and the citizen told
    again.wait_until(lambda: again.conversation(closing_id).mode == Mode.bot, what="returned")

    def closed_handoff() -> Handoff | None:
        with Session(again.engine) as session:
            return session.get(Handoff, hid)

    # the mode switches before the step is marked done: wait for the mark, not the mode
    closed = again.wait_until(
        lambda: (h := closed_handoff()) is not None and h.returned_at is not None and h,
        what="return marked",
    )
    assert closed.rasa_resumed_at is not None
    with Session(again.engine) as session:
        recreated = core.open_handoff(session, conversation_id=waiting_id)
        assert recreated is not None and recreated.reason == "recovered"
    again.wait_until(lambda: "pause" in fake_rasa.events_of(waiting_id), what="paused")
    assert fake_rasa.events_of(closing_id) == ["resume"]
