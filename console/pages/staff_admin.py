"""Staff administration (admin role): list, create, edit roles, deactivate, reset passwords.

New accounts and reset passwords get a temporary password shown once to the administrator;
its owner must replace it at the first login.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from console import audit
from console.auth import CurrentStaff, DbSession, client_ip, require_roles
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
    db: DbSession,
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
            "people": list_staff(db),
            "all_roles": list(Role),
            "error": error,
            "form": form or {"roles": []},
        },
        staff=staff,
        status_code=status_code,
    )


@router.get("/personale", name="staff_list")
def staff_list(request: Request, db: DbSession, staff: Admin) -> Response:
    return _list_page(request, db, staff)


@router.post("/personale", name="staff_create")
def staff_create(
    request: Request,
    db: DbSession,
    staff: Admin,
    email: Text = "",
    full_name: Text = "",
    roles: RolesField = None,
    welcome_place_code: Text = "",
    provider_code: Text = "",
) -> Response:
    role_set = _roles(roles)
    password = temporary_password()
    now = utcnow()
    try:
        person = create_staff(
            db,
            email=email,
            full_name=full_name,
            roles=role_set,
            password=password,
            welcome_place_code=welcome_place_code,
            provider_code=provider_code,
            must_change_password=True,
            now=now,
        )
    except StaffError as problem:
        db.rollback()
        form = {
            "email": email,
            "full_name": full_name,
            "roles": [r.value for r in role_set],
            "welcome_place_code": welcome_place_code,
            "provider_code": provider_code,
        }
        return _list_page(request, db, staff, error=str(problem), form=form, status_code=400)
    audit.record(
        db,
        action="staff.create",
        actor_id=staff.id,
        object_type="staff_user",
        object_id=person.id,
        detail="ruoli: " + ", ".join(sorted(role_set)),
        ip=client_ip(request),
        now=now,
    )
    db.commit()
    return render(
        request,
        "staff_password.html",
        {"person": person, "password": password, "created": True},
        staff=staff,
    )


def _person_or_404(db: Session, staff_id: int) -> StaffView:
    person = get_view(db, staff_id=staff_id)
    if person is None:
        raise HTTPException(404, "Account non trovato.")
    return person


@router.get("/personale/{staff_id}", name="staff_detail")
def staff_detail(
    request: Request, db: DbSession, staff: Admin, staff_id: int, msg: str = ""
) -> Response:
    person = _person_or_404(db, staff_id)
    return render(
        request,
        "staff_detail.html",
        {
            "person": person,
            "all_roles": list(Role),
            "history": audit.recent(
                db, object_type="staff_user", object_id=str(staff_id), limit=20
            ),
            "notice": NOTICES.get(msg, ""),
            "error": "",
        },
        staff=staff,
    )


@router.post("/personale/{staff_id}", name="staff_update")
def staff_update(
    request: Request,
    db: DbSession,
    staff: Admin,
    staff_id: int,
    full_name: Text = "",
    roles: RolesField = None,
    welcome_place_code: Text = "",
    provider_code: Text = "",
) -> Response:
    person = _person_or_404(db, staff_id)
    role_set = _roles(roles)
    error = ""
    if staff_id == staff.id and Role.admin not in role_set:
        error = "Non puoi togliere a te stesso il ruolo di amministrazione."
    else:
        try:
            update_staff(
                db,
                staff_id=staff_id,
                full_name=full_name,
                roles=role_set,
                welcome_place_code=welcome_place_code,
                provider_code=provider_code,
            )
        except StaffError as problem:
            db.rollback()
            error = str(problem)
    if error:
        return render(
            request,
            "staff_detail.html",
            {
                "person": person,
                "all_roles": list(Role),
                "history": audit.recent(
                    db, object_type="staff_user", object_id=str(staff_id), limit=20
                ),
                "notice": "",
                "error": error,
            },
            staff=staff,
            status_code=400,
        )
    audit.record(
        db,
        action="staff.update",
        actor_id=staff.id,
        object_type="staff_user",
        object_id=staff_id,
        detail="ruoli: " + ", ".join(sorted(role_set)),
        ip=client_ip(request),
    )
    db.commit()
    return RedirectResponse(
        console_path(request, "staff_detail", staff_id=staff_id) + "?msg=updated", status_code=303
    )


@router.post("/personale/{staff_id}/stato", name="staff_set_active")
def staff_set_active(
    request: Request,
    db: DbSession,
    staff: Admin,
    staff_id: int,
    active: Annotated[bool, Form()] = False,
) -> Response:
    _person_or_404(db, staff_id)
    if staff_id == staff.id and not active:
        raise HTTPException(400, "Non puoi disattivare il tuo stesso account.")
    set_active(db, staff_id=staff_id, active=active)
    audit.record(
        db,
        action="staff.reactivate" if active else "staff.deactivate",
        actor_id=staff.id,
        object_type="staff_user",
        object_id=staff_id,
        ip=client_ip(request),
    )
    db.commit()
    msg = "reactivated" if active else "deactivated"
    return RedirectResponse(
        console_path(request, "staff_detail", staff_id=staff_id) + f"?msg={msg}", status_code=303
    )


@router.post("/personale/{staff_id}/password", name="staff_reset_password")
def staff_reset_password(request: Request, db: DbSession, staff: Admin, staff_id: int) -> Response:
    person = _person_or_404(db, staff_id)
    if staff_id == staff.id:
        raise HTTPException(400, "Per la tua password usa la pagina «Il mio account».")
    password = temporary_password()
    set_password(db, staff_id=staff_id, password=password, must_change=True)
    audit.record(
        db,
        action="staff.password_reset",
        actor_id=staff.id,
        object_type="staff_user",
        object_id=staff_id,
        ip=client_ip(request),
    )
    db.commit()
    return render(
        request,
        "staff_password.html",
        {"person": person, "password": password, "created": False},
        staff=staff,
    )
