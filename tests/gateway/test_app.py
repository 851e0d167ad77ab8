"""server.app and ``python -m server``: the gateway starts with no settings, serves the web chat."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from core.settings import PROJECT_ROOT
from tests.fakes.fake_telegram import FakeTelegram
from tests.gateway.conftest import RunningGateway


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_python_m_bot_prints_the_url_and_serves_the_web_chat(tmp_path: Path) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "GATEWAY_PORT": str(port),
        "VAR_DIR": str(tmp_path / "var"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'var' / 'welcome.db'}",
        "RASA_URL": "http://127.0.0.1:9",
        "TELEGRAM_BOT_TOKEN": "",
        "WHATSAPP_ACCESS_TOKEN": "",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "server"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        banner = ""
        for _ in range(40):  # migrations log first, then the banner
            line = process.stdout.readline()
            if "WEL.CO.ME gateway" in line or not line:
                banner = line
                break
        assert f"Web chat: http://127.0.0.1:{port}/" in banner
        deadline = time.monotonic() + 30
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline and process.poll() is None, (
                    "gateway did not start"
                )
                time.sleep(0.2)
        assert health.json() == {"status": "ok", "channels": ["webchat"]}
        assert "aria-live" in httpx.get(f"http://127.0.0.1:{port}/").text
    finally:
        process.terminate()
        process.wait(timeout=15)
    assert process.returncode in (0, -15)


def test_an_unreachable_bot_api_does_not_stop_the_web_chat(
    start_gateway: Callable[..., RunningGateway], fake_telegram: FakeTelegram
) -> None:
    fake_telegram.fail_next("getMe", error_code=502, times=100)
    running = start_gateway(
        telegram_bot_token=fake_telegram.token, telegram_api_base_url=fake_telegram.base_url
    )
    with running.client() as client:
        assert client.get("/healthz").json()["channels"] == ["webchat"]
        token = client.post("/api/chat/session").json()["token"]
        sent = client.post(
            "/api/chat/messages",
            json={"client_id": "abcdefgh1", "command": "start"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert sent.status_code == 202
