"""The erasure requests pages (mounted at /cancellazioni; care_manager and admin).

``/cancellazioni``: the open requests. ``/cancellazioni/{id}``: one request with the
confirmation step, which lists what «Cancella i dati» deletes and what it keeps, and why.
``POST /cancellazioni/{id}/cancella`` (with the confirmation box ticked): refused while a
hand-off of the conversation is open; else the citizen gets a last message on their channel
through the running gateway (stored and sent like every console message, under the
conversation's lock), then ``privacy.erasure.erase`` deletes everything, that message too, and
marks the request done, with the audit line of who and when, in one transaction.
``POST /cancellazioni/{id}/evasa`` marks a request done by hand (the data erased elsewhere).
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from care.handoff import open_handoff
from care.models import FlagKind
from console import audit
from console.auth import CurrentStaff, Db, client_ip, require_roles
from console.erasure.views import ErasureRow, erasure_rows, request_row
from console.privacy_requests import back_to_list, done_by_hand, list_page
from console.state import console_state
from console.web import console_path, render
from conversations import repository as repo
from conversations.models import Conversation, Status
from conversations.outgoing import Outgoing
from core.settings import Settings
from core.timeutil import utcnow
from privacy.erasure import (
    CONFIRMATION_TEXT,
    ErasureOutcome,
    ErasurePlan,
    HandoffStillOpen,
    RequestGone,
    erase,
    erasure_plan,
    get_open_request,
)
from privacy.retention import tracker_engine_url
from staff.roles import Role

log = logging.getLogger(__name__)
ROLES = frozenset({Role.care_manager, Role.admin})
router = APIRouter()
Staff = Annotated[CurrentStaff, Depends(require_roles(*ROLES))]

NOTICES = {
    "done": "Richiesta segnata come evasa.",
    "gone": "Questa richiesta era già stata evasa.",
    "erased": "Dati cancellati. Il cittadino ha ricevuto la conferma in chat.",
    "erased_silent": (
        "Dati cancellati. Il messaggio di conferma non è arrivato al cittadino "
        "(canale non raggiungibile): la chat non esiste più, quindi non possiamo riprovare."
    ),
}
CONFIRM_MISSING = "Per cancellare i dati spunta la casella di conferma."
# the wording of this section's audit actions (its Section.audit_labels)
AUDIT_LABELS: dict[str, str] = {
    "erasure.done": "richiesta di cancellazione dati evasa",
    "erasure.erased": "dati del cittadino cancellati (richiesta evasa)",
}


def _settings(request: Request) -> Settings:
    return console_state(request).settings


def _tracker_url(request: Request) -> str:
    return tracker_engine_url(_settings(request))


@router.get("", name="erasure_requests")
def requests_page(request: Request, db: Db, staff: Staff, msg: str = "") -> Response:
    return list_page(
        request,
        db,
        staff,
        template="erasure_requests.html",
        rows=erasure_rows,
        notice=NOTICES.get(msg, ""),
    )


def _gone(request: Request) -> RedirectResponse:
    return back_to_list(request, "erasure_requests", "gone")


def _request_view(
    session: Session, *, staff: CurrentStaff, request_id: int, tracker_url: str
) -> tuple[ErasureRow, ErasurePlan] | None:
    """The request's row and what erasing would delete and keep; None when it is not open."""
    found = get_open_request(session, request_id=request_id)
    if found is None:
        return None
    plan = erasure_plan(session, request=found, tracker_url=tracker_url)
    return request_row(session, staff, found, now=utcnow()), plan


def _request_page(
    request: Request,
    view: tuple[ErasureRow, ErasurePlan] | None,
    staff: CurrentStaff,
    *,
    error: str = "",
    status_code: int = 200,
) -> Response:
    if view is None:
        return _gone(request)
    row, plan = view
    return render(
        request,
        "erasure_request.html",
        {"row": row, "plan": plan, "error": error, "confirmation_text": CONFIRMATION_TEXT},
        staff=staff,
        status_code=status_code,
    )


