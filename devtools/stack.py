"""The processes of the assistant, as Service descriptions for devtools.supervisor.

One definition for ``make run`` (devtools.run), the ``rasa_stack`` test fixture and the bench.
"""

from __future__ import annotations

import os
import secrets
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from core.settings import PROJECT_ROOT, Settings, get_settings
from devtools.rasa_env import (
    APP_PYTHON,
    CREDENTIALS_FILE,
    ENDPOINTS_FILE,
    RASA_PYTHON,
    free_port,
    prepare_sqlite_tracker,
    rasa_env,
    tracker_store_url,
)
from devtools.supervisor import Service, StartupError, Supervisor
from nlu.internal_auth import ACTION_SECRET_ENV, RASA_SECRET_ENV, bearer
from nlu.rasa_main import SPEEDUPS_ENV

# only the gateway writes to Rasa: a message (at most 50,000 characters) and its metadata
RASA_MAX_BODY_BYTES = 1024 * 1024
RASA_READY_TIMEOUT = 240.0  # ~30 s alone; much more while other suites train on 2 cores


def action_server_service(
    *,
    port: int,
    database_url: str,
    log: Path,
    secret: str,
    extra_env: dict[str, str] | None = None,
) -> Service:
    """The action server (server.action_server): rasa-sdk answering only requests with
    ``secret`` (ACTION_SERVER_TOKEN, in its environment), /health excepted."""
    env = {
        **os.environ,
        "SANIC_HOST": "127.0.0.1",  # rasa_sdk binds 0.0.0.0 otherwise
        "DATABASE_URL": database_url,
        "PYTHONPATH": str(PROJECT_ROOT),
        ACTION_SECRET_ENV: secret,
        **(extra_env or {}),
    }
    return Service(
        name="action server",
        command=[
            str(APP_PYTHON),
            *("-m", "server.action_server", "--actions", "actions", "-p", str(port)),
        ],
        ready_url=f"http://127.0.0.1:{port}/health",
        log=log,
        env=env,
        cwd=PROJECT_ROOT,
        ready_timeout=90.0,
    )


def speedups_value(speedups: bool | tuple[str, ...]) -> str:
    """WELCOME_RASA_SPEEDUPS for nlu.rasa_main: all (1), none (0) or the named patches."""
    if isinstance(speedups, tuple):
        return ",".join(speedups) or "0"
    return "1" if speedups else "0"


def rasa_service(
    *,
    port: int,
    token: str,
    model: Path,
    action_url: str,
    action_secret: str,
    tracker_url: str | None,
    log: Path,
    lock_store_url: str | None = None,
    workers: int | None = None,
    ready_timeout: float = RASA_READY_TIMEOUT,
    settings: Settings | None = None,
    speedups: bool | tuple[str, ...] = True,
) -> Service:
    """Rasa's server (``workers`` and ``lock_store_url`` default to the settings').

    ``speedups=False`` starts Rasa's plain command line, without nlu.rasa_speedups (for the
    bench's comparison only); a tuple of names applies only those patches.

    ``token`` (RASA_AUTH_TOKEN: the HTTP API's token and the REST channel's secret) and
    ``action_secret`` (sent to the action server) travel in the environment: a command line
    is readable by every local user (``ps``). nlu.rasa_main hands the token to Rasa."""
    settings = settings or get_settings()
    workers = settings.rasa_workers if workers is None else workers
    lock_store = settings.rasa_lock_store_url if lock_store_url is None else lock_store_url
    if workers > 1 and not lock_store:
        raise StartupError(
            f"RASA_WORKERS={workers} needs RASA_LOCK_STORE_URL (Redis): with an in-memory lock "
            "two workers could handle the same conversation at once."
        )
    prepare_sqlite_tracker(tracker_url or tracker_store_url(settings))
    threads = str(settings.rasa_tf_threads)
    env = rasa_env(
        settings,
        action_url=action_url,
        tracker_url=tracker_url,
        lock_store_url=lock_store,
        extra={
            "SANIC_WORKERS": str(workers),
            "TF_INTRA_OP_PARALLELISM_THREADS": threads,
            "TF_INTER_OP_PARALLELISM_THREADS": threads,
            RASA_SECRET_ENV: token,
            ACTION_SECRET_ENV: action_secret,
            "SANIC_REQUEST_MAX_SIZE": str(RASA_MAX_BODY_BYTES),
            SPEEDUPS_ENV: speedups_value(speedups),
        },
    )
    # nlu.rasa_main: Rasa's own command line after nlu.rasa_speedups (measured waste removed),
    # with --auth-token taken from the environment (never on this command line)
    command = [str(RASA_PYTHON), "-m", "nlu.rasa_main", "run", "--enable-api"]
    command += ["-i", "127.0.0.1", "-p", str(port), "--model", str(model)]
    command += ["--endpoints", str(ENDPOINTS_FILE), "--credentials", str(CREDENTIALS_FILE)]
    return Service(
        name="rasa",
        command=command,
        ready_url=f"http://127.0.0.1:{port}/status?token={token}",
        log=log,
        env=env,
        cwd=PROJECT_ROOT,
        ready_timeout=ready_timeout,
        ready_check=lambda response: (
            response.status_code == 200 and bool(response.json().get("model_id"))
        ),
    )


