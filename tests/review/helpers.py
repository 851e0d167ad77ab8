"""What the review tests share: the real gateway on each channel's fake API (answering with
the fake Rasa, reading a tracker store), the queue's items, and the small retraining of
tests/review/retrain/ (run in Rasa's environment, seconds per training)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from sqlmodel import Session, select

from console.staff import create_staff
from core.db import session_scope
from core.settings import PROJECT_ROOT
from review.models import Reason, ReviewItem
from staff.roles import Role
from tests.fakes import fake_graph as graph
from tests.fakes.fake_graph import FakeGraph
from tests.fakes.fake_rasa import FakeRasa
from tests.fakes.fake_telegram import FakeTelegram
from tests.gateway.conftest import RunningGateway

RETRAIN = Path(__file__).parent / "retrain"
RASA_PYTHON = PROJECT_ROOT / ".venv-rasa" / "bin" / "python"
PASSWORD = "una-password-lunga-42"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def on_telegram(
    start: Callable[..., RunningGateway],
    rasa: FakeRasa,
    telegram: FakeTelegram,
    tracker_url: str,
    **settings: Any,
) -> RunningGateway:
    gateway = start(
        telegram_bot_token=telegram.token,
        telegram_api_base_url=telegram.base_url,
        rasa_url=rasa.url,
        action_server_url=rasa.url,
        rasa_tracker_db_url=tracker_url,
        **settings,
    )
    gateway.wait_until(lambda: telegram.poll_count > 0, what="polling")
    return gateway


def on_whatsapp(
    start: Callable[..., RunningGateway],
    rasa: FakeRasa,
    graph_api: FakeGraph,
    tracker_url: str,
    **settings: Any,
) -> RunningGateway:
    gateway = start(
        whatsapp_access_token=graph.ACCESS_TOKEN,
        whatsapp_phone_number_id=graph.PHONE_NUMBER_ID,
        whatsapp_app_secret=graph.APP_SECRET,
        whatsapp_verify_token=graph.VERIFY_TOKEN,
        whatsapp_graph_base_url=graph_api.base_url,
        whatsapp_api_version=graph.VERSION,
        rasa_url=rasa.url,
        rasa_tracker_db_url=tracker_url,
        **settings,
    )
    graph_api.webhook_url = gateway.url + "/whatsapp/webhook"
    return gateway


def queued(gateway: RunningGateway) -> list[ReviewItem]:
    with Session(gateway.engine) as session:
        return list(session.exec(select(ReviewItem)))


def check_tapped(
    gateway: RunningGateway, rasa: FakeRasa, request: str, understood: tuple[str, float]
) -> None:
    """After a 👎: one item, the citizen's ``request`` with what the model ``understood`` of
    it (intent, confidence), reason citizen_thumbs_down; Rasa never saw the tap."""
    items = gateway.wait_until(lambda: queued(gateway), what="the review item")
    assert len(items) == 1
    item = items[0]
    assert item.reasons == [Reason.citizen_thumbs_down]
    assert (item.intent, item.confidence) == understood
    asked = next(m for m in gateway.messages() if m.id == item.message_id)
    assert asked.text == request
    assert rasa.messages() == [request]


def small_models(tmp_path: Path, review: Path | None, texts: list[str]) -> dict[str, Any]:
    """The small pipeline trained on its fixed slice ("before") and on the slice with the
    exported ``review`` file or folder ("after"), each parsing ``texts``."""
    before, after = tmp_path / "before", tmp_path / "after"
    for folder in (before, after):
        folder.mkdir()
        shutil.copy(RETRAIN / "slice.yml", folder / "slice.yml")
    if review is not None and review.is_dir():
        shutil.copytree(review, after / "review")
    elif review is not None:
        shutil.copy(review, after / review.name)
    started = time.monotonic()
    run = subprocess.run(
        [
            str(RASA_PYTHON), str(RETRAIN / "rasa_check.py"), str(RETRAIN / "config.yml"),
            str(tmp_path / "models"), json.dumps({"before": str(before), "after": str(after)}),
            json.dumps(texts),
        ],
        capture_output=True, text=True, timeout=600, check=False,
        env={"RASA_TELEMETRY_ENABLED": "false", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )  # fmt: skip
    seconds = time.monotonic() - started
    assert run.returncode == 0, run.stderr[-3000:]
    line = next(x for x in run.stdout.splitlines() if x.startswith("RESULT "))
    result: dict[str, Any] = json.loads(line.removeprefix("RESULT "))
    print(f"two small trainings and parses in {seconds:.0f} s: {result}")
    return result


def reviewer_login(gateway: RunningGateway) -> tuple[httpx.Client, str]:
    with session_scope(gateway.engine) as session:
        create_staff(
            session,
            email="revisore@comune.example.it",
            full_name="Rita Revisori",
            roles=(Role.nlu_reviewer,),
            password=PASSWORD,
        )
    client = httpx.Client(base_url=gateway.url, timeout=15.0, follow_redirects=False)
    page = client.get("/console/accesso")
    token = TOKEN.search(page.text)
    assert token
    login = client.post(
        "/console/accesso",
        data={"email": "revisore@comune.example.it", "password": PASSWORD, "csrf_token": token[1]},
    )
    assert login.status_code == 303, login.text
    found = TOKEN.search(client.get("/console/").text)
    assert found
    return client, found[1]


class StringOut:
    def __init__(self) -> None:
        self.text = ""

    def write(self, value: str) -> int:
        self.text += value
        return len(value)

    def flush(self) -> None:
        pass
