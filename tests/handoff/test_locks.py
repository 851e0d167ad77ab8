"""The hand-off service keeps a lock only for the conversations it is working on right now
(core.locks.KeyedLocks, the gateway's table): none is left behind once hand-offs are done."""

from __future__ import annotations

from care import handoff_wording as wording
from care.handoff_models import HandoffStatus
from core.locks import KeyedLocks
from tests.handoff.conftest import Citizen, Live, StaffClient, make_care_manager


def test_the_service_uses_the_shared_bounded_lock_table(start_live, people: list) -> None:
    live: Live = start_live()
    assert isinstance(live.service.locks, KeyedLocks)
    cm = StaffClient(live.url, make_care_manager(live.engine)).login()
    people.append(cm)
    citizens = []
    for _ in range(4):  # four citizens, each handed to a person and back
        citizen = Citizen(live.url)
        people.append(citizen)
        citizen.start()
        citizen.say("voglio parlare con un operatore")
        citizen.wait_for("Care Manager")
        citizens.append(citizen)
    for citizen in citizens:
        cid = citizen.conversation_id(live)
        handoff = live.wait_until(
            lambda cid=cid: next(
                (
                    h
                    for h in live.handoffs()
                    if h.conversation_id == cid and h.status == HandoffStatus.waiting
                ),
                None,
            ),
            what="the hand-off",
        )
        assert cm.claim(handoff.id).status_code == 303
        said = citizen.say("grazie, ho risolto")  # human mode: through the service's lock
        live.wait_until(
            lambda cid=cid, said=said: any(
                m.id == said and m.data.get("route") == "human" for m in live.messages(cid)
            ),
            what="the message for the console",
        )
        assert cm.close(handoff.id).status_code == 303
        question = citizen.wait_for(wording.CSAT_QUESTION)
        citizen.tap(question["buttons"][0]["ref"])
        citizen.wait_for(wording.CSAT_THANKS[:30])
    assert len(live.handoffs()) == 4
    assert all(h.status == HandoffStatus.closed for h in live.handoffs())
    # the reconcile loop (every 0.2 s) still takes locks: the table empties between passes
    live.wait_until(lambda: len(live.service.locks) == 0, what="no lock left")
