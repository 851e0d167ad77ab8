"""The hook the hand-off console uses: a Care Manager sees the queue and their own
conversations, nothing else (checked as SQL on SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, and_, insert, select
from sqlalchemy.engine import Engine

from console.auth import CurrentStaff
from console.scope import can_act_on_conversation, can_see_conversation, visible_conversations
from staff.roles import Role

metadata = MetaData()
conversation = Table(
    "scope_test_conversation",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("mode", String(10)),
    Column("assigned_staff_id", Integer, nullable=True),
)


def _staff(staff_id: int, *roles: Role) -> CurrentStaff:
    return CurrentStaff(
        id=staff_id,
        email=f"{staff_id}@example.org",
        full_name="X",
        roles=frozenset(roles),
        welcome_place_code=None,
        provider_code=None,
        must_change_password=False,
        session_id=1,
        csrf_token="t",
    )


@pytest.fixture
def conversations(engine: Engine) -> Iterator[Engine]:
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(
            insert(conversation),
            [
                {"id": "queued", "mode": "human", "assigned_staff_id": None},
                {"id": "mine", "mode": "human", "assigned_staff_id": 1},
                {"id": "colleague", "mode": "human", "assigned_staff_id": 2},
                {"id": "bot", "mode": "bot", "assigned_staff_id": None},
            ],
        )
    yield engine
    metadata.drop_all(engine)


def _visible(engine: Engine, staff: CurrentStaff) -> set[str]:
    clause = visible_conversations(
        staff,
        assignee=conversation.c.assigned_staff_id,
        in_queue=and_(conversation.c.mode == "human", conversation.c.assigned_staff_id.is_(None)),
    )
    with engine.connect() as conn:
        return set(conn.scalars(select(conversation.c.id).where(clause)))


def test_a_care_manager_sees_the_queue_and_their_own(conversations: Engine) -> None:
    assert _visible(conversations, _staff(1, Role.care_manager)) == {"queued", "mine"}
    assert _visible(conversations, _staff(2, Role.care_manager)) == {"queued", "colleague"}


def test_other_roles_see_no_conversation(conversations: Engine) -> None:
    assert _visible(conversations, _staff(1, Role.admin, Role.hub_staff)) == set()


def test_single_conversation_checks() -> None:
    anna = _staff(1, Role.care_manager)
    assert can_see_conversation(anna, assignee_id=None, in_queue=True)
    assert can_see_conversation(anna, assignee_id=1, in_queue=False)
    assert not can_see_conversation(anna, assignee_id=2, in_queue=False)
    assert not can_see_conversation(_staff(1, Role.admin), assignee_id=1, in_queue=True)
    assert can_act_on_conversation(anna, assignee_id=1)
    assert not can_act_on_conversation(anna, assignee_id=None)
    assert not can_act_on_conversation(anna, assignee_id=2)
