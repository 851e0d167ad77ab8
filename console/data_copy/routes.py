"""The data copy requests pages (mounted at /copie-dati; care_manager and admin).

``/copie-dati``: the open requests. ``/copie-dati/{id}``: one request with the preview, the
sections of the copy and how many items each holds (opening it is audited).
``POST /copie-dati/{id}/invia`` (with the confirmation box ticked): builds the PDF and the
JSON, refuses a conversation erased or purged meanwhile and a channel that cannot take them,
then stores the three messages in the conversation that asked, marks the request done and
writes the audit line (sizes and SHA-256 of each file) in one transaction, and hands the
messages to the running gateway under the conversation's lock; what the channel refuses
waits in the outbox. ``POST /copie-dati/{id}/evasa`` marks a request done by hand.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from care.models import FlagKind
from console import audit
from console.auth import CurrentStaff, Db, client_ip, require_roles
from console.erasure.views import data_copy_rows, request_row
from console.privacy_requests import back_to_list, done_by_hand, list_page
from console.state import console_state
from console.web import render
from conversations import repository as repo
from conversations.models import Message, Status
from conversations.uploads import SavedFile, UploadStore
from core.timeutil import utcnow
from privacy.copy_delivery import (
    EXTENSIONS,
    CannotSend,
    PreparedCopy,
    RequestGone,
    audit_detail,
    check_channel,
    collect_for,
    prepare,
    store_copy,
)
from privacy.data_copy import ConversationGone, collect, get_open_request
from staff.roles import Role

log = logging.getLogger(__name__)
ROLES = frozenset({Role.care_manager, Role.admin})
router = APIRouter()
Staff = Annotated[CurrentStaff, Depends(require_roles(*ROLES))]
OBJECT = "data_copy_request"

NOTICES = {
    "done": "Richiesta segnata come evasa.",
    "gone": "Questa richiesta era già stata evasa.",
    "sent": "Copia mandata: il cittadino l'ha ricevuta nella chat.",
    "queued": (
        "Copia pronta e registrata: il canale per ora non la accetta, il sistema "
        "riprova da solo finché non arriva."
    ),
}
CONFIRM_MISSING = "Per mandare la copia spunta la casella di conferma."
# the wording of this section's audit actions (its Section.audit_labels)
AUDIT_LABELS: dict[str, str] = {
    "data_copy.requested": "richiesta di copia dei dati ricevuta in chat",
    "data_copy.preview": "anteprima della copia dei dati aperta",
    "data_copy.sent": "copia dei dati mandata al cittadino (richiesta evasa)",
    "data_copy.done": "richiesta di copia dei dati evasa a mano",
}


@router.get("", name="data_copy_requests")
def requests_page(request: Request, db: Db, staff: Staff, msg: str = "") -> Response:
    return list_page(
        request,
        db,
        staff,
        template="data_copy_requests.html",
        rows=data_copy_rows,
        notice=NOTICES.get(msg, ""),
    )


def _gone(request: Request) -> RedirectResponse:
    return back_to_list(request, "data_copy_requests", "gone")


def _preview(
    session: Session, *, staff: CurrentStaff, request_id: int, ip: str, audited: bool
) -> dict[str, object] | None:
    """The request's row, the copy's sections with their counts, or why it cannot be sent;
    None when the request is not open. Opening the preview is audited."""
    found = get_open_request(session, request_id=request_id)
    if found is None:
        return None
    view: dict[str, object] = {"row": request_row(session, staff, found, now=utcnow())}
    try:
        copy = collect(session, conversation_id=found.conversation_id, now=utcnow())
        view["counts"] = copy.counts()
        check_channel(copy.channel)
    except ConversationGone as exc:
        view["blocked"] = exc.message
    except CannotSend as exc:
        view["blocked"] = exc.message
    if audited:
        audit.record(
            session,
            action="data_copy.preview",
            actor_id=staff.id,
            object_type=OBJECT,
            object_id=request_id,
            ip=ip,
        )
    return view


def _page(
    request: Request,
    view: dict[str, object] | None,
    staff: CurrentStaff,
    *,
    error: str = "",
    status_code: int = 200,
) -> Response:
    if view is None:
        return _gone(request)
    return render(
        request,
        "data_copy_request.html",
        {**view, "error": error},
        staff=staff,
        status_code=status_code,
    )


@router.get("/{request_id:int}", name="data_copy_request")
def request_page(request: Request, db: Db, staff: Staff, request_id: int) -> Response:
    view = db.run_sync(
        _preview, staff=staff, request_id=request_id, ip=client_ip(request), audited=True
    )
    return _page(request, view, staff)


def _store(
    session: Session,
    *,
    staff: CurrentStaff,
    prepared: PreparedCopy,
    saved: list[SavedFile],
    ip: str,
) -> tuple[list[Message], bool]:
    """The copy's messages, the request marked done and the audit line: one transaction."""
    rows, behind = store_copy(
        session, prepared=prepared, saved=saved, staff_user_id=staff.id, now=utcnow()
    )
    audit.record(
        session,
        action="data_copy.sent",
        actor_id=staff.id,
        object_type=OBJECT,
        object_id=prepared.request.id,
        detail=audit_detail(prepared.files),
        ip=ip,
    )
    return rows, behind


