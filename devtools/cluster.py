"""Several processes of each part on 127.0.0.1: the topology of deploy/ as plain processes
(issue 18), for the topology test and the fault bench (``python -m bench faults``).

    cluster = start_cluster(model=..., database_url=..., redis_url=..., workdir=...,
                            telegram_base_url=fake.base_url, telegram_token=fake.token)
    ...                                     # fake Telegram posts to cluster.webhook_url
    cluster.kill(cluster.gateways[0])       # kill -9
    cluster.close()

N action servers, N Rasa servers (one tracker store in the given PostgreSQL database, the
atomic Redis lock store) and N gateways (``python -m server``, Telegram in webhook mode,
one Redis, one SECRET_KEY), each kind behind a ``RoundRobinProxy``: the one address the
fake Telegram posts to, the gateways' Rasa URL, Rasa's action server URL. Like Caddy in
deploy/Caddyfile, the proxy takes the upstreams in turn and skips one that refuses the
connection; a request that reached an upstream which then died gets 502 (it is not sent
twice: the caller decides).
"""

from __future__ import annotations

import contextlib
import http.client
import itertools
import os
import secrets
import signal
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from core.settings import PROJECT_ROOT
from devtools.rasa_env import APP_PYTHON, free_port
from devtools.stack import RASA_READY_TIMEOUT, action_server_service, rasa_service
from devtools.supervisor import Service, Supervisor

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "host", "content-length"}
HOP_BY_HOP |= {"proxy-connection", "te", "trailer", "upgrade"}


class RoundRobinProxy:
    """A small HTTP/1.1 reverse proxy over ``upstreams`` (base URLs), started on a free port."""

    def __init__(self, upstreams: list[str], *, timeout: float = 30.0) -> None:
        self.upstreams = [urlsplit(u) for u in upstreams]
        self.timeout = timeout
        self._turn = itertools.count()
        self.refused = 0  # connections an upstream refused (then the next one was tried)
        self.failed = 0  # requests answered 502
        self.served = [0] * len(upstreams)  # requests answered by each upstream
        proxy = self

        class Handler(_ProxyHandler):
            owner = proxy

        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def order(self) -> list[int]:
        start = next(self._turn) % len(self.upstreams)
        return [(start + i) % len(self.upstreams) for i in range(len(self.upstreams))]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class _ProxyHandler(BaseHTTPRequestHandler):
    owner: RoundRobinProxy
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: object) -> None:  # quiet
        return

    def _forward(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        for index in self.owner.order():
            upstream = self.owner.upstreams[index]
            connection = http.client.HTTPConnection(
                upstream.hostname or "127.0.0.1", upstream.port, timeout=self.owner.timeout
            )
            try:
                connection.connect()
            except OSError:
                self.owner.refused += 1
                connection.close()
                continue  # not reached: the next upstream may take it
            try:
                connection.request(self.command, self.path, body=body, headers=headers)
                response = connection.getresponse()
                payload = response.read()
            except (OSError, http.client.HTTPException):
                connection.close()
                break  # reached, then lost: never sent twice from here
            connection.close()
            self.owner.served[index] += 1
            with contextlib.suppress(OSError):  # the caller may have given up meanwhile
                self.send_response(response.status)
                for key, value in response.getheaders():
                    if key.lower() not in HOP_BY_HOP:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            return
        self.owner.failed += 1
        with contextlib.suppress(OSError):
            self.send_response(502)
            self.send_header("Content-Length", "0")
            self.end_headers()

    def handle(self) -> None:
        with contextlib.suppress(OSError):  # a caller that closed its connection
            super().handle()

    do_GET = do_POST = do_PUT = do_DELETE = _forward


@dataclass
class Cluster:
    supervisor: Supervisor
    gateways: list[Service]
    rasas: list[Service]
    actions: list[Service]
    front: RoundRobinProxy  # the gateways' one address
    rasa_proxy: RoundRobinProxy
    action_proxy: RoundRobinProxy
    webhook_url: str
    webhook_secret: str
    rasa_token: str

    def kill(self, service: Service) -> None:
        """kill -9 of the service's process and its children (Rasa's Sanic)."""
        assert service.process is not None
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(service.process.pid, signal.SIGKILL)
        service.process.wait(timeout=10)

    def close(self) -> None:
        self.supervisor.stop_all()
        for proxy in (self.front, self.rasa_proxy, self.action_proxy):
            proxy.close()


def gateway_service(*, port: int, env: dict[str, str], log: Path, name: str = "gateway") -> Service:
    return Service(
        name=name,
        command=[str(APP_PYTHON), "-m", "server"],
        ready_url=f"http://127.0.0.1:{port}/healthz",
        log=log,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT), **env, "GATEWAY_PORT": str(port)},
        cwd=PROJECT_ROOT,
        ready_timeout=90.0,
    )


