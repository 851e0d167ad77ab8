"""Helpers of the console tests (imported by the test modules and the conftest)."""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from console.app import build_console
from console.navigation import Section
from console.staff import StaffView
from core.settings import Settings

PASSWORD = "cavolo nero e ribollita"
REQUIRE_SERVICES = os.environ.get("WELCOME_REQUIRE_SERVICES") == "1"


def unavailable(reason: str) -> None:
    """Skip, or fail when the environment promises every service (as tests/conftest.py does)."""
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (WELCOME_REQUIRE_SERVICES=1)")
    pytest.skip(reason)


CONSOLE = "/console"


def mount_console(
    engine: Engine, settings: Settings, sections: list[Section] | None = None
) -> FastAPI:
    """A bare gateway-like app with the console mounted at /console."""
    gateway = FastAPI()
    gateway.mount(CONSOLE, build_console(settings, engine=engine, sections=sections or []))
    return gateway


@dataclass(frozen=True)
class Member:
    view: StaffView
    password: str

    @property
    def email(self) -> str:
        return self.view.email


MakeStaff = Callable[..., Member]


_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def form_token(html: str) -> str:
    match = _TOKEN.search(html)
    assert match, "no csrf_token in the page"
    return match.group(1)


def login(client: TestClient, email: str, password: str, *, next_url: str = ""):
    """Submit the login form as a browser would; returns the POST's response."""
    page = client.get(f"{CONSOLE}/accesso")
    assert page.status_code == 200
    return client.post(
        f"{CONSOLE}/accesso",
        data={
            "email": email,
            "password": password,
            "csrf_token": form_token(page.text),
            "next": next_url,
        },
    )


def signed_in(client: TestClient, member: Member) -> str:
    """Log ``member`` in; returns the session's CSRF token (from the home page)."""
    response = login(client, member.email, member.password)
    assert response.status_code == 303, response.text
    home = client.get(f"{CONSOLE}/")
    assert home.status_code == 200
    return form_token(home.text)


# --- a real server, for the browser ----------------------------------------------------


@dataclass
class LiveServer:
    url: str
    server: uvicorn.Server
    thread: threading.Thread


def serve(app: FastAPI) -> LiveServer:
    """Run ``app`` with uvicorn on a free 127.0.0.1 port in a thread."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="off", ws="none")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    return LiveServer(f"http://127.0.0.1:{port}", server, thread)


def stop(live: LiveServer) -> None:
    live.server.should_exit = True
    live.thread.join(timeout=10)
