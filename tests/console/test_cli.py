"""python -m console: create and list staff from the command line."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import pytest
from sqlalchemy.engine import Engine

from console.cli import main
from console.security import verify_password
from console.staff import get_by_email, roles_of
from core.db import session_scope
from core.settings import PROJECT_ROOT
from staff.roles import Role


def _run(engine: Engine, *argv: str, stdin: str = "") -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), engine=engine, stdin=io.StringIO(stdin), stdout=out)
    return code, out.getvalue()


def test_create_and_list(engine: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _run(
        engine,
        "create-staff",
        "--email",
        "Anna@Comune.Example.IT",
        "--name",
        "Anna Rossi",
        "--roles",
        "care_manager,admin",
        "--place",
        "WP-Q1",
        "--password-stdin",
        stdin="girasoli sul lungarno\n",
    )
    assert code == 0 and "anna@comune.example.it" in out
    with session_scope(engine) as db:
        user = get_by_email(db, email="anna@comune.example.it")
        assert user is not None and user.id is not None
        assert verify_password(user.password_hash, "girasoli sul lungarno")
        assert roles_of(db, staff_id=user.id) == {Role.care_manager, Role.admin}
        assert not user.must_change_password
    code, out = _run(engine, "list-staff")
    assert code == 0
    assert "anna@comune.example.it\tAnna Rossi\tadmin,care_manager\tattivo\t-" in out
    assert "girasoli" not in out + capsys.readouterr().err


def test_refusals_exit_non_zero_with_an_italian_message(
    engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["create-staff", "--email", "b@example.org", "--name", "B", "--password-stdin"]
    assert _run(engine, *base, "--roles", "boss", stdin="girasoli sul lungarno\n")[0] == 1
    assert "ruolo sconosciuto" in capsys.readouterr().err
    assert _run(engine, *base, "--roles", "hub_staff", stdin="corta\n")[0] == 1
    assert "almeno 12 caratteri" in capsys.readouterr().err
    assert _run(engine, *base, "--roles", "hub_staff", stdin="girasoli sul lungarno\n")[0] == 0
    assert _run(engine, *base, "--roles", "hub_staff", stdin="girasoli sul lungarno\n")[0] == 1
    assert "Esiste già" in capsys.readouterr().err


def test_deactivate_and_reset(engine: Engine) -> None:
    _run(
        engine,
        "create-staff",
        "--email",
        "c@example.org",
        "--name",
        "C",
        "--roles",
        "hub_staff",
        "--password-stdin",
        stdin="girasoli sul lungarno\n",
    )
    assert (
        _run(
            engine,
            "reset-password",
            "--email",
            "c@example.org",
            "--password-stdin",
            stdin="tramonto su ponte vecchio\n",
        )[0]
        == 0
    )
    assert _run(engine, "deactivate-staff", "--email", "C@example.org")[0] == 0
    assert "disattivato" in _run(engine, "list-staff")[1]
    assert _run(engine, "deactivate-staff", "--email", "nessuno@example.org")[0] == 1


def test_module_entry_point(sqlite_url: str) -> None:
    """The real command, in a subprocess, against DATABASE_URL."""
    env = {**os.environ, "DATABASE_URL": sqlite_url}
    command = [sys.executable, "-m", "console"]
    created = subprocess.run(
        [
            *command,
            "create-staff",
            "--email",
            "d@example.org",
            "--name",
            "D",
            "--roles",
            "admin",
            "--password-stdin",
        ],
        input="girasoli sul lungarno\n",
        capture_output=True,
        text=True,
        env=env,
        cwd=PROJECT_ROOT,
        timeout=120,
        check=False,
    )
    assert created.returncode == 0, created.stderr
    listed = subprocess.run(
        [*command, "list-staff"],
        capture_output=True,
        text=True,
        env=env,
        cwd=PROJECT_ROOT,
        timeout=120,
        check=False,
    )
    assert listed.returncode == 0 and "d@example.org\tD\tadmin" in listed.stdout
