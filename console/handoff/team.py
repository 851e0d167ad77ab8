"""The team's canned replies and the queue's settings (the staff Telegram alert).

Every Care Manager reads and uses the canned replies; changing them, and where the staff
Telegram alert goes, is for a Care Manager who is also an admin (the team's coordinator):
one colleague alone must not be able to redirect the alerts of emergencies or put words in
the whole team's mouth (docs/security.md)."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import Response
from sqlmodel import Session

from bot.handoff.service import (
    TELEGRAM_CHAT_KEY,
    TELEGRAM_ENABLED_KEY,
)
from care import handoff as core
from console import audit
from console.auth import CurrentStaff, Db, client_ip, require_roles
from console.handoff.common import (
    NOTICES,
    CareManager,
    back,
    service_of,
)
from console.web import render
from core.timeutil import utcnow
from staff.roles import Role

log = logging.getLogger(__name__)

router = APIRouter()
TeamAdmin = Annotated[CurrentStaff, Depends(require_roles(Role.admin))]

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
    staff: TeamAdmin,
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
    staff: TeamAdmin,
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
async def settings_page(request: Request, db: Db, staff: TeamAdmin, msg: str = "") -> Response:
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
    staff: TeamAdmin,
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
