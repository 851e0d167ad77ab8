"""The Care Managers' queue and one conversation: claim, reply, notes, labels, transfer,
close, attachments, and the section's static files. Mounted at /coda (care_manager).

Forms post and redirect (they work without JavaScript); the page's script sends replies and
receives the live events as JSON. Every route depends on ``require_roles(care_manager)``,
which also checks the CSRF token on POST."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from sqlmodel import Session, col, select

from care import handoff as core
from care.handoff_models import OUTCOME_LABELS, Handoff, Outcome
from console.auth import CurrentStaff, Db
from console.handoff import views
from console.handoff.common import (
    NOTICES,
    REPLY_MAX,
    STATIC_DIR,
    STATIC_FILES,
    CareManager,
    audit_action,
    back,
    held,
    office_of,
    publish,
    service_of,
    wants_json,
)
from console.staff import get_view
from console.web import render
from conversations.models import Attachment, Message
from core.database import Database
from core.timeutil import utcnow
from staff.roles import Role

log = logging.getLogger(__name__)

router = APIRouter()

# --- the queue -----------------------------------------------------------------------------


@router.get("", name="handoff_queue")
async def queue_page(request: Request, db: Db, staff: CareManager, msg: str = "") -> Response:
    office = await office_of(request, db)
    queue = await db.run(views.queue, staff=staff, now=utcnow(), office=office)
    return render(
        request,
        "handoff_queue.html",
        {"queue": queue, "notice": NOTICES.get(msg, ""), "live": service_of(request) is not None},
        staff=staff,
    )


@router.get("/elenco", name="handoff_queue_table")
async def queue_table(request: Request, db: Db, staff: CareManager) -> Response:
    """The queue's tables alone, for the page's live refresh."""
    office = await office_of(request, db)
    queue = await db.run(views.queue, staff=staff, now=utcnow(), office=office)
    return render(request, "handoff_queue_tables.html", {"queue": queue}, staff=staff)


# --- one conversation ------------------------------------------------------------------------


@router.get("/{handoff_id:int}", name="handoff_conversation")
async def conversation_page(
    request: Request, db: Db, staff: CareManager, handoff_id: int, msg: str = ""
) -> Response:
    return await _conversation(request, db, staff, handoff_id, notice=NOTICES.get(msg, ""))


async def _conversation(
    request: Request,
    db: Database,
    staff: CurrentStaff,
    handoff_id: int,
    *,
    notice: str = "",
    error: str = "",
    status_code: int = 200,
) -> Response:
    office = await office_of(request, db)

    def build(session: Session) -> views.ConversationPage | None:
        handoff = views.visible_handoff(session, staff, handoff_id)
        if handoff is None:
            return None
        return views.conversation_page(session, staff, handoff, now=utcnow(), office=office)

    page = await db.run(build)
    if page is None:
        raise HTTPException(404, "Conversazione non trovata.")
    slots: dict[str, Any] | None = None
    service = service_of(request)
    if service is not None:
        with contextlib.suppress(TimeoutError):
            slots = await asyncio.wait_for(service.rasa.slots(page.handoff.conversation_id), 2.0)
    return render(
        request,
        "handoff_conversation.html",
        {
            "page": page,
            "slots": views.slots_for_display(slots),
            "slots_known": slots is not None,
            "outcomes": list(OUTCOME_LABELS.items()),
            "eur": views.eur,
            "csat_label": views.csat_label,
            "flag_label": views.flag_label,
            "live": service is not None,
            "notice": notice,
            "error": error,
            "data": {
                "handoff_id": page.handoff.id,
                "status": page.handoff.status,
                "can_act": page.can_act,
                "messages": page.messages,
                "staff_names": {str(k): v for k, v in page.staff_names.items()},
                "me": staff.id,
            },
        },
        staff=staff,
        status_code=status_code,
    )


@router.get("/{handoff_id:int}/messaggi", name="handoff_messages")
async def messages(
    request: Request, db: Db, staff: CareManager, handoff_id: int, after: int = 0
) -> dict[str, Any]:
    def load(session: Session) -> list[dict[str, Any]] | None:
        handoff = views.visible_handoff(session, staff, handoff_id)
        if handoff is None:
            return None
        from conversations import repository as repo

        rows = repo.history(session, conversation_id=handoff.conversation_id, after_id=after)
        return [views.console_view(m) for m in rows]

    found = await db.run(load)
    if found is None:
        raise HTTPException(404, "Conversazione non trovata.")
    return {"messages": found}


@router.post("/{handoff_id:int}/prendi", name="handoff_claim")
async def claim(request: Request, db: Db, staff: CareManager, handoff_id: int) -> Response:
    def work(session: Session) -> tuple[bool, Handoff | None]:
        if core.get_handoff(session, handoff_id=handoff_id) is None:
            raise HTTPException(404, "Conversazione non trovata.")
        # a stale queue page: the claim simply loses if someone else holds it already
        won = core.claim(session, handoff_id=handoff_id, staff_id=staff.id, now=utcnow())
        if won:
            audit_action(session, request, staff, "handoff.claim", handoff_id)
        session.flush()
        return won, core.get_handoff(session, handoff_id=handoff_id)

    won, handoff = await db.run(work)
    if won:
        log.info("hand-off %s claimed by staff %s", handoff_id, staff.id)
        publish(request, "claimed", handoff)
    if wants_json(request):
        return JSONResponse({"claimed": won}, status_code=200 if won else 409)
    if won:
        return back(request, "handoff_conversation", "claimed", handoff_id=handoff_id)
    return back(request, "handoff_queue", "taken")


@router.post("/{handoff_id:int}/rispondi", name="handoff_reply")
async def reply(request: Request, db: Db, staff: CareManager, handoff_id: int) -> Response:
    if request.headers.get("content-type", "").startswith("application/json"):
        body = await request.json()
        text = str(body.get("text") or "") if isinstance(body, dict) else ""
    else:
        value = (await request.form()).get("text")
        text = value if isinstance(value, str) else ""
    service = service_of(request)
    error, status = "", 200
    message: Message | None = None
    if service is None:
        error, status = "Il collegamento con i canali dei cittadini non è attivo.", 503
    elif not text.strip():
        error, status = "Scrivi il messaggio.", 400
    elif len(text) > REPLY_MAX:
        error, status = f"Il messaggio può avere al massimo {REPLY_MAX} caratteri.", 400
    else:
        try:

            def prepare(session: Session) -> str:
                held(session, staff=staff, handoff_id=handoff_id)
                return core.expand_canned(session, text)

            expanded = await db.run(prepare)
            message = await service.send(handoff_id, staff_id=staff.id, text=expanded.strip())
            await db.run(
                lambda session: audit_action(
                    session, request, staff, "handoff.reply", handoff_id, f"message:{message.id}"
                ),
            )
        except core.HandoffError as exc:
            error, status = str(exc), 409
        except HTTPException as exc:
            error, status = str(exc.detail), exc.status_code
    if wants_json(request):
        if error:
            return JSONResponse({"detail": error}, status_code=status)
        assert message is not None
        return JSONResponse({"message": views.console_view(message)})
    if error:
        return await _conversation(request, db, staff, handoff_id, error=error, status_code=status)
    return back(request, "handoff_conversation", handoff_id=handoff_id)


@router.post("/{handoff_id:int}/note", name="handoff_note")
async def add_note(
    request: Request,
    db: Db,
    staff: CareManager,
    handoff_id: int,
    text: Annotated[str, Form(max_length=core.NOTE_MAX + 100)] = "",
) -> Response:
    def work(session: Session) -> None:
        held(session, staff=staff, handoff_id=handoff_id)
        core.add_note(session, handoff_id=handoff_id, author_id=staff.id, text=text, now=utcnow())
        audit_action(session, request, staff, "handoff.note", handoff_id)

    try:
        await db.run(work)
    except core.HandoffError as exc:
        return await _conversation(request, db, staff, handoff_id, error=str(exc), status_code=400)
    return back(request, "handoff_conversation", "note", handoff_id=handoff_id)


@router.post("/{handoff_id:int}/etichette", name="handoff_label_add")
async def add_label(
    request: Request,
    db: Db,
    staff: CareManager,
    handoff_id: int,
    name: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    def work(session: Session) -> Handoff:
        handoff = held(session, staff=staff, handoff_id=handoff_id)
        core.add_label(session, handoff_id=handoff_id, name=name)
        return handoff

    try:
        handoff = await db.run(work)
    except core.HandoffError as exc:
        return await _conversation(request, db, staff, handoff_id, error=str(exc), status_code=400)
    publish(request, "labels", handoff)
    return back(request, "handoff_conversation", "label", handoff_id=handoff_id)


@router.post("/{handoff_id:int}/etichette/{label_id:int}/rimuovi", name="handoff_label_remove")
async def remove_label(
    request: Request, db: Db, staff: CareManager, handoff_id: int, label_id: int
) -> Response:
    def work(session: Session) -> Handoff:
        handoff = held(session, staff=staff, handoff_id=handoff_id)
        core.remove_label(session, handoff_id=handoff_id, label_id=label_id)
        return handoff

    handoff = await db.run(work)
    publish(request, "labels", handoff)
    return back(request, "handoff_conversation", "label", handoff_id=handoff_id)


@router.post("/{handoff_id:int}/trasferisci", name="handoff_transfer")
async def transfer(
    request: Request,
    db: Db,
    staff: CareManager,
    handoff_id: int,
    to: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """To a colleague (``to`` = their id) or back to the queue (``to`` = "coda")."""

    def work(session: Session) -> tuple[bool, Handoff]:
        held(session, staff=staff, handoff_id=handoff_id)
        target: int | None = None
        if to != "coda":
            colleague = get_view(session, staff_id=int(to)) if to.isdigit() else None
            if (
                colleague is None
                or not colleague.active
                or Role.care_manager not in colleague.roles
            ):
                raise core.HandoffError("Scegli un Care Manager attivo.")
            target = colleague.id
        moved = core.transfer(
            session, handoff_id=handoff_id, from_staff_id=staff.id, to_staff_id=target, now=utcnow()
        )
        if moved:
            action = "handoff.transfer" if target else "handoff.release"
            audit_action(
                session, request, staff, action, handoff_id, detail=f"to:{target or 'coda'}"
            )
        session.flush()
        fresh = core.get_handoff(session, handoff_id=handoff_id)
        assert fresh is not None
        session.refresh(fresh)
        return moved, fresh

    try:
        moved, handoff = await db.run(work)
    except core.HandoffError as exc:
        return await _conversation(request, db, staff, handoff_id, error=str(exc), status_code=400)
    if not moved:
        return await _conversation(
            request, db, staff, handoff_id, error="La conversazione non è più tua.", status_code=409
        )
    released = handoff.assigned_to is None
    publish(request, "released" if released else "transferred", handoff)
    return back(request, "handoff_queue", "released" if released else "transferred")


@router.post("/{handoff_id:int}/chiudi", name="handoff_close")
async def close(
    request: Request,
    db: Db,
    staff: CareManager,
    handoff_id: int,
    outcome: Annotated[str, Form(max_length=30)] = "",
    csat: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    service = service_of(request)
    try:
        chosen = Outcome(outcome)
    except ValueError:
        return await _conversation(
            request,
            db,
            staff,
            handoff_id,
            error="Scegli l'esito della conversazione.",
            status_code=400,
        )
    await db.run(lambda session: held(session, staff=staff, handoff_id=handoff_id))
    if service is None:
        return await _conversation(
            request,
            staff,
            handoff_id,
            error="Il collegamento con i canali dei cittadini non è attivo.",
            status_code=503,
        )
    closed = await service.close(
        handoff_id, staff_id=staff.id, outcome=chosen, ask_csat=csat in ("1", "on", "true")
    )
    if not closed:
        return await _conversation(
            request, db, staff, handoff_id, error="La conversazione non è più tua.", status_code=409
        )
    await db.run(
        lambda session: audit_action(
            session, request, staff, "handoff.close", handoff_id, chosen.value
        ),
    )
    if wants_json(request):
        return JSONResponse({"closed": True})
    return back(request, "handoff_conversation", "closed", handoff_id=handoff_id)


# --- attachments -------------------------------------------------------------------------------


@router.get("/allegati/{attachment_id:int}", name="handoff_attachment")
async def attachment(request: Request, db: Db, staff: CareManager, attachment_id: int) -> Response:
    """A citizen's photo or document, to staff who may see the conversation."""

    def find(session: Session) -> Attachment | None:
        found = session.get(Attachment, attachment_id)
        if found is None:
            return None
        handoffs = session.exec(
            select(Handoff)
            .where(Handoff.conversation_id == found.conversation_id)
            .order_by(col(Handoff.id).desc())
        ).all()
        return found if any(views.visible(staff, h) for h in handoffs) else None

    found = await db.run(find)
    service = service_of(request)
    if found is None or service is None:
        raise HTTPException(404, "File non trovato.")
    try:
        path = service.gateway.uploads.path_of(found.path)
    except ValueError:
        raise HTTPException(404, "File non trovato.") from None
    if not path.is_file():
        raise HTTPException(404, "File non trovato.")
    disposition = "inline" if found.mime_type.startswith("image/") else "attachment"
    return FileResponse(
        path,
        media_type=found.mime_type,
        headers={
            "Cache-Control": "private, no-store",
            "Content-Disposition": f'{disposition}; filename="allegato-{attachment_id}"',
        },
    )


# --- static files of the section -----------------------------------------------------------------


@router.get("/risorse/{filename}", name="handoff_static")
async def static(staff: CareManager, filename: str) -> Response:
    if filename not in STATIC_FILES:
        raise HTTPException(404, "Not Found")
    return FileResponse(
        STATIC_DIR / filename,
        media_type=STATIC_FILES[filename],
        headers={"Cache-Control": "private, max-age=300"},
    )
