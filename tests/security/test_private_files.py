"""Files under VAR_DIR are owner-only: new ones (databases, Rasa's tracker store, anything
our processes write) and those an older run left readable."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from sqlalchemy import text

from core.db import make_engine
from core.private_files import secure_tree
from core.settings import PROJECT_ROOT
from devtools.rasa_env import prepare_sqlite_tracker


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_sqlite_database_and_its_wal_are_owner_only(tmp_path: Path) -> None:
    previous = os.umask(0o022)  # a shell's usual umask
    try:
        path = tmp_path / "var" / "welcome.db"
        engine = make_engine(f"sqlite:///{path}")
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE t (x TEXT)"))
            connection.execute(text("INSERT INTO t VALUES ('dati')"))
        assert mode(path) == 0o600
        for extra in ("welcome.db-wal", "welcome.db-shm"):
            if (path.parent / extra).exists():
                assert mode(path.parent / extra) == 0o600, extra
        engine.dispose()
        tracker = tmp_path / "var" / "rasa-tracker.db"
        prepare_sqlite_tracker(f"sqlite:///{tracker}")
        assert mode(tracker) == 0o600
    finally:
        os.umask(previous)


def test_secure_tree_fixes_what_an_older_run_left(tmp_path: Path) -> None:
    var = tmp_path / "var"
    (var / "log").mkdir(parents=True)
    (var / "log" / "gateway.log").write_text("x")
    (var / "welcome.db").write_text("x")
    for path in (var, var / "log"):
        path.chmod(0o755)
    for path in (var / "log" / "gateway.log", var / "welcome.db"):
        path.chmod(0o644)
    (var / "link").symlink_to("/etc/hostname")
    before = mode(Path("/etc/hostname"))
    assert secure_tree(var) == 4
    assert mode(var) == 0o700 and mode(var / "log") == 0o700
    assert mode(var / "log" / "gateway.log") == 0o600 and mode(var / "welcome.db") == 0o600
    assert mode(Path("/etc/hostname")) == before  # links are never followed
    assert secure_tree(var) == 0


def test_restrict_umask_makes_files_of_children_owner_only(tmp_path: Path) -> None:
    """What `make run`, the gateway and the action server call first: from a permissive
    shell (umask 022), the files they and their children (Rasa) create are owner-only."""
    code = (
        "import os\n"
        "os.umask(0o022)\n"
        "from core.private_files import restrict_umask\n"
        "restrict_umask()\n"
        "import subprocess, sys\n"
        "subprocess.run([sys.executable, '-c', "
        "\"import os; open(os.environ['TARGET'], 'w').write('x')\"], check=True)\n"
    )
    target = tmp_path / "made.log"
    subprocess.run(
        [sys.executable, "-c", code],
        cwd=PROJECT_ROOT,
        env={**os.environ, "TARGET": str(target)},
        check=True,
    )
    assert mode(target) == 0o600