@router.get("/{request_id:int}", name="erasure_request")
def request_page(request: Request, db: Db, staff: Staff, request_id: int) -> Response:
    view = db.run_sync(
        _request_view, staff=staff, request_id=request_id, tracker_url=_tracker_url(request)
    )
    return _request_page(request, view, staff)


async def _tell_citizen(gateway: Any, conversation_id: str) -> bool:
    """The last message on the citizen's channel (the caller holds the conversation's lock).
    True when the channel accepted it."""
    conversation: Conversation | None = await gateway.db.run(
        repo.get_conversation, conversation_id=conversation_id
    )
    if conversation is None:
        return False
    try:
        row = await gateway.sender.reply(conversation, Outgoing(text=CONFIRMATION_TEXT))
    except Exception as exc:  # the type only: no address or text in the logs
        log.warning("erasure: confirmation not sent (%s)", type(exc).__name__)
        return False
    return row.status == Status.sent


def _erase(
    session: Session,
    *,
    staff: CurrentStaff,
    request_id: int,
    notified: bool,
    settings: Settings,
    ip: str,
) -> ErasureOutcome:
    """The erasure, the request marked done and the audit line: one transaction."""
    outcome: ErasureOutcome | None = erase(
        session,
        request_id=request_id,
        uploads_root=settings.var_dir / "uploads",
        now=utcnow(),
        tracker_url=tracker_engine_url(settings),
    )
    if outcome is None:
        raise RequestGone(request_id)
    audit.record(
        session,
        action="erasure.erased",
        actor_id=staff.id,
        object_type="erasure_request",
        object_id=request_id,
        detail="conferma al cittadino: " + ("consegnata" if notified else "non consegnata"),
        ip=ip,
    )
    return outcome


def _check(session: Session, *, request_id: int) -> tuple[str | None, int | None]:
    """(conversation, its open hand-off) of an open request; (None, None) when not open."""
    found = get_open_request(session, request_id=request_id)
    if found is None:
        return None, None
    handoff = open_handoff(session, conversation_id=found.conversation_id)
    return found.conversation_id, handoff.id if handoff is not None else None


@router.post("/{request_id:int}/cancella", name="erasure_erase")
async def erase_data(
    request: Request,
    db: Db,
    staff: Staff,
    request_id: int,
    conferma: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    async def page(error: str, status_code: int) -> Response:
        view = await db.run(
            _request_view, staff=staff, request_id=request_id, tracker_url=_tracker_url(request)
        )
        return _request_page(request, view, staff, error=error, status_code=status_code)

    conversation_id, handoff_id = await db.run(_check, request_id=request_id)
    if conversation_id is None:
        return _gone(request)
    if handoff_id is not None or conferma != "si":
        error = HandoffStillOpen(handoff_id).message if handoff_id else CONFIRM_MISSING
        return await page(error, 409 if handoff_id else 422)
    service = getattr(request.app.state, "handoff", None)
    gateway = service.gateway if service is not None else None
    erasure = {
        "staff": staff,
        "request_id": request_id,
        "settings": _settings(request),
        "ip": client_ip(request),
    }
    try:
        if gateway is None:
            notified = False
            outcome = await db.run(_erase, notified=notified, **erasure)
        else:
            # nothing else reaches the conversation meanwhile: the citizen's messages and
            # the outbox wait for the lock, then find the chat gone
            async with gateway.locks.hold(conversation_id):
                notified = await _tell_citizen(gateway, conversation_id)
                outcome = await db.run(_erase, notified=notified, **erasure)
    except HandoffStillOpen as exc:  # opened after the check: nothing was erased
        return await page(exc.message, 409)
    except RequestGone:
        return _gone(request)
    figures = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in outcome.counts.items())
    log.info("erasure request %s done: %s", request_id, figures)  # counts only
    url = console_path(request, "erasure_requests")
    return RedirectResponse(f"{url}?msg={'erased' if notified else 'erased_silent'}", 303)


@router.post("/{request_id:int}/evasa", name="erasure_done")
def request_done(request: Request, db: Db, staff: Staff, request_id: int) -> Response:
    return done_by_hand(
        request,
        db,
        staff,
        request_id,
        kind=FlagKind.erasure_request,
        action="erasure.done",
        list_route="erasure_requests",
    )
