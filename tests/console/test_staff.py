"""Staff accounts in the database (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from console_helpers import MakeStaff
from sqlalchemy.engine import Engine
from sqlmodel import select

from console.security import verify_password
from console.sessions import start_session
from console.staff import (
    StaffError,
    create_staff,
    get_by_email,
    list_staff,
    set_active,
    set_password,
    staff_with_role,
    update_staff,
)
from core.db import session_scope
from core.timeutil import utcnow
from staff.models import StaffSession, StaffUser
from staff.roles import Role, parse_roles


def test_create_lowercases_email_and_hashes_password(engine: Engine) -> None:
    with session_scope(engine) as db:
        view = create_staff(
            db,
            email="  Anna.Rossi@Comune.Example.IT ",
            full_name=" Anna Rossi ",
            roles=[Role.care_manager, Role.admin],
            password="girasoli sul lungarno",
            welcome_place_code="WP-Q1",
        )
    assert view.email == "anna.rossi@comune.example.it"
    assert view.full_name == "Anna Rossi"
    assert view.roles == {Role.care_manager, Role.admin}
    with session_scope(engine) as db:
        user = get_by_email(db, email="ANNA.ROSSI@comune.example.it")
        assert user is not None
        assert user.password_hash.startswith("$argon2id$")
        assert "girasoli" not in user.password_hash
        assert verify_password(user.password_hash, "girasoli sul lungarno")
        assert user.created_at.tzinfo is not None


def test_email_is_unique_whatever_the_case(engine: Engine, make_staff: MakeStaff) -> None:
    make_staff(Role.hub_staff, email="doppio@example.org")
    with session_scope(engine) as db, pytest.raises(StaffError, match="Esiste già"):
        create_staff(
            db,
            email="DOPPIO@example.org",
            full_name="Altro",
            roles=[Role.hub_staff],
            password="girasoli sul lungarno",
        )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"email": "non-una-email"}, "email"),
        ({"full_name": " "}, "nome"),
        ({"roles": []}, "ruolo"),
        ({"roles": [Role.provider_staff]}, "codice dell'ente"),
        ({"password": "corta"}, "12 caratteri"),
        ({"password": "chi@example.org"}, "email"),
    ],
)
def test_create_refuses_invalid_accounts(engine: Engine, kwargs: dict, message: str) -> None:
    fields = {
        "email": "chi@example.org",
        "full_name": "Chi",
        "roles": [Role.care_manager],
        "password": "girasoli sul lungarno",
    } | kwargs
    with session_scope(engine) as db, pytest.raises(StaffError, match=message):
        create_staff(db, **fields)


def test_parse_roles() -> None:
    assert parse_roles("care_manager, admin") == {Role.care_manager, Role.admin}
    with pytest.raises(ValueError, match="sconosciuto"):
        parse_roles("care_manager,boss")


def test_update_roles_and_list(engine: Engine, make_staff: MakeStaff) -> None:
    anna = make_staff(Role.care_manager)
    make_staff(Role.hub_staff)
    with session_scope(engine) as db:
        update_staff(
            db,
            staff_id=anna.view.id,
            full_name="Anna R.",
            roles=[Role.welfare_officer, Role.provider_staff],
            welcome_place_code="",
            provider_code="ENTE07",
        )
    with session_scope(engine) as db:
        people = {p.id: p for p in list_staff(db)}
        assert people[anna.view.id].roles == {Role.welfare_officer, Role.provider_staff}
        assert people[anna.view.id].provider_code == "ENTE07"
        assert people[anna.view.id].welcome_place_code is None
        assert [p.id for p in staff_with_role(db, role=Role.welfare_officer)] == [anna.view.id]
        assert staff_with_role(db, role=Role.care_manager) == []


def test_deactivation_and_password_change_end_sessions(
    engine: Engine, make_staff: MakeStaff, console_settings
) -> None:
    from console.config import ConsoleConfig

    config = ConsoleConfig.from_settings(console_settings)
    anna = make_staff(Role.care_manager)
    now = utcnow()
    with session_scope(engine) as db:
        _, keep = start_session(
            db, staff_id=anna.view.id, ip="127.0.0.1", user_agent="a", now=now, config=config
        )
        start_session(
            db, staff_id=anna.view.id, ip="127.0.0.1", user_agent="b", now=now, config=config
        )
        set_password(
            db, staff_id=anna.view.id, password="nuova password lunga", keep_session_id=keep.id
        )
    with session_scope(engine) as db:
        rows = list(db.exec(select(StaffSession)))
        assert {r.id: r.revoked_at is None for r in rows} == {r.id: r.id == keep.id for r in rows}
        set_active(db, staff_id=anna.view.id, active=False)
    with session_scope(engine) as db:
        assert all(r.revoked_at is not None for r in db.exec(select(StaffSession)))
        user = db.get(StaffUser, anna.view.id)
        assert user is not None and not user.active
