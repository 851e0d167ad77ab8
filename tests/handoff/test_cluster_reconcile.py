"""The hand-off's reconcile pass with two gateway processes (issue 18): one database
(PostgreSQL), one Redis, one SECRET_KEY. A hand-off whose steps a crash interrupted is
finished once: the citizen is told once that a person will answer, Rasa is paused once.

Without the lease (server.console: the reconcile pass in one process at a time) and the
hand-off locks shared through Redis, both processes read the same unfinished step while
the first one is still doing it (Rasa made slow here) and the citizen got the message twice.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import update

from care.handoff_models import Handoff, HandoffStatus
from conversations.models import Conversation, Direction
from core.db import session_scope
from core.timeutil import utcnow
from tests.handoff.conftest import Citizen, Live
from tests.handoff.fake_rasa_api import FakeRasaApi


def _ticks(live: Live) -> int:
    reconciler = live.service.reconciler
    return reconciler.runs + reconciler.skipped


def test_two_gateways_finish_an_interrupted_hand_off_once(
    start_live, fake_rasa: FakeRasaApi, postgres_url: str, redis_url: str, people: list
) -> None:
    cluster = {"gateway_redis_url": redis_url, "secret_key": "cluster-" + uuid.uuid4().hex}
    one: Live = start_live(postgres_url, **cluster)
    two: Live = start_live(postgres_url, **cluster)
    citizen = Citizen(one.url)
    people.append(citizen)
    citizen.start()
    cid = citizen.conversation_id(one)
    mark = max(m.id for m in one.messages(cid) if m.id is not None)

    # as if a gateway died right after storing the hand-off, before pausing Rasa and telling
    # the citizen; Rasa answers slowly, so a second pass would find the step still undone
    fake_rasa.event_delay = 0.5
    past = utcnow() - timedelta(minutes=1)
    with session_scope(one.engine) as session:
        session.execute(
            update(Conversation)
            .where(Conversation.conversation_id == cid)  # type: ignore[arg-type]
            .values(mode="human", mode_reason="requested", mode_changed_at=past)
        )
        session.add(Handoff(conversation_id=cid, status=HandoffStatus.waiting, requested_at=past))

    def finished() -> bool:
        (handoff,) = one.handoffs()
        return handoff.citizen_told_at is not None and handoff.rasa_paused_at is not None

    one.wait_until(finished, timeout=15, what="the interrupted steps finished")
    # a few more passes of both processes: nothing more happens
    start = _ticks(one), _ticks(two)
    one.wait_until(
        lambda: _ticks(one) >= start[0] + 3 and _ticks(two) >= start[1] + 3,
        timeout=15,
        what="three more reconcile passes in each process",
    )
    told = [m for m in one.messages(cid) if m.id > mark and m.direction == Direction.outbound]
    assert [m.text for m in told] == [told[0].text] and "Care Manager" in told[0].text
    assert fake_rasa.events_of(cid) == ["pause"]
    # one process did the passes, the other left them to it
    skipped = sorted(live.service.reconciler.skipped for live in (one, two))
    assert skipped[0] == 0 and skipped[1] > 0
