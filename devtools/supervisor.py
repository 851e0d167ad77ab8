"""Start, watch and stop the local processes (action server, Rasa, gateway).

Used by ``devtools.run`` (``make run``), by the ``rasa_stack`` test fixture and by the bench.
Each child runs in its own process group with its output in a log file; a readiness URL
tells when it is up; stopping sends SIGTERM to the group, then SIGKILL after a grace period.
Nothing is restarted silently: ``watch`` returns as soon as one child exits.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

logger = logging.getLogger("devtools.supervisor")


class StartupError(RuntimeError):
    """A child died or did not become ready in time."""


@dataclass
class Service:
    name: str
    command: Sequence[str]
    ready_url: str
    log: Path
    env: Mapping[str, str] | None = None
    cwd: Path | None = None
    ready_timeout: float = 180.0
    # ready when the URL answers with a status below 500 and this accepts the response
    ready_check: Callable[[httpx.Response], bool] = field(
        default=lambda response: response.status_code < 400
    )
    process: subprocess.Popen[bytes] | None = None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


class Supervisor:
    """Owns a set of child processes; stops all of them when asked or when one dies."""

    def __init__(self) -> None:
        self.services: list[Service] = []

    def start(self, service: Service) -> Service:
        service.log.parent.mkdir(parents=True, exist_ok=True)
        handle = open(service.log, "ab")  # noqa: SIM115 - the child keeps it open
        try:
            service.process = subprocess.Popen(
                list(service.command),
                cwd=service.cwd,
                env=dict(service.env) if service.env is not None else None,
                stdout=handle,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # Ctrl-C reaches us only; we forward it
            )
        finally:
            handle.close()
        self.services.append(service)
        logger.info("started %s (pid %s), log %s", service.name, service.process.pid, service.log)
        return service

    def wait_ready(self, *services: Service, poll: float = 0.5) -> None:
        """Blocks until every service answers its readiness URL; raises StartupError."""
        pending = list(services or self.services)
        deadline = {s.name: time.monotonic() + s.ready_timeout for s in pending}
        with httpx.Client(timeout=2.0) as client:
            while pending:
                for service in list(pending):
                    if not service.running:
                        code = service.process.returncode if service.process else None
                        raise StartupError(
                            f"{service.name} exited with code {code} while starting; "
                            f"last lines of {service.log}:\n{service.log_tail()}"
                        )
                    try:
                        response = client.get(service.ready_url)
                        if response.status_code < 500 and service.ready_check(response):
                            logger.info("%s is ready", service.name)
                            pending.remove(service)
                            continue
                    except httpx.HTTPError:
                        pass
                    if time.monotonic() > deadline[service.name]:
                        raise StartupError(
                            f"{service.name} not ready after {service.ready_timeout:.0f} s "
                            f"({_without_query(service.ready_url)}); last lines of "
                            f"{service.log}:\n"
                            f"{service.log_tail()}"
                        )
                if pending:
                    time.sleep(poll)

    def watch(
        self, poll: float = 1.0, should_stop: Callable[[], bool] = lambda: False
    ) -> Service | None:
        """Returns the first service that exits, or None when ``should_stop`` says so."""
        while not should_stop():
            for service in self.services:
                if not service.running:
                    return service
            time.sleep(poll)
        return None

    def stop(self, service: Service, grace: float = 10.0) -> int | None:
        """SIGTERM to the service's process group, SIGKILL after ``grace`` seconds."""
        process = service.process
        if process is None:
            return None
        if process.poll() is None:
            _signal_group(process, signal.SIGTERM)
            try:
                process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                logger.warning("%s ignored SIGTERM for %.0f s: killing it", service.name, grace)
                _signal_group(process, signal.SIGKILL)
                process.wait(timeout=5)
        else:
            _signal_group(process, signal.SIGTERM)  # stray grandchildren, if any
        if service in self.services:
            self.services.remove(service)
        return process.returncode

    def stop_all(self, grace: float = 10.0) -> None:
        """Stops every child, last started first."""
        for service in reversed(list(self.services)):
            self.stop(service, grace=grace)


def _without_query(url: str) -> str:
    """``url`` without its query (Rasa's readiness URL carries its token there)."""
    return urlsplit(url)._replace(query="").geturl()


def _signal_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)
