"""One style of database access in the console: every endpoint hands a ``work(session, ...)``
function to ``console.auth.Db`` (core.database.Database), one transaction per call. A refused
change commits nothing, not even its audit record; no console module opens a session itself."""

from __future__ import annotations

import ast
from pathlib import Path

from console_helpers import CONSOLE, MakeStaff, signed_in
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import select

from core.db import session_scope
from staff.models import AuditLog, StaffUser
from staff.roles import Role

CONSOLE_DIR = Path(__file__).resolve().parents[2] / "console"
# the command line runs outside any request (and sessions.py only receives a session)
OUTSIDE_REQUESTS = {"cli.py"}
FORBIDDEN_CALLS = {"Session", "session_scope", "to_thread"}
# Blocking work that is not database work, one entry per call: building the copy's PDF and
# keeping its files on disk (console/data_copy/routes.py) take seconds and must not hold a
# database connection while they run.
NOT_DATABASE_WORK = {
    "data_copy/routes.py to_thread(keep)",
    "data_copy/routes.py to_thread(prepare)",
}


def _audit_actions(engine: Engine) -> list[str]:
    with session_scope(engine) as session:
        return list(session.exec(select(AuditLog.action).order_by(AuditLog.id)))


def test_a_refused_change_commits_nothing(
    gateway: FastAPI, make_staff: MakeStaff, engine: Engine
) -> None:
    admin = make_staff(Role.admin)
    colleague = make_staff(Role.care_manager)
    with TestClient(gateway, follow_redirects=False) as client:
        csrf = signed_in(client, admin)
        before = _audit_actions(engine)
        taken = client.post(
            f"{CONSOLE}/personale",
            data={
                "csrf_token": csrf,
                "email": colleague.email,  # already used: create_staff refuses it
                "full_name": "Doppione",
                "roles": ["hub_staff"],
            },
        )
        assert taken.status_code == 400
        assert _audit_actions(engine) == before
        roles = {"csrf_token": csrf, "full_name": "Io", "roles": ["hub_staff"]}
        refused = client.post(f"{CONSOLE}/personale/{admin.view.id}", data=roles)
        assert refused.status_code == 400 and "ruolo di amministrazione" in refused.text
        assert _audit_actions(engine) == before
        created = client.post(
            f"{CONSOLE}/personale",
            data={
                "csrf_token": csrf,
                "email": "nuovo@comune.example.it",
                "full_name": "Nuovo",
                "roles": ["hub_staff"],
            },
        )
        assert created.status_code == 200
    assert _audit_actions(engine) == [*before, "staff.create"]
    with session_scope(engine) as session:
        emails = set(session.exec(select(StaffUser.email)))
    assert "nuovo@comune.example.it" in emails and len(emails) == 3


def test_no_console_module_opens_a_session_itself() -> None:
    found = []
    for path in sorted(CONSOLE_DIR.rglob("*.py")):
        if path.name in OUTSIDE_REQUESTS:
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                if name in FORBIDDEN_CALLS:
                    where = f"{path.relative_to(CONSOLE_DIR)}:{node.lineno} {name}"
                    if name == "to_thread" and node.args:
                        target = node.args[0]
                        called = getattr(target, "id", None) or getattr(target, "attr", "?")
                        where = f"{path.relative_to(CONSOLE_DIR)} to_thread({called})"
                    found.append(where)
    assert sorted(set(found) - NOT_DATABASE_WORK) == []
    assert set(found) >= NOT_DATABASE_WORK  # a stale entry must go
