"""What the hand-off section's pages share: the role, notices, audit labels and helpers."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.requests import HTTPConnection
from fastapi.responses import RedirectResponse
from sqlmodel import Session

from bot.handoff.service import (
    HandoffService,
)
from care.handoff_models import Handoff
from care.sla import OfficeHours, office_hours
from console import audit
from console.auth import CurrentStaff, client_ip, require_roles
from console.handoff import views
from console.web import console_path
from core.database import Database
from staff.roles import Role

log = logging.getLogger(__name__)

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
    "handoff.misunderstood": "messaggio segnalato come capito male dall'assistente",
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


def audit_action(
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


def publish(conn: HTTPConnection, event: str, handoff: Handoff | None) -> None:
    service = service_of(conn)
    if service is not None and handoff is not None:
        service.publish(event, handoff)


def held(session: Session, *, staff: CurrentStaff, handoff_id: int) -> Handoff:
    """The hand-off, if ``staff`` holds it; else 404 (not visible) or 409 (not theirs now)."""
    handoff = views.visible_handoff(session, staff, handoff_id)
    if handoff is None:
        raise HTTPException(404, "Conversazione non trovata.")
    if not views.can_act(staff, handoff):
        raise HTTPException(409, "Prendi in carico la conversazione prima di farlo.")
    return handoff
