"""The first password of a provider account the adhesion commission opened: a public page
reached only through the one-time link (``providers.accounts``). The link's token is the
secret; once the password is set, the link no longer works and every session ends."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from sqlmodel import Session

from console import audit
from console.auth import Db, client_ip
from console.staff import StaffError, set_password
from console.web import console_path, render
from core.timeutil import utcnow
from providers.accounts import use_link, valid_link
from staff.models import StaffUser

router = APIRouter()
ROUTES = frozenset({"first_password_form", "first_password"})
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
INVALID = (
    "Questo link non vale più: è già stato usato oppure è scaduto. Chiedete alla Commissione "
    "adesioni un nuovo link."
)


def _person(session: Session, *, token: str) -> StaffUser | None:
    link = valid_link(session, token=token, now=utcnow()) if _TOKEN.match(token) else None
    return session.get(StaffUser, link.staff_user_id) if link else None


@router.get("/primo-accesso/{token}", name="first_password_form")
def first_password_form(request: Request, db: Db, token: str) -> Response:
    person = db.run_sync(_person, token=token)
    if person is None:
        return render(request, "first_password.html", {"error": INVALID}, status_code=404)
    return render(request, "first_password.html", {"person": person, "token": token})


def _set(session: Session, *, token: str, password: str, ip: str) -> None:
    staff_id = use_link(session, token=token, now=utcnow()) if _TOKEN.match(token) else None
    if staff_id is None:
        raise StaffError(INVALID)
    set_password(session, staff_id=staff_id, password=password)
    audit.record(
        session,
        action="password.first",
        actor_id=staff_id,
        object_type="staff",
        object_id=staff_id,
        ip=ip,
    )


@router.post("/primo-accesso/{token}", name="first_password")
def first_password(
    request: Request,
    db: Db,
    token: str,
    password: Annotated[str, Form(max_length=256)],
    confirm: Annotated[str, Form(max_length=256)],
) -> Response:
    person = db.run_sync(_person, token=token)
    if person is None:
        return render(request, "first_password.html", {"error": INVALID}, status_code=404)
    context = {"person": person, "token": token}
    if password != confirm:
        error = "Le due password non sono uguali: scrivile di nuovo."
        return render(request, "first_password.html", {**context, "error": error}, status_code=422)
    try:
        db.run_sync(_set, token=token, password=password, ip=client_ip(request))
    except StaffError as error:
        return render(
            request, "first_password.html", {**context, "error": str(error)}, status_code=422
        )
    return render(
        request,
        "first_password.html",
        {"done": True, "login": console_path(request, "login_form")},
    )
