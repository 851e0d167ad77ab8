"""``python -m devtools.run`` (``make run``): the whole assistant on this machine.

1. migrates the database; imports the seed catalogue and the demo citizens (idempotent);
2. trains the Rasa model if its inputs changed (devtools.train);
3. starts the action server, Rasa (127.0.0.1, auth token, SQL tracker store) and the
   gateway (``python -m server``) and waits until each answers;
4. prints the web chat URL and which channels are on;
5. on Ctrl-C or SIGTERM stops every child; if one child dies, stops all the others too
   (nothing is restarted silently) and exits non-zero.

Logs: var/log/run.log (this supervisor), var/log/{action-server,rasa,gateway}.log.
"""

from __future__ import annotations

import logging
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from urllib.parse import urlsplit

from core.local_secrets import resolve_secret
from core.private_files import private_dir, restrict_umask, secure_tree
from core.settings import PROJECT_ROOT, Settings, get_settings
from devtools.rasa_env import APP_PYTHON, RASA_BIN, tracker_store_url
from devtools.stack import action_server_service, rasa_service
from devtools.supervisor import Service, StartupError, Supervisor

logger = logging.getLogger("devtools.run")


def configure_logging(log_dir: Path) -> None:
    log_dir.mkdir(parents=True, exist_ok=True)
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    to_file = logging.FileHandler(log_dir / "run.log")
    to_console = logging.StreamHandler(sys.stderr)
    for handler in (to_file, to_console):
        handler.setFormatter(formatter)
    root = logging.getLogger("welcome")
    root.setLevel(logging.INFO)
    root.handlers[:] = [to_file, to_console]


def port_of(url: str, default: int) -> int:
    return urlsplit(url).port or default


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def channels_on(settings: Settings) -> list[str]:
    """The channels the gateway will serve with these settings."""
    channels = ["web chat"]
    telegram = getattr(settings, "telegram_bot_token", None)
    if telegram is not None and telegram.get_secret_value():
        channels.append("Telegram")
    whatsapp = getattr(settings, "whatsapp_access_token", None)
    if (
        whatsapp is not None
        and whatsapp.get_secret_value()
        and getattr(settings, "whatsapp_phone_number_id", "")
    ):
        channels.append("WhatsApp")
    return channels


def prepare_data(settings: Settings) -> None:
    """Migrations, then the seed catalogue and the demo citizens."""
    env_python = [str(APP_PYTHON), "-m"]
    steps: list[list[str]] = [
        [*env_python, "core.migrate"],
        [*env_python, "catalog", "import"],
        [*env_python, "welfare.ledger", "seed-demo"],
    ]
    for command in steps:
        logger.info("running %s", " ".join(command[2:]))
        completed = subprocess.run(
            command, cwd=PROJECT_ROOT, capture_output=True, text=True, check=False
        )
        if completed.returncode != 0:
            raise StartupError(
                f"`{' '.join(command[2:])}` failed (exit {completed.returncode}):\n"
                f"{completed.stderr[-2000:]}"
            )


def build_services(
    settings: Settings, *, model: Path, token: str, action_secret: str
) -> list[Service]:
    """The children of a local run, in start order. The secrets go to the children's
    environments, never to their command lines."""
    log_dir = settings.var_dir / "log"
    action_port = settings.action_server_port
    rasa_port = port_of(settings.rasa_url, 5005)
    services = [
        action_server_service(
            port=action_port,
            database_url=settings.effective_database_url,
            log=log_dir / "action-server.log",
            secret=action_secret,
        ),
        rasa_service(
            port=rasa_port,
            token=token,
            model=model,
            action_url=f"http://127.0.0.1:{action_port}/webhook",
            action_secret=action_secret,
            tracker_url=tracker_store_url(settings),
            lock_store_url=settings.rasa_lock_store_url,
            log=log_dir / "rasa.log",
            settings=settings,
        ),
    ]
    services.append(
        Service(
            name="gateway",
            command=[str(APP_PYTHON), "-m", "server"],
            ready_url=f"http://{settings.gateway_host}:{settings.gateway_port}/healthz",
            log=log_dir / "gateway.log",
            cwd=PROJECT_ROOT,
            ready_timeout=60.0,
        )
    )
    return services


def supervise(
    supervisor: Supervisor,
    services: Sequence[Service],
    stop: threading.Event,
    *,
    on_ready: object = None,
) -> int:
    """Starts ``services``, waits until ready, then until ``stop`` is set or a child dies.

    Returns 0 after a requested stop, 1 if a child failed to start or died.
    """
    try:
        for service in services:
            busy = port_of(service.ready_url, 0)
            if busy and port_in_use(busy):
                raise StartupError(
                    f"port {busy} for {service.name} is already in use "
                    "(another `make run`? stop it or change the port setting)"
                )
            supervisor.start(service)
        supervisor.wait_ready(*services)
        if callable(on_ready):
            on_ready()
        died = supervisor.watch(should_stop=stop.is_set)
        if died is not None:
            code = died.process.returncode if died.process else None
            logger.error(
                "%s exited with code %s: stopping everything (see %s)", died.name, code, died.log
            )
            return 1
        logger.info("stop requested: stopping every child")
        return 0
    except StartupError as error:
        logger.error("start-up failed: %s", error)
        return 1
    finally:
        supervisor.stop_all()


def main(argv: list[str] | None = None) -> int:
    restrict_umask()  # every file of this run and of its children: owner-only
    settings = get_settings()
    private_dir(settings.var_dir)
    fixed = secure_tree(settings.var_dir)
    configure_logging(settings.var_dir / "log")
    if fixed:
        logger.info("%s: %d entries made owner-only (0600/0700)", settings.var_dir, fixed)
    # empty: the generated one of VAR_DIR/secrets.env (created there if missing)
    token = resolve_secret(
        settings.rasa_auth_token.get_secret_value(), settings.var_dir, "RASA_AUTH_TOKEN"
    )
    action_secret = resolve_secret(
        settings.action_server_token.get_secret_value(), settings.var_dir, "ACTION_SERVER_TOKEN"
    )
    if not RASA_BIN.exists():
        logger.error("%s is missing: run scripts/setup.sh rasa", RASA_BIN)
        return 1
    stop = threading.Event()

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        logger.info("received %s", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        prepare_data(settings)
        from devtools.train import ensure_model

        logger.info("checking the Rasa model (trains only if config, domain or data changed)")
        result = ensure_model(settings=settings)
        logger.info("model %s (%s)", result.model, "trained" if result.trained else "up to date")
    except (StartupError, RuntimeError) as error:
        logger.error("%s", error)
        return 1

    services = build_services(
        settings, model=result.model, token=token, action_secret=action_secret
    )

    def announce() -> None:
        web = f"http://{settings.gateway_host}:{settings.gateway_port}/"
        lines = [
            "WEL.CO.ME is running.",
            f"  Rasa:          {settings.rasa_url} (API token in VAR_DIR/secrets.env)",
            f"  action server: http://127.0.0.1:{settings.action_server_port}",
        ]
        if any(s.name == "gateway" for s in services):
            lines.append(f"  web chat:      {web}")
            lines.append(f"  channels on:   {', '.join(channels_on(settings))}")
        else:
            lines.append("  gateway:       not present yet (server/__main__.py missing)")
        lines.append("Ctrl-C stops everything.")
        print("\n".join(lines), flush=True)

    return supervise(Supervisor(), services, stop, on_ready=announce)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
