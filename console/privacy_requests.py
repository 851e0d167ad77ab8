"""What the erasure and the data copy sections share: a request marked done by hand.

Both kinds are conversation flags (privacy.requests); «Segna come evasa» closes one when
the team answered some other way, with the section's audit line.
"""

from __future__ import annotations

from fastapi import HTTPException
from sqlmodel import Session

from care.models import FlagKind
from console import audit
from console.auth import CurrentStaff
from core.timeutil import utcnow
from privacy import requests


def mark_request_done(
    session: Session,
    *,
    kind: FlagKind,
    action: str,
    staff: CurrentStaff,
    request_id: int,
    ip: str,
) -> bool:
    """False when the request is no longer open; 409 when a colleague marked it meanwhile."""
    if requests.get_open_request(session, kind=kind, request_id=request_id) is None:
        return False
    if not requests.mark_done(session, kind=kind, request_id=request_id, now=utcnow()):
        raise HTTPException(409, "Un collega ha appena evaso questa richiesta.")
    audit.record(
        session,
        action=action,
        actor_id=staff.id,
        object_type=kind.value,
        object_id=request_id,
        ip=ip,
    )
    return True
