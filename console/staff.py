"""Staff accounts: create, list, change roles, deactivate, set passwords.

Functions take keyword-only arguments and a SQLModel session; the caller commits.
Validation errors are ``StaffError`` with an Italian message fit to show as is.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from console.security import hash_password, is_valid_email, normalize_email, password_problems
from core.timeutil import utcnow
from staff.models import StaffRole, StaffSession, StaffUser
from staff.roles import Role


class StaffError(ValueError):
    """A request about staff that cannot be honoured; the message is Italian, for staff."""


@dataclass(frozen=True)
class StaffView:
    """A member of staff with their roles, detached from the database session."""

    id: int
    email: str
    full_name: str
    roles: frozenset[Role]
    welcome_place_code: str | None
    provider_code: str | None
    active: bool
    must_change_password: bool
    created_at: datetime
    last_login_at: datetime | None

    @property
    def role_labels(self) -> list[str]:
        return [role.label for role in Role if role in self.roles]


def _view(user: StaffUser, roles: frozenset[Role]) -> StaffView:
    assert user.id is not None
    return StaffView(
        id=user.id,
        email=user.email,
        full_name=user.full_name,
        roles=roles,
        welcome_place_code=user.welcome_place_code,
        provider_code=user.provider_code,
        active=user.active,
        must_change_password=user.must_change_password,
        created_at=user.created_at,
        last_login_at=user.last_login_at,
    )


def _clean_code(code: str | None) -> str | None:
    code = (code or "").strip()
    return code or None


def _check_profile(*, full_name: str, roles: frozenset[Role], provider_code: str | None) -> None:
    if not full_name.strip():
        raise StaffError("Indica nome e cognome.")
    if len(full_name.strip()) > 120:
        raise StaffError("Il nome può avere al massimo 120 caratteri.")
    if not roles:
        raise StaffError("Scegli almeno un ruolo.")
    if Role.provider_staff in roles and not provider_code:
        raise StaffError("Per il ruolo «Personale ente erogatore» indica il codice dell'ente.")


def roles_of(session: Session, *, staff_id: int) -> frozenset[Role]:
    rows = session.exec(select(StaffRole.role).where(StaffRole.staff_user_id == staff_id))
    return frozenset(Role(name) for name in rows if name in Role.__members__)


def _set_roles(session: Session, *, staff_id: int, roles: Iterable[Role]) -> None:
    wanted = set(roles)
    current = roles_of(session, staff_id=staff_id)
    for role in current - wanted:
        row = session.get(StaffRole, (staff_id, role.value))
        if row is not None:
            session.delete(row)
    for role in wanted - current:
        session.add(StaffRole(staff_user_id=staff_id, role=role.value))


def get_by_email(session: Session, *, email: str) -> StaffUser | None:
    return session.exec(select(StaffUser).where(StaffUser.email == normalize_email(email))).first()


def get_view(session: Session, *, staff_id: int) -> StaffView | None:
    user = session.get(StaffUser, staff_id)
    if user is None:
        return None
    return _view(user, roles_of(session, staff_id=staff_id))


def create_staff(
    session: Session,
    *,
    email: str,
    full_name: str,
    roles: Iterable[Role],
    password: str,
    welcome_place_code: str | None = None,
    provider_code: str | None = None,
    must_change_password: bool = False,
    now: datetime | None = None,
) -> StaffView:
    email = normalize_email(email)
    role_set = frozenset(roles)
    provider_code = _clean_code(provider_code)
    if not is_valid_email(email):
        raise StaffError("L'indirizzo email non è valido.")
    _check_profile(full_name=full_name, roles=role_set, provider_code=provider_code)
    problems = password_problems(password, email=email)
    if problems:
        raise StaffError(" ".join(problems))
    if get_by_email(session, email=email) is not None:
        raise StaffError("Esiste già un account con questa email.")
    user = StaffUser(
        email=email,
        full_name=full_name.strip(),
        password_hash=hash_password(password),
        welcome_place_code=_clean_code(welcome_place_code),
        provider_code=provider_code,
        must_change_password=must_change_password,
        created_at=now or utcnow(),
    )
    session.add(user)
    session.flush()
    assert user.id is not None
    _set_roles(session, staff_id=user.id, roles=role_set)
    session.flush()
    return _view(user, role_set)


def update_staff(
    session: Session,
    *,
    staff_id: int,
    full_name: str,
    roles: Iterable[Role],
    welcome_place_code: str | None,
    provider_code: str | None,
) -> StaffView:
    user = session.get(StaffUser, staff_id)
    if user is None:
        raise StaffError("Account non trovato.")
    role_set = frozenset(roles)
    provider_code = _clean_code(provider_code)
    _check_profile(full_name=full_name, roles=role_set, provider_code=provider_code)
    user.full_name = full_name.strip()
    user.welcome_place_code = _clean_code(welcome_place_code)
    user.provider_code = provider_code
    session.add(user)
    _set_roles(session, staff_id=staff_id, roles=role_set)
    session.flush()
    return _view(user, role_set)


def list_staff(session: Session, *, active_only: bool = False) -> list[StaffView]:
    query = select(StaffUser).order_by(col(StaffUser.full_name), col(StaffUser.email))
    if active_only:
        query = query.where(col(StaffUser.active).is_(True))
    users = list(session.exec(query))
    roles: dict[int, set[Role]] = {}
    for staff_id, name in session.exec(select(StaffRole.staff_user_id, StaffRole.role)):
        if name in Role.__members__:
            roles.setdefault(staff_id, set()).add(Role(name))
    return [_view(user, frozenset(roles.get(user.id or 0, ()))) for user in users]


def staff_with_role(session: Session, *, role: Role) -> list[StaffView]:
    """Active staff holding ``role`` (e.g. the Care Managers a conversation can go to)."""
    return [view for view in list_staff(session, active_only=True) if role in view.roles]


def revoke_sessions(
    session: Session,
    *,
    staff_id: int,
    now: datetime | None = None,
    keep_session_id: int | None = None,
) -> None:
    query = (
        update(StaffSession)
        .where(col(StaffSession.staff_user_id) == staff_id)
        .where(col(StaffSession.revoked_at).is_(None))
    )
    if keep_session_id is not None:
        query = query.where(col(StaffSession.id) != keep_session_id)
    session.exec(query.values(revoked_at=now or utcnow()))  # type: ignore[call-overload]


def set_active(
    session: Session, *, staff_id: int, active: bool, now: datetime | None = None
) -> None:
    user = session.get(StaffUser, staff_id)
    if user is None:
        raise StaffError("Account non trovato.")
    user.active = active
    session.add(user)
    if not active:
        revoke_sessions(session, staff_id=staff_id, now=now)
    session.flush()


def set_password(
    session: Session,
    *,
    staff_id: int,
    password: str,
    must_change: bool = False,
    keep_session_id: int | None = None,
    now: datetime | None = None,
) -> None:
    """Set a new password and end every other session of that person."""
    user = session.get(StaffUser, staff_id)
    if user is None:
        raise StaffError("Account non trovato.")
    problems = password_problems(password, email=user.email)
    if problems:
        raise StaffError(" ".join(problems))
    user.password_hash = hash_password(password)
    user.must_change_password = must_change
    session.add(user)
    revoke_sessions(session, staff_id=staff_id, now=now, keep_session_id=keep_session_id)
    session.flush()