def start_cluster(
    *,
    model: Path,
    database_url: str,
    redis_url: str,
    workdir: Path,
    telegram_base_url: str,
    telegram_token: str,
    size: int = 2,
    extra_gateway_env: dict[str, str] | None = None,
) -> Cluster:
    """``size`` action servers, Rasa servers and gateways on free ports (see the module's
    docstring); returns once every one answers. ``database_url`` (PostgreSQL, psycopg 3, already
    migrated) holds the app's tables and Rasa's tracker store; ``redis_url``'s database is
    Rasa's lock store and the gateways' shared Redis."""
    token, action_secret = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    webhook_secret = secrets.token_urlsafe(24)
    tracker_url = database_url.replace("postgresql+psycopg://", "postgresql://", 1)
    supervisor = Supervisor()
    proxies: list[RoundRobinProxy] = []
    try:
        action_ports = [free_port() for _ in range(size)]
        actions = [
            supervisor.start(
                action_server_service(
                    port=port,
                    database_url=database_url,
                    log=workdir / f"actions-{n}.log",
                    secret=action_secret,
                )
            )
            for n, port in enumerate(action_ports, 1)
        ]
        for service, n in zip(actions, range(1, size + 1), strict=True):
            service.name = f"actions-{n}"
        action_proxy = RoundRobinProxy([f"http://127.0.0.1:{p}" for p in action_ports])
        proxies.append(action_proxy)
        rasa_ports = [free_port() for _ in range(size)]
        rasas = []
        for n, port in enumerate(rasa_ports, 1):
            service = rasa_service(
                port=port,
                token=token,
                model=model,
                action_url=f"{action_proxy.url}/webhook",
                action_secret=action_secret,
                tracker_url=tracker_url,
                log=workdir / f"rasa-{n}.log",
                lock_store_url=redis_url,
                workers=1,
                # two models loading at once: ~30 s each on a quiet machine, minutes beside
                # other work on 2 cores
                ready_timeout=2.5 * RASA_READY_TIMEOUT,
            )
            service.name = f"rasa-{n}"
            rasas.append(supervisor.start(service))
        rasa_proxy = RoundRobinProxy([f"http://127.0.0.1:{p}" for p in rasa_ports])
        proxies.append(rasa_proxy)
        gateway_ports = [free_port() for _ in range(size)]
        front = RoundRobinProxy([f"http://127.0.0.1:{p}" for p in gateway_ports])
        proxies.append(front)
        webhook_url = f"{front.url}/telegram/webhook"
        shared = {
            "VAR_DIR": str(workdir / "var"),
            "DATABASE_URL": database_url,
            "RASA_TRACKER_DB_URL": database_url,
            "RASA_URL": rasa_proxy.url,
            "RASA_AUTH_TOKEN": token,
            "ACTION_SERVER_URL": action_proxy.url,
            "ACTION_SERVER_TOKEN": action_secret,
            "GATEWAY_REDIS_URL": redis_url,
            "SECRET_KEY": secrets.token_urlsafe(32),
            "LINK_CODE_PEPPER": secrets.token_urlsafe(32),
            "TELEGRAM_BOT_TOKEN": telegram_token,
            "TELEGRAM_API_BASE_URL": telegram_base_url,
            "TELEGRAM_WEBHOOK_URL": webhook_url,
            "TELEGRAM_WEBHOOK_SECRET": webhook_secret,
            "WHATSAPP_ACCESS_TOKEN": "",
            **(extra_gateway_env or {}),
        }
        gateways = [
            supervisor.start(
                gateway_service(
                    port=port, env=shared, log=workdir / f"gateway-{n}.log", name=f"gateway-{n}"
                )
            )
            for n, port in enumerate(gateway_ports, 1)
        ]
        supervisor.wait_ready()
    except BaseException:
        supervisor.stop_all()
        for proxy in proxies:
            proxy.close()
        raise
    return Cluster(
        supervisor=supervisor,
        gateways=gateways,
        rasas=rasas,
        actions=actions,
        front=front,
        rasa_proxy=rasa_proxy,
        action_proxy=action_proxy,
        webhook_url=webhook_url,
        webhook_secret=webhook_secret,
        rasa_token=token,
    )
