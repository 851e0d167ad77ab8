"""python -m catalog: migrate, import and search from the command line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from catalog_test_helpers import BAD, GOOD
from sqlalchemy import inspect
from sqlalchemy.engine import Engine

import core.db
from catalog.__main__ import main
from core.db import make_engine
from core.settings import PROJECT_ROOT


@pytest.fixture
def use_engine(monkeypatch: pytest.MonkeyPatch, sqlite_engine: Engine) -> Engine:
    monkeypatch.setattr(core.db, "get_engine", lambda: sqlite_engine)
    return sqlite_engine


def test_import_then_search(use_engine: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import", str(GOOD)]) == 0
    out = capsys.readouterr().out
    assert "services.yaml: 17 created, 0 updated, 0 unchanged" in out
    assert main(["import", str(GOOD)]) == 0
    assert "services.yaml: 0 created, 0 updated, 17 unchanged" in capsys.readouterr().out

    assert main(["search", "doposcuola a rifredi per un bimbo di 8 anni"]) == 0
    out = capsys.readouterr().out
    assert "capito: category=after_school, quartiere=Q5, age=8, area=Rifredi" in out
    assert "1. Doposcuola Il Girasole" in out
    assert "perché: categoria: Doposcuola; parla di: doposcuola; nel quartiere 5 Rifredi" in out

    assert main(["search", "psicolgo", "--quartiere", "gavinana", "--cost", "free"]) == 0
    out = capsys.readouterr().out
    assert "corretto: psicolg -> psicolog" in out
    assert "1. Spazio ascolto giovani" in out

    assert main(["search", "nido", "--quartiere", "q5"]) == 0
    assert "nota: Nel quartiere 5 Rifredi non ho trovato nulla" in capsys.readouterr().out


def test_import_errors_exit_1(use_engine: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import", str(BAD)]) == 1
    err = capsys.readouterr().err
    assert f"{BAD / 'services.yaml'}:12: provider: unknown provider 'nessuno'" in err
    assert err.rstrip().endswith("nothing imported")


def test_migrate(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'new.db'}")
    monkeypatch.setattr(core.db, "get_engine", lambda: engine)
    assert main(["migrate"]) == 0
    assert "service" in inspect(engine).get_table_names()
    engine.dispose()


@pytest.mark.parametrize(
    "args", [["search", "x", "--near", "north"], ["search", "--quartiere", "milano"]]
)
def test_bad_arguments(args: list[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(args)
    assert exc.value.code == 2


def test_module_help_runs() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "catalog", "--help"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0 and "import" in done.stdout and "search" in done.stdout
