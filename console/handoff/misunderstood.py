"""«Capito male»: a Care Manager marks a citizen's message in a hand-off as misunderstood by
the assistant; it goes to the review inbox («Revisione», review.queue) with what the model
understood of it (read by the gateway's review capture, bot.review_capture).

``POST /coda/{handoff_id}/messaggi/{message_id}/capito-male`` (care_manager; JSON for the
conversation page's script, a redirect back for a plain form).
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from sqlmodel import Session

from console.auth import CurrentStaff, Db
from console.handoff import views
from console.handoff.common import CareManager, audit_action, back, service_of, wants_json
from conversations.models import Message
from review.models import Reason

router = APIRouter()
NOT_LINKED = "Il collegamento con l'assistente non è attivo: riprova più tardi."
NOTHING_TO_REVIEW = "In questo messaggio non ci sono parole del cittadino da rivedere."


def _conversation_of(
    session: Session, *, staff: CurrentStaff, handoff_id: int, message_id: int
) -> str:
    """The conversation of the hand-off, when ``message_id`` belongs to it; else 404."""
    handoff = views.visible_handoff(session, staff, handoff_id)
    if handoff is None:
        raise HTTPException(404, "Conversazione non trovata.")
    message = session.get(Message, message_id)
    if message is None or message.conversation_id != handoff.conversation_id:
        raise HTTPException(404, "Messaggio non trovato in questa conversazione.")
    return handoff.conversation_id


PATH = "/{handoff_id:int}/messaggi/{message_id:int}/capito-male"


@router.post(PATH, name="handoff_misunderstood")
async def mark_misunderstood(
    request: Request, db: Db, staff: CareManager, handoff_id: int, message_id: int
) -> Response:
    conversation_id = await db.run(
        _conversation_of, staff=staff, handoff_id=handoff_id, message_id=message_id
    )
    service = service_of(request)
    review = getattr(service.gateway, "review", None) if service is not None else None
    error, status = "", 200
    if review is None:
        error, status = NOT_LINKED, 503
    elif not await review.wrong_answer(conversation_id, message_id, Reason.staff_marked):
        error, status = NOTHING_TO_REVIEW, 400
    else:
        detail = f"message:{message_id}"
        await db.run(
            lambda session: audit_action(
                session, request, staff, "handoff.misunderstood", handoff_id, detail
            )
        )
    if wants_json(request):
        if error:
            return JSONResponse({"detail": error}, status_code=status)
        return JSONResponse({"queued": True})
    if error:
        raise HTTPException(status, error)
    return back(request, "handoff_conversation", handoff_id=handoff_id)
