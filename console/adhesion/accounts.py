"""The provider_staff account an approval opens, and its one-time link for the first
password (shown once to the commission, who hands it to the organisation's contact)."""

from __future__ import annotations

import secrets
from datetime import datetime

from fastapi import Request
from sqlmodel import Session, select

from console.staff import StaffError, create_staff
from console.web import console_path
from providers.accounts import issue_link
from providers.applications import ApplicationError
from providers.models import AdhesionApplication
from staff.models import StaffUser
from staff.roles import Role


def open_account(
    session: Session, *, application: AdhesionApplication, link_hours: int, now: datetime
) -> str:
    """Create the contact's provider_staff account; returns the link's token."""
    try:
        view = create_staff(
            session,
            email=application.email,
            full_name=application.contact_name,
            roles={Role.provider_staff},
            password=secrets.token_urlsafe(32),  # nobody knows it: the link sets the first one
            provider_code=application.provider_code,
            now=now,
        )
    except StaffError as error:
        raise ApplicationError(
            f"Non posso aprire l'account per {application.email}: {error} Chiedete al "
            "richiedente un'altra email (decisione «Chiedere modifiche»)."
        ) from None
    return issue_link(session, staff_id=view.id, hours=link_hours, now=now)


def renew_link(
    session: Session, *, application: AdhesionApplication, link_hours: int, now: datetime
) -> str:
    user = session.exec(
        select(StaffUser).where(
            StaffUser.provider_code == application.provider_code,
            StaffUser.email == application.email,
        )
    ).first()
    if user is None or user.id is None:
        raise ApplicationError("Non c'è un account dell'ente per questa domanda.")
    return issue_link(session, staff_id=user.id, hours=link_hours, now=now)


def link_url(request: Request, token: str) -> str:
    base = str(request.base_url).rstrip("/")
    return base + console_path(request, "first_password_form", token=token)
