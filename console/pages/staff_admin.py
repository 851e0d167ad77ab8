"""Staff administration (admin role): list, create, edit roles, deactivate, reset passwords.

New accounts and reset passwords get a temporary password shown once to the administrator;
its owner must replace it at the first login.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from console import audit
from console.auth import CurrentStaff, Db, client_ip, require_roles
from console.security import temporary_password
from console.staff import (
    StaffError,
    StaffView,
    create_staff,
    get_view,
    list_staff,
    set_active,
    set_password,
    update_staff,
)
from console.web import console_path, render
from core.database import Database
from core.timeutil import utcnow
from staff.roles import Role, parse_roles

router = APIRouter()

Admin = Annotated[CurrentStaff, Depends(require_roles(Role.admin))]
RolesField = Annotated[list[str] | None, Form()]
Text = Annotated[str, Form(max_length=254)]

NOTICES = {
    "updated": "Modifiche salvate.",
    "deactivated": "Account disattivato: le sue sessioni sono state chiuse.",
    "reactivated": "Account riattivato.",
}


def _roles(values: list[str] | None) -> frozenset[Role]:
    try:
        return parse_roles(values or [])
    except ValueError:
        raise HTTPException(400, "Ruolo non valido.") from None


def _list_page(
    request: Request,
    db: Database,
    staff: CurrentStaff,
    *,
    error: str = "",
    form: dict[str, object] | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "staff_list.html",
        {
            "people": db.run_sync(list_staff),
            "all_roles": list(Role),
            "error": error,
            "form": form or {"roles": []},
        },
        staff=staff,
        status_code=status_code,
    )


@router.get("/personale", name="staff_list")
def staff_list(request: Request, db: Db, staff: Admin) -> Response:
    return _list_page(request, db, staff)


def _create(
    session: Session,
    *,
    staff: CurrentStaff,
    email: str,
    full_name: str,
    roles: frozenset[Role],
    password: str,
    welcome_place_code: str,
    provider_code: str,
    ip: str,
) -> StaffView:
    now = utcnow()
    person = create_staff(
        session,
        email=email,
        full_name=full_name,
        roles=roles,
        password=password,
        welcome_place_code=welcome_place_code,
        provider_code=provider_code,
        must_change_password=True,
        now=now,
    )
    audit.record(
        session,
        action="staff.create",
        actor_id=staff.id,
        object_type="staff_user",
        object_id=person.id,
        detail="ruoli: " + ", ".join(sorted(roles)),
        ip=ip,
        now=now,
    )
    return person


@router.post("/personale", name="staff_create")
def staff_create(
    request: Request,
    db: Db,
    staff: Admin,
    email: Text = "",
    full_name: Text = "",
    roles: RolesField = None,
    welcome_place_code: Text = "",
    provider_code: Text = "",
) -> Response:
    role_set = _roles(roles)
    password = temporary_password()
    try:
        person = db.run_sync(
            _create,
            staff=staff,
            email=email,
            full_name=full_name,
            roles=role_set,
            password=password,
            welcome_place_code=welcome_place_code,
            provider_code=provider_code,
            ip=client_ip(request),
        )
    except StaffError as problem:
        form = {
            "email": email,
            "full_name": full_name,
            "roles": [r.value for r in role_set],
            "welcome_place_code": welcome_place_code,
            "provider_code": provider_code,
        }
        return _list_page(request, db, staff, error=str(problem), form=form, status_code=400)
    return render(
        request,
        "staff_password.html",
        {"person": person, "password": password, "created": True},
        staff=staff,
    )


def _person_or_404(session: Session, staff_id: int) -> StaffView:
    person = get_view(session, staff_id=staff_id)
    if person is None:
        raise HTTPException(404, "Account non trovato.")
    return person


def _detail_context(session: Session, *, staff_id: int) -> dict[str, Any]:
    return {
        "person": _person_or_404(session, staff_id),
        "all_roles": list(Role),
        "history": audit.recent(
            session, object_type="staff_user", object_id=str(staff_id), limit=20
        ),
    }


@router.get("/personale/{staff_id}", name="staff_detail")
def staff_detail(request: Request, db: Db, staff: Admin, staff_id: int, msg: str = "") -> Response:
    return render(
        request,
        "staff_detail.html",
        {
            **db.run_sync(_detail_context, staff_id=staff_id),
            "notice": NOTICES.get(msg, ""),
            "error": "",
        },
        staff=staff,
    )


def _update(
    session: Session,
    *,
    staff: CurrentStaff,
    staff_id: int,
    full_name: str,
    roles: list[str] | None,
    welcome_place_code: str,
    provider_code: str,
    ip: str,
) -> None:
    _person_or_404(session, staff_id)
    role_set = _roles(roles)
    if staff_id == staff.id and Role.admin not in role_set:
        raise StaffError("Non puoi togliere a te stesso il ruolo di amministrazione.")
    update_staff(
        session,
        staff_id=staff_id,
        full_name=full_name,
        roles=role_set,
        welcome_place_code=welcome_place_code,
        provider_code=provider_code,
    )
    audit.record(
        session,
        action="staff.update",
        actor_id=staff.id,
        object_type="staff_user",
        object_id=staff_id,
        detail="ruoli: " + ", ".join(sorted(role_set)),
        ip=ip,
    )


@router.post("/personale/{staff_id}", name="staff_update")
def staff_update(
    request: Request,
    db: Db,
    staff: Admin,
    staff_id: int,
    full_name: Text = "",
    roles: RolesField = None,
    welcome_place_code: Text = "",
    provider_code: Text = "",
) -> Response:
    try:
        db.run_sync(
            _update,
            staff=staff,
            staff_id=staff_id,
            full_name=full_name,
            roles=roles,
            welcome_place_code=welcome_place_code,
            provider_code=provider_code,
            ip=client_ip(request),
        )
    except StaffError as problem:  # rolled back: nothing changed
        return render(
            request,
            "staff_detail.html",
            {
                **db.run_sync(_detail_context, staff_id=staff_id),
                "notice": "",
                "error": str(problem),
            },
            staff=staff,
            status_code=400,
        )
    return RedirectResponse(
        console_path(request, "staff_detail", staff_id=staff_id) + "?msg=updated", status_code=303
    )


def _set_active(
    session: Session, *, staff: CurrentStaff, staff_id: int, active: bool, ip: str
) -> None:
    _person_or_404(session, staff_id)
    if staff_id == staff.id and not active:
        raise HTTPException(400, "Non puoi disattivare il tuo stesso account.")
    set_active(session, staff_id=staff_id, active=active)
    audit.record(
        session,
        action="staff.reactivate" if active else "staff.deactivate",
        actor_id=staff.id,
        object_type="staff_user",
        object_id=staff_id,
        ip=ip,
    )


@router.post("/personale/{staff_id}/stato", name="staff_set_active")
def staff_set_active(
    request: Request,
    db: Db,
    staff: Admin,
    staff_id: int,
    active: Annotated[bool, Form()] = False,
) -> Response:
    db.run_sync(_set_active, staff=staff, staff_id=staff_id, active=active, ip=client_ip(request))
    msg = "reactivated" if active else "deactivated"
    return RedirectResponse(
        console_path(request, "staff_detail", staff_id=staff_id) + f"?msg={msg}", status_code=303
    )


def _reset_password(
    session: Session, *, staff: CurrentStaff, staff_id: int, password: str, ip: str
) -> StaffView:
    person = _person_or_404(session, staff_id)
    if staff_id == staff.id:
        raise HTTPException(400, "Per la tua password usa la pagina «Il mio account».")
    set_password(session, staff_id=staff_id, password=password, must_change=True)
    audit.record(
        session,
        action="staff.password_reset",
        actor_id=staff.id,
        object_type="staff_user",
        object_id=staff_id,
        ip=ip,
    )
    return person


@router.post("/personale/{staff_id}/password", name="staff_reset_password")
def staff_reset_password(request: Request, db: Db, staff: Admin, staff_id: int) -> Response:
    password = temporary_password()
    person = db.run_sync(
        _reset_password, staff=staff, staff_id=staff_id, password=password, ip=client_ip(request)
    )
    return render(
        request,
        "staff_password.html",
        {"person": person, "password": password, "created": False},
        staff=staff,
    )