async def _keep_files(uploads: UploadStore, prepared: PreparedCopy) -> list[SavedFile]:
    now = utcnow()
    return [
        await asyncio.to_thread(
            uploads.keep,
            file.content,
            mime_type=file.mime_type,
            extension=EXTENSIONS[file.mime_type],
            now=now,
        )
        for file in prepared.files
    ]


@router.post("/{request_id:int}/invia", name="data_copy_send")
async def send_copy(
    request: Request,
    db: Db,
    staff: Staff,
    request_id: int,
    conferma: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    async def page(error: str, status_code: int) -> Response:
        view = await db.run(
            _preview, staff=staff, request_id=request_id, ip=client_ip(request), audited=False
        )
        return _page(request, view, staff, error=error, status_code=status_code)

    try:
        found, copy = await db.run(collect_for, request_id=request_id, now=utcnow())
    except RequestGone:
        return _gone(request)
    except ConversationGone as exc:
        return await page(exc.message, 409)
    if conferma != "si":
        return await page(CONFIRM_MISSING, 422)
    try:
        prepared = await asyncio.to_thread(prepare, found, copy)
    except CannotSend as exc:
        return await page(exc.message, 413 if exc.too_big else 409)
    settings = console_state(request).settings
    uploads = UploadStore(settings.var_dir / "uploads", settings.upload_max_bytes)
    saved = await _keep_files(uploads, prepared)
    service = getattr(request.app.state, "handoff", None)
    gateway = service.gateway if service is not None else None
    store = {"staff": staff, "prepared": prepared, "saved": saved, "ip": client_ip(request)}
    cid = found.conversation_id
    try:
        if gateway is None:  # the console alone: the gateway's outbox sends them when it runs
            rows, _ = await db.run(_store, **store)
        else:
            # the copy goes only into the conversation that asked, in order with its replies
            async with gateway.locks.hold(cid):
                rows, behind = await db.run(_store, **store)
                conversation = await gateway.db.run(repo.get_conversation, conversation_id=cid)
                await gateway.sender.send_stored(conversation, rows, behind=behind)
    except (ConversationGone, RequestGone) as exc:
        for kept in saved:
            uploads.path_of(kept.relative_path).unlink(missing_ok=True)
        if isinstance(exc, RequestGone):
            return _gone(request)
        return await page(ConversationGone.message, 409)
    sent = all(row.status == Status.sent for row in rows)
    sizes = ", ".join(str(f.size_bytes) for f in prepared.files)
    log.info("data copy request %s stored, %s bytes, sent %s", request_id, sizes, sent)
    return back_to_list(request, "data_copy_requests", "sent" if sent else "queued")


@router.post("/{request_id:int}/evasa", name="data_copy_done")
def request_done(request: Request, db: Db, staff: Staff, request_id: int) -> Response:
    return done_by_hand(
        request,
        db,
        staff,
        request_id,
        kind=FlagKind.data_copy_request,
        action="data_copy.done",
        list_route="data_copy_requests",
    )