def prepare_catalog_db(path: Path) -> str:
    """A migrated SQLite catalogue at ``path`` with the seed catalogue and the demo citizens
    imported; returns its URL."""
    url = f"sqlite:///{path}"
    prepare_database(url)
    return url


def prepare_database(url: str) -> None:
    """Migrates the database at ``url`` (SQLite or PostgreSQL) and imports the seed catalogue
    and the demo citizens."""
    from core.db import make_engine
    from core.migrate import upgrade

    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(PROJECT_ROOT)}
    for args in (["-m", "catalog", "import"], ["-m", "welfare.ledger", "seed-demo"]):
        subprocess.run(
            [str(APP_PYTHON), *args],
            cwd=PROJECT_ROOT,
            env=env,
            check=True,
            capture_output=True,
            timeout=300,
        )


@dataclass
class RasaStack:
    rasa_url: str
    token: str
    action_url: str
    database_url: str
    tracker_url: str
    model: Path
    supervisor: Supervisor
    rasa: Service
    action_secret: str = ""
    client: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=30.0))

    def send(self, sender: str, text: str, metadata: dict[str, Any] | None = None) -> list[dict]:
        """One turn through the REST channel, as the gateway does it."""
        response = self.client.post(
            f"{self.rasa_url}/webhooks/rest/webhook",
            json={"sender": sender, "message": text, "metadata": metadata or {}},
            headers=bearer(self.token),
        )
        response.raise_for_status()
        return response.json()

    def parse(self, text: str) -> dict[str, Any]:
        response = self.client.post(
            f"{self.rasa_url}/model/parse", params={"token": self.token}, json={"text": text}
        )
        response.raise_for_status()
        return response.json()

    def tracker(self, sender: str) -> dict[str, Any]:
        response = self.client.get(
            f"{self.rasa_url}/conversations/{sender}/tracker", params={"token": self.token}
        )
        response.raise_for_status()
        return response.json()

    def close(self) -> None:
        self.client.close()
        self.supervisor.stop_all()


def start_local_stack(
    *,
    model: Path,
    database_url: str,
    workdir: Path,
    rasa_workers: int = 1,
    lock_store_url: str = "",
    tracker_url: str = "",
    speedups: bool | tuple[str, ...] = True,
) -> RasaStack:
    """Action server + Rasa on free loopback ports, a fresh token and a SQLite tracker store
    in ``workdir`` (logs there too); returns once both answer. ``close()`` stops them.
    ``rasa_workers`` > 1 needs ``lock_store_url`` (Redis); ``tracker_url`` replaces the SQLite
    tracker store (a SQLAlchemy URL Rasa's environment can open, e.g. postgresql://...)."""
    token = secrets.token_urlsafe(24)
    action_secret = secrets.token_urlsafe(24)
    action_port, rasa_port = free_port(), free_port()
    action_url = f"http://127.0.0.1:{action_port}/webhook"
    tracker_url = tracker_url or f"sqlite:///{workdir / 'rasa-tracker.db'}"
    supervisor = Supervisor()
    try:
        supervisor.start(
            action_server_service(
                port=action_port,
                database_url=database_url,
                log=workdir / "action-server.log",
                secret=action_secret,
            )
        )
        rasa = supervisor.start(
            rasa_service(
                port=rasa_port,
                token=token,
                model=model,
                action_url=action_url,
                action_secret=action_secret,
                tracker_url=tracker_url,
                log=workdir / "rasa.log",
                lock_store_url=lock_store_url,
                workers=rasa_workers,
                speedups=speedups,
            )
        )
        supervisor.wait_ready()
    except BaseException:
        supervisor.stop_all()
        raise
    return RasaStack(
        rasa_url=f"http://127.0.0.1:{rasa_port}",
        token=token,
        action_url=action_url,
        database_url=database_url,
        tracker_url=tracker_url,
        model=model,
        supervisor=supervisor,
        rasa=rasa,
        action_secret=action_secret,
    )
