"""What the erasure and the data copy sections share: the list of open requests, a request
marked done by hand, and the way back to the list with a notice.

Both kinds are conversation flags (privacy.requests); «Segna come evasa» closes one when
the team answered some other way, with the section's audit line.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from care.models import FlagKind
from console import audit
from console.auth import CurrentStaff, Db, client_ip
from console.web import console_path, render
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


def back_to_list(request: Request, list_route: str, msg: str) -> RedirectResponse:
    """The section's list of requests, with the notice ``msg``."""
    return RedirectResponse(f"{console_path(request, list_route)}?msg={msg}", status_code=303)


def done_by_hand(
    request: Request,
    db: Db,
    staff: CurrentStaff,
    request_id: int,
    *,
    kind: FlagKind,
    action: str,
    list_route: str,
) -> RedirectResponse:
    """«Segna come evasa»: the request closed with its audit line, back to the list."""
    done = db.run_sync(
        mark_request_done,
        kind=kind,
        action=action,
        staff=staff,
        request_id=request_id,
        ip=client_ip(request),
    )
    return back_to_list(request, list_route, "done" if done else "gone")


RowsOf = Callable[..., list[Any]]


def list_page(
    request: Request, db: Db, staff: CurrentStaff, *, template: str, rows: RowsOf, notice: str
) -> Response:
    """The section's open requests (``rows(session, staff, now=)``), oldest first."""
    return render(
        request,
        template,
        {"rows": db.run_sync(rows, staff=staff, now=utcnow()), "notice": notice},
        staff=staff,
    )
