"""Which conversations a member of staff may see: the data layer's hook for the hand-off console.

A Care Manager sees only the conversations waiting in the queue and those assigned to them;
anyone without the care_manager role sees none. The gateway owns the conversation table, so
the rule takes its columns::

    from console.scope import visible_conversations

    query = select(Conversation).where(
        visible_conversations(
            staff,
            assignee=Conversation.assigned_staff_id,
            in_queue=and_(Conversation.mode == "human", Conversation.assigned_staff_id.is_(None)),
        )
    )

and, for one conversation already loaded (a detail page, a websocket, a reply),
``can_see_conversation(staff, assignee_id=..., in_queue=...)``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import false, or_
from sqlalchemy.sql.elements import ColumnElement

from console.auth import CurrentStaff
from staff.roles import Role


def visible_conversations(
    staff: CurrentStaff, *, assignee: Any, in_queue: ColumnElement[bool]
) -> ColumnElement[bool]:
    """A WHERE clause: the conversations ``staff`` may see."""
    if Role.care_manager not in staff.roles:
        return false()
    return or_(in_queue, assignee == staff.id)


def can_see_conversation(staff: CurrentStaff, *, assignee_id: int | None, in_queue: bool) -> bool:
    if Role.care_manager not in staff.roles:
        return False
    return in_queue or assignee_id == staff.id


def can_act_on_conversation(staff: CurrentStaff, *, assignee_id: int | None) -> bool:
    """Writing to a citizen, noting, closing: only the Care Manager who holds the conversation."""
    return Role.care_manager in staff.roles and assignee_id == staff.id
