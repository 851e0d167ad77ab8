"""The internal doors: Rasa's REST channel and the action server answer only with the shared
secret; the secrets never reach a command line; the gateway sends its secret in a header.

Real processes on 127.0.0.1 (Rasa's channel inside .venv-rasa's Sanic, the action server as
``python -m server.action_server``), real HTTP.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from bot.rasa_client import RasaClient
from core.settings import PROJECT_ROOT, Settings
from devtools.rasa_env import RASA_PYTHON, free_port, rasa_env
from devtools.run import build_services
from nlu.internal_auth import authorized, bearer
from nlu.rasa_main import with_auth_token
from tests.fakes.fake_rasa import FakeRasa

SECRET = "s3cret-Of-The-Gateway_0123456789"


def wait_http(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"exited {process.returncode}: {log.read_text()[-3000:]}")
        try:
            httpx.get(url, timeout=1.0)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise AssertionError(f"{url} not up: {log.read_text()[-3000:]}")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


def test_authorized_needs_the_exact_bearer_secret() -> None:
    assert authorized(f"Bearer {SECRET}", SECRET)
    assert authorized(f"bearer {SECRET}", SECRET)
    assert not authorized(None, SECRET)
    assert not authorized("", SECRET)
    assert not authorized(SECRET, SECRET)  # no scheme
    assert not authorized(f"Bearer {SECRET}x", SECRET)
    assert not authorized("Bearer ", "")  # an empty secret opens nothing
    assert bearer(SECRET) == {"Authorization": f"Bearer {SECRET}"}


CHANNEL_SERVER = textwrap.dedent(
    """
    import sys
    from sanic import Sanic
    from rasa.core.channels.channel import register
    from rasa.core.run import _create_single_channel

    heard = []

    class Agent:  # stands for Rasa's agent: records who spoke
        async def handle_message(self, message):
            heard.append(message.sender_id)

    channel = _create_single_channel("nlu.gateway_channel.GatewayRestInput", {"token": sys.argv[2]})
    app = Sanic("probe")
    app.ctx.agent = Agent()
    register([channel], app, route="/webhooks/")

    @app.get("/heard")
    async def count(request):
        from sanic import response
        return response.json(heard)

    app.run(host="127.0.0.1", port=int(sys.argv[1]), access_log=False, workers=1)
    """
)


@pytest.fixture
def rasa_channel(tmp_path: Path) -> Iterator[str]:
    """Our REST channel, mounted by Rasa's own ``register`` in .venv-rasa's Sanic."""
    if not RASA_PYTHON.exists():
        pytest.skip("the Rasa environment (.venv-rasa) is not installed")
    port = free_port()
    log = tmp_path / "channel.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(RASA_PYTHON), "-c", CHANNEL_SERVER, str(port), SECRET],
            cwd=PROJECT_ROOT,
            env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "RASA_TELEMETRY_ENABLED": "false"},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{url}/heard", process, log, timeout=120)
        yield url
    finally:
        stop(process)


def test_rasa_rest_channel_answers_only_the_gateway(rasa_channel: str) -> None:
    webhook = f"{rasa_channel}/webhooks/rest/webhook"
    body = {"sender": "a" * 32, "message": "ciao"}
    assert httpx.post(webhook, json=body).status_code == 401
    wrong = httpx.post(webhook, json=body, headers=bearer("not-the-secret"))
    assert wrong.status_code == 401
    assert httpx.post(f"{webhook}?token={SECRET}", json=body).status_code == 401
    assert httpx.get(f"{rasa_channel}/heard").json() == []  # nothing reached the assistant
    answer = httpx.post(webhook, json=body, headers=bearer(SECRET))
    assert answer.status_code == 200
    assert isinstance(answer.json(), list)
    assert httpx.get(f"{rasa_channel}/heard").json() == ["a" * 32]


def test_rasa_rest_channel_refuses_to_start_without_a_secret() -> None:
    if not RASA_PYTHON.exists():
        pytest.skip("the Rasa environment (.venv-rasa) is not installed")
    code = (
        "from nlu.gateway_channel import GatewayRestInput, MissingChannelSecret\n"
        "try:\n    GatewayRestInput.from_credentials({'token': ''})\n"
        "except MissingChannelSecret:\n    print('refused')\n"
    )
    done = subprocess.run(
        [str(RASA_PYTHON), "-c", code],
        cwd=PROJECT_ROOT,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.stdout.strip() == "refused", done.stderr[-2000:]


@contextmanager
def running_action_server(
    tmp_path: Path,
    database_url: str,
    *,
    actions: str = "actions",
    env: dict[str, str] | None = None,
    python_path: tuple[Path, ...] = (),
) -> Iterator[tuple[str, int]]:
    """``python -m server.action_server`` on a free port with SECRET: (base URL, port)."""
    port = free_port()
    log = tmp_path / "actions.log"
    environment = {
        **os.environ,
        "SANIC_HOST": "127.0.0.1",
        "DATABASE_URL": database_url,
        "VAR_DIR": str(tmp_path / "var"),
        "PYTHONPATH": os.pathsep.join(str(p) for p in (*python_path, PROJECT_ROOT)),
        "ACTION_SERVER_TOKEN": SECRET,
        **(env or {}),
    }
    command = [sys.executable, "-m", "server.action_server", "--actions", actions]
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*command, "-p", str(port)],
            cwd=PROJECT_ROOT,
            env=environment,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{url}/health", process, log)
        yield url, port
    finally:
        stop(process)


@pytest.fixture
def action_server(tmp_path: Path, sqlite_url: str) -> Iterator[str]:
    with running_action_server(tmp_path, sqlite_url) as (url, _):
        yield url


def test_action_server_answers_only_rasa(action_server: str) -> None:
    call = {
        "next_action": "action_session_start",
        "sender_id": "a" * 32,
        "tracker": {"sender_id": "a" * 32, "slots": {}, "latest_message": {}, "events": []},
        "domain": {},
        "version": "3.6.21",
    }
    assert httpx.get(f"{action_server}/health").status_code == 200  # readiness stays open
    assert httpx.get(f"{action_server}/actions").status_code == 401
    assert httpx.post(f"{action_server}/webhook", json=call).status_code == 401
    wrong = httpx.post(f"{action_server}/webhook", json=call, headers=bearer("nope"))
    assert wrong.status_code == 401
    listed = httpx.get(f"{action_server}/actions", headers=bearer(SECRET))
    assert listed.status_code == 200
    assert any(item["name"] == "action_search_services" for item in listed.json())
    assert httpx.post(
        f"{action_server}/webhook", json=call, headers=bearer(SECRET)
    ).status_code in (
        200,
        404,  # no such custom action: past the door all the same
    )


def test_action_server_does_not_start_without_a_secret(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "ACTION_SERVER_TOKEN": ""}
    env["VAR_DIR"] = str(tmp_path / "var")
    code = (
        "from server.action_server import guarded_app\n"
        "from rasa_sdk.executor import ActionExecutor\n"
        "guarded_app(ActionExecutor(), '')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode != 0
    assert "ACTION_SERVER_TOKEN is empty" in done.stderr


def test_secrets_travel_in_the_environment_never_on_a_command_line(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, var_dir=tmp_path, rasa_url="http://127.0.0.1:5005")  # type: ignore[call-arg]
    services = build_services(
        settings, model=tmp_path / "model.tar.gz", token="t0k3n-rasa", action_secret="t0k3n-act"
    )
    for service in services:
        assert not any("t0k3n" in part for part in service.command), service.name
    by_name = {s.name: s for s in services}
    assert by_name["rasa"].env is not None and by_name["action server"].env is not None
    assert by_name["rasa"].env["RASA_AUTH_TOKEN"] == "t0k3n-rasa"
    assert by_name["rasa"].env["ACTION_SERVER_TOKEN"] == "t0k3n-act"
    assert by_name["action server"].env["ACTION_SERVER_TOKEN"] == "t0k3n-act"
    assert by_name["action server"].command[1:3] == ["-m", "server.action_server"]


def test_rasa_main_adds_the_token_inside_the_process_only() -> None:
    argv = ["rasa", "run", "--enable-api", "-p", "5005"]
    assert with_auth_token(argv, {"RASA_AUTH_TOKEN": "-tok"})[-1] == "--auth-token=-tok"
    assert with_auth_token(argv, {}) == argv
    assert with_auth_token(["rasa", "train"], {"RASA_AUTH_TOKEN": "t"}) == ["rasa", "train"]
    given = [*argv, "--auth-token=x"]
    assert with_auth_token(given, {"RASA_AUTH_TOKEN": "t"}) == given


async def test_gateway_sends_its_secret_in_a_header_not_the_url(fake_rasa: FakeRasa) -> None:
    client = RasaClient(rasa_url=fake_rasa.url, token=SECRET)
    try:
        await client.send(sender="a" * 32, message="ciao", channel="webchat", metadata={})
    finally:
        await client.aclose()
    assert fake_rasa.authorizations == [f"Bearer {SECRET}"]


@pytest.fixture
def fake_rasa() -> Iterator[FakeRasa]:
    rasa = FakeRasa().start()
    yield rasa
    rasa.stop()


def test_rasa_sends_the_action_servers_secret_from_endpoints_yml(tmp_path: Path) -> None:
    """endpoints.yml read by Rasa's own reader, with the environment devtools.stack gives Rasa:
    the header carries the secret (a quoted value would go out unexpanded, and every custom
    action would get 401)."""
    if not RASA_PYTHON.exists():
        pytest.skip("the Rasa environment (.venv-rasa) is not installed")
    settings = Settings(_env_file=None, var_dir=tmp_path)  # type: ignore[call-arg]
    env = rasa_env(settings, extra={"ACTION_SERVER_TOKEN": SECRET})
    code = (
        "from rasa.utils.endpoints import read_endpoint_config\n"
        "print(read_endpoint_config('endpoints.yml', 'action_endpoint').headers['Authorization'])"
    )
    done = subprocess.run(
        [str(RASA_PYTHON), "-c", code],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.stdout.strip().splitlines()[-1] == f"Bearer {SECRET}", done.stderr[-2000:]
