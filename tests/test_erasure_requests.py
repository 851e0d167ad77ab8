"""Erasure requests are their own flag kind, apart from any hand-off (SQLite and PostgreSQL).

A citizen who asks to erase their data while a hand-off runs: the hand-off keeps its
priority, closing it leaves the request open, and the request is marked done alone.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session

from care import handoff as core
from care.flags import open_flags, raise_flag
from care.handoff_models import Outcome
from care.models import FlagKind, FlagPriority
from care.sla import office_hours
from console.staff import create_staff
from core.db import make_engine, session_scope
from core.migrate import upgrade
from privacy import erasure
from staff.roles import Role
from tests.conftest import POSTGRES_ADMIN_URL, unavailable

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
CID = "c" * 32


def kinds(session: Session, conversation_id: str = CID) -> list[str]:
    return sorted(str(f.kind) for f in open_flags(session, conversation_id=conversation_id))


def test_a_request_is_stored_once_with_its_deadline(engine: Engine) -> None:
    with session_scope(engine) as session:
        first = erasure.request_erasure(session, conversation_id=CID, source="rasa_action")
        again = erasure.request_erasure(session, conversation_id=CID, source="rasa_action")
    assert again.id == first.id
    assert first.due_at - first.requested_at == timedelta(days=30)
    with Session(engine) as session:
        assert [r.id for r in erasure.open_requests(session)] == [first.id]
        assert kinds(session) == ["erasure_request"]


def test_a_running_handoff_is_left_alone_and_closing_it_keeps_the_request(
    engine: Engine,
) -> None:
    with session_scope(engine) as session:
        staff_id = create_staff(
            session,
            email="cm@comune.example.it",
            full_name="Anna Rossi",
            roles=(Role.care_manager,),
            password="cavolo nero e ribollita",
        ).id
    with session_scope(engine) as session:
        office = office_hours(session)
        raise_flag(
            session,
            conversation_id=CID,
            kind=FlagKind.handoff,
            priority=FlagPriority.normal,
            source="rasa_action",
            reason="requested",
        )
        handoff = core.request_handoff(
            session, conversation_id=CID, priority="high", now=NOW, office=office
        ).handoff
        request = erasure.request_erasure(session, conversation_id=CID, source="rasa_action")
    with session_scope(engine) as session:
        # the request neither creates a second hand-off nor changes the running one
        assert core.open_handoff(session, conversation_id=CID).id == handoff.id
        assert core.open_handoff(session, conversation_id=CID).priority == "high"
        assert core.priority_from_flags(session, conversation_id=CID, since=None) == "normal"
        assert kinds(session) == ["erasure_request", "handoff"]
        assert core.claim(session, handoff_id=handoff.id, staff_id=staff_id, now=NOW)
    with session_scope(engine) as session:
        assert core.close(
            session, handoff_id=handoff.id, staff_id=staff_id, outcome=Outcome.resolved, now=NOW
        )
    with Session(engine) as session:
        assert kinds(session) == ["erasure_request"]  # the hand-off's flag is resolved, not it
        assert [r.id for r in erasure.open_requests(session)] == [request.id]


def test_marking_done_touches_only_the_request_and_only_once(engine: Engine) -> None:
    with session_scope(engine) as session:
        raise_flag(
            session,
            conversation_id=CID,
            kind=FlagKind.emergency,
            priority=FlagPriority.top,
            source="safety_net",
            reason="safety_net:violence",
        )
        request = erasure.request_erasure(session, conversation_id=CID, source="rasa_action")
        other = erasure.request_erasure(session, conversation_id="d" * 32, source="rasa_action")

    def done() -> bool:
        with session_scope(engine) as session:
            return erasure.mark_done(session, request_id=request.id, now=NOW)

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: done(), range(4)))
    assert results.count(True) == 1
    with Session(engine) as session:
        assert kinds(session) == ["emergency"]
        assert [r.id for r in erasure.open_requests(session)] == [other.id]
        assert erasure.get_open_request(session, request_id=request.id) is None
        # an emergency flag's id is never taken for an erasure request
        emergency = open_flags(session, conversation_id=CID)[0]
        assert emergency.id is not None
        assert not erasure.mark_done(session, request_id=emergency.id, now=NOW)


# --- migration 0013: requests merged into hand-off flags become their own ------------------


@pytest.fixture(params=["sqlite", "postgres"])
def blank_engine(request: pytest.FixtureRequest, tmp_path) -> Iterator[Engine]:
    """An empty database (no schema), to migrate step by step."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'blank.db'}")
        yield engine
        engine.dispose()
        return
    request.applymarker(pytest.mark.postgres)
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text("select 1"))
    except Exception:
        admin.dispose()
        unavailable(f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL}")
    name = f"welcome_m_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_ADMIN_URL).set(database=name)
    engine = make_engine(url.render_as_string(hide_password=False))
    yield engine
    engine.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_migration_0013_separates_the_requests(blank_engine: Engine) -> None:
    upgrade(blank_engine, "0012")
    rows = [
        # conversation, kind, reason, resolved
        ("a" * 32, "handoff", "forget_me", False),  # the request alone
        ("b" * 32, "handoff", "requested+forget_me", False),  # merged into a hand-off flag
        ("e" * 32, "handoff", "forget_me", True),  # history: untouched
        ("f" * 32, "handoff", "requested", False),  # a plain hand-off flag: untouched
    ]
    created = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    with blank_engine.begin() as conn:
        for cid, kind, reason, resolved in rows:
            resolved_at = created if resolved else None
            conn.execute(
                text(
                    "INSERT INTO conversation_flag (conversation_id, kind, priority, source, "
                    "reason, created_at, resolved_at) VALUES (:c, :k, 'normal', 'rasa_action', "
                    ":r, :t, :x)"
                ),
                {"c": cid, "k": kind, "r": reason, "t": created, "x": resolved_at},
            )
    upgrade(blank_engine, "0013")
    with blank_engine.connect() as conn:
        found = conn.execute(
            text(
                "SELECT conversation_id, kind, reason, resolved_at IS NULL FROM conversation_flag "
                "ORDER BY conversation_id, kind"
            )
        ).all()
    assert [tuple(row) for row in found] == [
        ("a" * 32, "erasure_request", "forget_me", True),
        ("b" * 32, "erasure_request", "forget_me", True),
        ("b" * 32, "handoff", "requested", True),
        ("e" * 32, "handoff", "forget_me", False),
        ("f" * 32, "handoff", "requested", True),
    ]
    with Session(blank_engine) as session:
        requests = erasure.open_requests(session)
        assert sorted(r.conversation_id for r in requests) == ["a" * 32, "b" * 32]
        assert all(r.requested_at == created for r in requests)  # deadline never later


def test_the_conversation_page_names_the_kind_in_italian() -> None:
    from care.models import ConversationFlag
    from console.handoff.views import flag_label

    flag = ConversationFlag(
        conversation_id=CID,
        kind=FlagKind.erasure_request,
        priority=FlagPriority.normal,
        source="rasa_action",
    )
    assert flag_label(flag).startswith("ha chiesto di cancellare i suoi dati")
