"""The Care Managers' console pages: the queue, one conversation, canned replies, settings,
and the live websocket. Mounted at /coda by console.handoff (section roles: care_manager).

Forms post and redirect (they work without JavaScript); the page's script sends replies and
receives the live events as JSON. Every route depends on ``require_roles(care_manager)``,
which also checks the CSRF token on POST and the Origin on the websocket.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request, WebSocket
from fastapi.requests import HTTPConnection
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response
from sqlmodel import Session, col, select
from starlette.websockets import WebSocketDisconnect

from bot.handoff.service import (
    QUEUE,
    TELEGRAM_CHAT_KEY,
    TELEGRAM_ENABLED_KEY,
    HandoffService,
)
from care import handoff as core
from care.handoff_models import OUTCOME_LABELS, Handoff, Outcome
from care.sla import OfficeHours, office_hours
from console import audit
from console.auth import CurrentStaff, Db, client_ip, require_roles
from console.handoff import views
from console.staff import get_view
from console.web import console_path, render
from conversations.models import Attachment, Direction, Message
from core.database import Database
from core.timeutil import utcnow
from staff.roles import Role

log = logging.getLogger(__name__)

router = APIRouter()
CareManager = Annotated[CurrentStaff, Depends(require_roles(Role.care_manager))]
STATIC_DIR = Path(__file__).parent / "static"
STATIC_FILES = {"handoff.js": "text/javascript", "handoff.css": "text/css"}
REPLY_MAX = 4000
POLL_SECONDS = 3.0
FINAL = {"read", "failed"}

NOTICES = {
    "claimed": "Conversazione presa in carico: ora rispondi tu.",
    "taken": "Un collega l'ha già presa in carico.",
    "transferred": "Conversazione trasferita.",
    "released": "Conversazione rimessa in coda.",
    "closed": "Conversazione chiusa e restituita all'assistente.",
    "note": "Nota salvata.",
    "label": "Etichette aggiornate.",
    "saved": "Modifiche salvate.",
    "gone": "Questa conversazione non è più visibile per te.",
}

# the wording of this section's audit actions (its Section.audit_labels)
AUDIT_LABELS: dict[str, str] = {
    "handoff.claim": "conversazione presa in carico",
    "handoff.transfer": "conversazione trasferita",
    "handoff.release": "conversazione rimessa in coda",
    "handoff.close": "conversazione chiusa",
    "handoff.reply": "risposta al cittadino",
    "handoff.note": "nota privata",
    "handoff.canned": "risposta rapida modificata",
    "handoff.settings": "impostazioni della coda",
}


# --- helpers ------------------------------------------------------------------------------


def service_of(conn: HTTPConnection) -> HandoffService | None:
    """The running hand-off service (None when the console runs without the gateway)."""
    return getattr(conn.app.state, "handoff", None)


async def office_of(conn: HTTPConnection, db: Database) -> OfficeHours:
    service = service_of(conn)
    if service is not None:
        return await service.office()
    return await db.run(office_hours)


def wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


def back(request: Request, name: str, msg: str = "", **params: Any) -> RedirectResponse:
    url = console_path(request, name, **params)
    return RedirectResponse(url + (f"?msg={msg}" if msg else ""), status_code=303)


def _audit(
    session: Session,
    request: Request,
    staff: CurrentStaff,
    action: str,
    handoff_id: int,
    detail: str = "",
) -> None:
    audit.record(
        session,
        action=action,
        actor_id=staff.id,
        object_type="handoff",
        object_id=handoff_id,
        detail=detail,
        ip=client_ip(request),
    )


def _publish(conn: HTTPConnection, event: str, handoff: Handoff | None) -> None:
    service = service_of(conn)
    if service is not None and handoff is not None:
        service.publish(event, handoff)


def _held(session: Session, *, staff: CurrentStaff, handoff_id: int) -> Handoff:
    """The hand-off, if ``staff`` holds it; else 404 (not visible) or 409 (not theirs now)."""
    handoff = views.visible_handoff(session, staff, handoff_id)
    if handoff is None:
        raise HTTPException(404, "Conversazione non trovata.")
    if not views.can_act(staff, handoff):
        raise HTTPException(409, "Prendi in carico la conversazione prima di farlo.")
    return handoff


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
            _audit(session, request, staff, "handoff.claim", handoff_id)
        session.flush()
        return won, core.get_handoff(session, handoff_id=handoff_id)

    won, handoff = await db.run(work)
    if won:
        log.info("hand-off %s claimed by staff %s", handoff_id, staff.id)
        _publish(request, "claimed", handoff)
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
                _held(session, staff=staff, handoff_id=handoff_id)
                return core.expand_canned(session, text)

            expanded = await db.run(prepare)
            message = await service.send(handoff_id, staff_id=staff.id, text=expanded.strip())
            await db.run(
                lambda session: _audit(
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
        _held(session, staff=staff, handoff_id=handoff_id)
        core.add_note(session, handoff_id=handoff_id, author_id=staff.id, text=text, now=utcnow())
        _audit(session, request, staff, "handoff.note", handoff_id)

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
        handoff = _held(session, staff=staff, handoff_id=handoff_id)
        core.add_label(session, handoff_id=handoff_id, name=name)
        return handoff

    try:
        handoff = await db.run(work)
    except core.HandoffError as exc:
        return await _conversation(request, db, staff, handoff_id, error=str(exc), status_code=400)
    _publish(request, "labels", handoff)
    return back(request, "handoff_conversation", "label", handoff_id=handoff_id)


@router.post("/{handoff_id:int}/etichette/{label_id:int}/rimuovi", name="handoff_label_remove")
async def remove_label(
    request: Request, db: Db, staff: CareManager, handoff_id: int, label_id: int
) -> Response:
    def work(session: Session) -> Handoff:
        handoff = _held(session, staff=staff, handoff_id=handoff_id)
        core.remove_label(session, handoff_id=handoff_id, label_id=label_id)
        return handoff

    handoff = await db.run(work)
    _publish(request, "labels", handoff)
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
        _held(session, staff=staff, handoff_id=handoff_id)
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
            _audit(session, request, staff, action, handoff_id, detail=f"to:{target or 'coda'}")
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
    _publish(request, "released" if released else "transferred", handoff)
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
    await db.run(lambda session: _held(session, staff=staff, handoff_id=handoff_id))
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
        lambda session: _audit(session, request, staff, "handoff.close", handoff_id, chosen.value),
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


# --- canned replies and settings -----------------------------------------------------------------


@router.get("/risposte", name="handoff_canned")
async def canned_page(request: Request, db: Db, staff: CareManager, msg: str = "") -> Response:
    replies = await db.run(lambda s: core.canned_replies(s, active_only=False))
    return render(
        request,
        "handoff_canned.html",
        {"replies": replies, "notice": NOTICES.get(msg, "")},
        staff=staff,
    )


@router.post("/risposte", name="handoff_canned_save")
async def canned_save(
    request: Request,
    db: Db,
    staff: CareManager,
    code: Annotated[str, Form(max_length=40)] = "",
    title: Annotated[str, Form(max_length=120)] = "",
    text: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    def work(session: Session) -> None:
        reply = core.save_canned(
            session, code=code, title=title, text=text, staff_id=staff.id, now=utcnow()
        )
        audit.record(
            session,
            action="handoff.canned",
            actor_id=staff.id,
            object_type="canned_reply",
            object_id=reply.id or "",
            ip=client_ip(request),
        )

    try:
        await db.run(work)
    except core.HandoffError as exc:
        replies = await db.run(lambda s: core.canned_replies(s, active_only=False))
        return render(
            request,
            "handoff_canned.html",
            {
                "replies": replies,
                "error": str(exc),
                "form": {"code": code, "title": title, "text": text},
            },
            staff=staff,
            status_code=400,
        )
    return back(request, "handoff_canned", "saved")


@router.post("/risposte/{reply_id:int}/stato", name="handoff_canned_toggle")
async def canned_toggle(
    request: Request,
    db: Db,
    staff: CareManager,
    reply_id: int,
    active: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    def work(session: Session) -> None:
        core.set_canned_active(
            session, reply_id=reply_id, active=active == "1", staff_id=staff.id, now=utcnow()
        )

    try:
        await db.run(work)
    except core.HandoffError as exc:
        raise HTTPException(404, str(exc)) from None
    return back(request, "handoff_canned", "saved")


@router.get("/impostazioni", name="handoff_settings")
async def settings_page(request: Request, db: Db, staff: CareManager, msg: str = "") -> Response:
    def load(session: Session) -> dict[str, Any]:
        return {
            "chat_id": core.get_setting(session, key=TELEGRAM_CHAT_KEY),
            "enabled": core.get_setting(session, key=TELEGRAM_ENABLED_KEY) == "1",
        }

    values = await db.run(load)
    service = service_of(request)
    telegram_ready = bool(service and service.telegram and service.telegram.configured)
    return render(
        request,
        "handoff_settings.html",
        {**values, "telegram_ready": telegram_ready, "notice": NOTICES.get(msg, "")},
        staff=staff,
    )


@router.post("/impostazioni", name="handoff_settings_save")
async def settings_save(
    request: Request,
    db: Db,
    staff: CareManager,
    chat_id: Annotated[str, Form(max_length=40)] = "",
    enabled: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    chat_id = chat_id.strip()
    if chat_id and not chat_id.lstrip("-").isdigit() and not chat_id.startswith("@"):
        return render(
            request,
            "handoff_settings.html",
            {
                "chat_id": chat_id,
                "enabled": enabled == "1",
                "telegram_ready": True,
                "error": "L'identificativo del gruppo è un numero (es. -1001234567890) o @nome.",
            },
            staff=staff,
            status_code=400,
        )

    def work(session: Session) -> None:
        now = utcnow()
        core.set_setting(session, key=TELEGRAM_CHAT_KEY, value=chat_id, staff_id=staff.id, now=now)
        flag = "1" if enabled == "1" and chat_id else "0"
        core.set_setting(session, key=TELEGRAM_ENABLED_KEY, value=flag, staff_id=staff.id, now=now)
        audit.record(
            session,
            action="handoff.settings",
            actor_id=staff.id,
            object_type="handoff_setting",
            object_id="telegram",
            ip=client_ip(request),
        )

    await db.run(work)
    return back(request, "handoff_settings", "saved")


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


# --- live: queue changes and the open conversation ---------------------------------------------


@router.websocket("/diretta", name="handoff_live")
async def live(
    websocket: WebSocket, db: Db, staff: CareManager, handoff: int = 0, after: int = 0
) -> None:
    """JSON events: ``queue`` (a hand-off changed: refresh; ``event: new`` notifies),
    ``message`` (the open conversation), ``status`` (delivery of a reply), ``gone``."""
    service = service_of(websocket)
    await websocket.accept()
    if service is None:
        await websocket.send_json({"type": "offline"})
        await websocket.close(code=1011)
        return
    watched = None
    if handoff:
        found = await db.run(lambda s: views.visible_handoff(s, staff, handoff))
        watched = found.conversation_id if found is not None else None
    service.online[staff.id] += 1
    try:
        await _pump(websocket, db, service, staff, handoff, watched, after)
    except WebSocketDisconnect:
        pass
    finally:
        service.online[staff.id] -= 1
        if service.online[staff.id] <= 0:
            del service.online[staff.id]


async def _pump(
    websocket: WebSocket,
    db: Database,
    service: HandoffService,
    staff: CurrentStaff,
    handoff_id: int,
    watched: str | None,
    after: int,
) -> None:
    async with contextlib.AsyncExitStack() as stack:
        queue_events = await stack.enter_async_context(service.events.subscribe(QUEUE))
        conversation_events = (
            await stack.enter_async_context(service.gateway.events.subscribe(watched))
            if watched
            else None
        )
        await websocket.send_json({"type": "ready", "watching": bool(watched)})
        tracker = _StatusTracker(after)
        receiver = asyncio.ensure_future(websocket.receive())
        getters: dict[asyncio.Future[Any], str] = {
            asyncio.ensure_future(queue_events.get()): "queue"
        }
        if conversation_events is not None:
            getters[asyncio.ensure_future(conversation_events.get())] = "conversation"
        try:
            while True:
                done, _ = await asyncio.wait(
                    {receiver, *getters}, timeout=POLL_SECONDS, return_when=asyncio.FIRST_COMPLETED
                )
                if receiver in done:
                    if receiver.result().get("type") == "websocket.disconnect":
                        return
                    receiver = asyncio.ensure_future(websocket.receive())
                for future in [f for f in done if f in getters]:
                    source = getters.pop(future)
                    event = future.result()
                    if source == "queue":
                        await websocket.send_json(event)
                        if watched and event.get("handoff_id") == handoff_id:
                            still = await db.run(
                                lambda s: views.visible_handoff(s, staff, handoff_id)
                            )
                            if still is None:
                                await websocket.send_json({"type": "gone"})
                                watched = None
                                conversation_events = None
                        getters[asyncio.ensure_future(queue_events.get())] = "queue"
                    else:
                        if watched is None or conversation_events is None:
                            continue
                        await _forward(websocket, event, tracker)
                        getters[asyncio.ensure_future(conversation_events.get())] = "conversation"
                if watched:
                    for update in await tracker.poll(db, watched):
                        await websocket.send_json(update)
        finally:
            receiver.cancel()
            for future in getters:
                future.cancel()


async def _forward(websocket: WebSocket, event: dict[str, Any], tracker: _StatusTracker) -> None:
    kind = event.get("type")
    if kind == "message":
        view = event["message"]
        if view.get("id") is None:
            return
        tracker.seen(view)
        await websocket.send_json({"type": "message", "message": view})
    elif kind in ("mode", "typing"):
        await websocket.send_json({k: v for k, v in event.items() if k != "conversation_id"})


class _StatusTracker:
    """Outbound messages whose delivery may still change (sent -> delivered -> read), and
    the newest message id seen, to fill any gap the in-process event bus left."""

    def __init__(self, after: int = 0) -> None:
        self.statuses: dict[int, str] = {}
        self.last_id = after
        self.last_poll = 0.0

    def seen(self, view: dict[str, Any]) -> None:
        message_id = int(view["id"])
        self.last_id = max(self.last_id, message_id)
        if view.get("direction") == Direction.outbound.value and view.get("status") not in FINAL:
            self.statuses[message_id] = str(view.get("status"))

    async def poll(self, db: Database, conversation_id: str) -> list[dict[str, Any]]:
        loop = asyncio.get_running_loop()
        if loop.time() - self.last_poll < POLL_SECONDS:
            return []
        self.last_poll = loop.time()
        tracked = dict(list(self.statuses.items())[-50:])

        def load(session: Session) -> tuple[list[Message], list[Message]]:
            changed = []
            if tracked:
                changed = list(
                    session.exec(select(Message).where(col(Message.id).in_(list(tracked))))
                )
            newer = []
            if self.last_id:
                newer = list(
                    session.exec(
                        select(Message)
                        .where(
                            Message.conversation_id == conversation_id,
                            col(Message.id) > self.last_id,
                        )
                        .order_by(col(Message.id))
                        .limit(50)
                    )
                )
            return changed, newer

        changed, newer = await db.run(load)
        updates: list[dict[str, Any]] = []
        for message in changed:
            assert message.id is not None
            if str(message.status) != tracked.get(message.id):
                updates.append({"type": "status", "id": message.id, "status": message.status})
                if message.status in FINAL:
                    self.statuses.pop(message.id, None)
                else:
                    self.statuses[message.id] = str(message.status)
        for message in newer:
            view = views.console_view(message)
            self.seen(view)
            updates.append({"type": "message", "message": view})
        return updates
