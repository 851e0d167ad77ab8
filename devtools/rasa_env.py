"""How the Python 3.11 side runs Rasa (Python 3.10, .venv-rasa) as a subprocess.

Every Rasa process gets the same environment: no telemetry, a project-local HOME (Rasa writes
its global config there), the project root on PYTHONPATH (custom components in nlu/), and the
tracker/lock store variables that endpoints.yml expands. Nothing here imports Rasa.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import sys
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from core.private_files import private_file
from core.settings import PROJECT_ROOT, Settings
from nlu.internal_auth import ACTION_SECRET_ENV, RASA_SECRET_ENV

RASA_VENV = PROJECT_ROOT / ".venv-rasa"
RASA_BIN = RASA_VENV / "bin" / "rasa"
RASA_PYTHON = RASA_VENV / "bin" / "python"
APP_PYTHON = Path(sys.executable)
MODELS_DIR = PROJECT_ROOT / "models"
MODEL_NAME = "welcome"
CONFIG_FILE = PROJECT_ROOT / "config.yml"
ENDPOINTS_FILE = PROJECT_ROOT / "endpoints.yml"
CREDENTIALS_FILE = PROJECT_ROOT / "credentials.yml"
DOMAIN_FILE = PROJECT_ROOT / "domain.yml"
DATA_DIR = PROJECT_ROOT / "data"
NLU_DATA_DIR = DATA_DIR / "nlu"
HELDOUT_FILE = PROJECT_ROOT / "tests" / "nlu_heldout" / "nlu.yml"


class RasaNotInstalledError(RuntimeError):
    pass


def require_rasa() -> Path:
    """The rasa executable, or a clear error telling how to create it."""
    if not RASA_BIN.exists():
        raise RasaNotInstalledError(
            f"{RASA_BIN} is missing: run `scripts/setup.sh rasa` (or `make setup`) first."
        )
    return RASA_BIN


def tracker_store_url(settings: Settings) -> str:
    """SQLAlchemy URL for Rasa's SQL tracker store (Rasa's env has psycopg2, not psycopg 3)."""
    url = settings.rasa_tracker_db_url
    if not url:
        return f"sqlite:///{settings.var_dir / 'rasa-tracker.db'}"
    scheme, sep, rest = url.partition("://")
    if scheme in ("postgresql+psycopg", "postgres"):
        scheme = "postgresql"
    return f"{scheme}{sep}{rest}"


def prepare_sqlite_tracker(url: str) -> None:
    """Puts a SQLite tracker store in WAL mode (kept in the file) before Rasa opens it.

    Rasa commits every turn. In WAL mode a commit needs fewer fsyncs and readers do not wait
    for a writer, which matters when several Rasa workers share the file; with one worker
    the CPU per turn did not change measurably (docs/performance.md). Other databases are
    left alone.
    """
    if not url.startswith("sqlite:///"):
        return
    path = Path(url.removeprefix("sqlite:///"))
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    private_file(path)  # every utterance lives there: owner-only, -wal/-shm alike
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA journal_mode=WAL")


# Rasa's RedisLockStore issues tickets with a non-atomic read-modify-write; ours runs each
# change of a lock as one Lua script (nlu/atomic_lock_store.py), same keys and JSON.
ATOMIC_LOCK_STORE = "nlu.atomic_lock_store.AtomicRedisLockStore"


def lock_store_env(redis_url: str) -> dict[str, str]:
    """Variables of endpoints.yml's lock_store: in-memory, or our atomic Redis lock store
    when a URL is given."""
    if not redis_url:
        return {
            "RASA_LOCK_STORE_TYPE": "in_memory",
            "RASA_LOCK_STORE_HOST": "",
            "RASA_LOCK_STORE_PORT": "6379",
            "RASA_LOCK_STORE_DB": "1",
            "RASA_LOCK_STORE_PASSWORD": "",
        }
    parts = urlsplit(redis_url)
    db = parts.path.lstrip("/") or "1"
    return {
        "RASA_LOCK_STORE_TYPE": ATOMIC_LOCK_STORE,
        "RASA_LOCK_STORE_HOST": parts.hostname or "127.0.0.1",
        "RASA_LOCK_STORE_PORT": str(parts.port or 6379),
        "RASA_LOCK_STORE_DB": db,
        "RASA_LOCK_STORE_PASSWORD": parts.password or "",
    }


def rasa_env(
    settings: Settings,
    *,
    action_url: str | None = None,
    tracker_url: str | None = None,
    lock_store_url: str | None = None,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The environment of every Rasa process (train, test, run)."""
    home = settings.var_dir / "rasa-home"
    home.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    for leaked in ("VIRTUAL_ENV", "PYTHONHOME"):
        env.pop(leaked, None)
    env.update(
        {
            "HOME": str(home),
            "RASA_TELEMETRY_ENABLED": "false",
            "PYTHONPATH": str(PROJECT_ROOT),
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
            "PYTHONWARNINGS": "ignore::DeprecationWarning",
            "ACTION_SERVER_URL": action_url
            or f"http://127.0.0.1:{settings.action_server_port}/webhook",
            "RASA_TRACKER_STORE_URL": tracker_url or tracker_store_url(settings),
        }
    )
    # credentials.yml and endpoints.yml expand these (an empty secret keeps Rasa's REST
    # channel from starting; devtools.stack passes the real ones for `rasa run`)
    env.setdefault(RASA_SECRET_ENV, settings.rasa_auth_token.get_secret_value())
    env.setdefault(ACTION_SECRET_ENV, settings.action_server_token.get_secret_value())
    redis = settings.rasa_lock_store_url if lock_store_url is None else lock_store_url
    env.update(lock_store_env(redis))
    if extra:
        env.update(extra)
    return env


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
