"""One owner at a time: of two Care Managers claiming the same hand-off at the same moment,
exactly one wins (a conditional UPDATE), on SQLite and on PostgreSQL; two simultaneous
requests for one conversation make one hand-off."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from care import handoff as core
from care.handoff_models import Handoff
from care.sla import OfficeHours
from core.db import session_scope
from core.timeutil import utcnow
from tests.handoff.conftest import make_care_manager

OPEN = OfficeHours.parse("tutti i giorni 00:00-24:00")
ROUNDS = 8


def _together(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls in threads released at the same instant; their results in order."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)
    errors: list[BaseException] = []

    def run(index: int, call: Callable[[], Any]) -> None:
        barrier.wait()
        try:
            results[index] = call()
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    return results


def test_two_concurrent_claims_exactly_one_wins(engine: Engine) -> None:
    anna, bruno = make_care_manager(engine), make_care_manager(engine)
    for n in range(ROUNDS):
        with session_scope(engine) as session:
            hid = core.request_handoff(
                session, conversation_id=f"{n:032x}", now=utcnow(), office=OPEN
            ).handoff.id

        def claim(staff_id: int, hid: int = hid) -> bool:
            with session_scope(engine) as session:
                return core.claim(session, handoff_id=hid, staff_id=staff_id, now=utcnow())

        results = _together(lambda: claim(anna.id), lambda: claim(bruno.id))
        assert sorted(results) == [False, True], results
        with Session(engine) as session:
            handoff = session.get(Handoff, hid)
            winner = anna.id if results[0] else bruno.id
            assert handoff.assigned_to == winner
            assert [t.to_staff_id for t in core.transfers_of(session, handoff_id=hid)] == [winner]


def test_concurrent_requests_make_one_handoff(engine: Engine) -> None:
    for n in range(ROUNDS):
        cid = f"c{n:031x}"

        def request(cid: str = cid) -> bool:
            with session_scope(engine) as session:
                return core.request_handoff(
                    session, conversation_id=cid, now=utcnow(), office=OPEN
                ).created

        results = _together(request, request)
        assert sorted(results) == [False, True], results
        with Session(engine) as session:
            rows = session.exec(select(Handoff).where(Handoff.conversation_id == cid)).all()
            assert len(rows) == 1
