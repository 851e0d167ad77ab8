"""The review loop end to end: a Telegram message (fake Bot API, the real gateway) that the
model did not understand (its parse data in the tracker store, written by the fake Rasa as Rasa
writes it) appears in «Revisione»; a reviewer corrects it in the console; `python -m console
review-export` writes it; then a small NLU model trained on a fixed slice of the data
(tests/review/retrain/, seconds per training instead of the assistant's ~17 minutes) with
and without the export: without it the message is misunderstood, with it it is understood.

The assistant's own model is not retrained here (one cold training is all the suite can
afford); `make train` and `make eval` do that (README)."""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import Session, select

from console.cli import main as console_cli
from console.staff import create_staff
from core.db import make_engine, session_scope
from core.settings import PROJECT_ROOT
from review.models import Reason, ReviewItem, ReviewStatus
from staff.roles import Role
from tests.fakes.fake_rasa import FakeRasa
from tests.fakes.fake_telegram import FakeTelegram
from tests.gateway.conftest import RunningGateway, accept_consent
from tests.review.tracker_events import user_event

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

HERE = Path(__file__).parent / "retrain"
RASA_PYTHON = PROJECT_ROOT / ".venv-rasa" / "bin" / "python"
CHAT = 660001
MESSAGE = "non riesco a pagare le bollette"
PASSWORD = "una-password-lunga-42"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def _reviewer_login(gateway: RunningGateway) -> tuple[httpx.Client, str]:
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


def test_a_misunderstood_telegram_message_is_learned(
    start_gateway: Callable[..., RunningGateway],
    fake_rasa: FakeRasa,
    fake_telegram: FakeTelegram,
    tmp_path: Path,
) -> None:
    tracker_url = f"sqlite:///{tmp_path / 'tracker.db'}"
    tracker = make_engine(tracker_url)

    def rasa(request: dict[str, Any]) -> list[dict[str, Any]]:
        # what the model said of it (the small model below says the same: human_handoff)
        user_event(
            tracker, sender=request["sender"], text=str(request["message"]),
            message_id=request["metadata"]["message_id"], intent="human_handoff",
            confidence=0.295, actions=("utter_ask_handoff",),
        )  # fmt: skip
        return [{"recipient_id": request["sender"], "text": "Vuoi parlare con un operatore?"}]

    fake_rasa.responder = rasa
    gateway = start_gateway(
        telegram_bot_token=fake_telegram.token,
        telegram_api_base_url=fake_telegram.base_url,
        rasa_url=fake_rasa.url,
        action_server_url=fake_rasa.url,
        rasa_tracker_db_url=tracker_url,
        secret_key="review-loop-secret-" + "x" * 32,
    )
    gateway.wait_until(lambda: fake_telegram.poll_count > 0, what="polling")
    accept_consent(fake_telegram, CHAT)
    fake_telegram.send_text(CHAT, MESSAGE)
    fake_telegram.wait_sent(CHAT, "operatore")

    def queued() -> list[ReviewItem]:
        with Session(gateway.engine) as session:
            return list(session.exec(select(ReviewItem)))

    item = gateway.wait_until(queued, what="the message in the queue")[0]
    assert item.reasons == [Reason.low_confidence] and item.intent == "human_handoff"

    # the reviewer, in the console: the right intent is a search for a service
    client, csrf = _reviewer_login(gateway)
    assert MESSAGE in client.get("/console/revisione").text
    decided = client.post(
        f"/console/revisione/{item.id}/decidi",
        data={"csrf_token": csrf, "scelta": "confirm", "intento": "search_service"},
    )
    assert decided.status_code == 303, decided.text
    client.close()

    # the export, into a copy of the small slice's folder
    before, after = tmp_path / "before", tmp_path / "after"
    for folder in (before, after):
        folder.mkdir()
        (folder / "slice.yml").write_text((HERE / "slice.yml").read_text(encoding="utf-8"))
    out = StringOut()
    code = console_cli(
        ["review-export", "--out", str(after / "review")], engine=gateway.engine, stdout=out
    )
    assert code == 0 and "esempi scritti: 1" in out.text
    with Session(gateway.engine) as session:
        assert session.exec(select(ReviewItem)).one().status == ReviewStatus.exported

    # the small model, without and with the export
    started = time.monotonic()
    run = subprocess.run(
        [
            str(RASA_PYTHON), str(HERE / "rasa_check.py"), str(HERE / "config.yml"),
            str(tmp_path / "models"), json.dumps({"before": str(before), "after": str(after)}),
            json.dumps([MESSAGE]),
        ],
        capture_output=True, text=True, timeout=600, check=False,
        env={"RASA_TELEMETRY_ENABLED": "false", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )  # fmt: skip
    seconds = time.monotonic() - started
    assert run.returncode == 0, run.stderr[-3000:]
    line = next(x for x in run.stdout.splitlines() if x.startswith("RESULT "))
    result = json.loads(line.removeprefix("RESULT "))
    print(f"review loop: two small trainings and parses in {seconds:.0f} s: {result}")
    assert result["before"]["parsed"][0]["intent"] != "search_service"
    assert result["after"]["parsed"][0]["intent"] == "search_service"
    tracker.dispose()


class StringOut:
    def __init__(self) -> None:
        self.text = ""

    def write(self, value: str) -> int:
        self.text += value
        return len(value)

    def flush(self) -> None:
        pass
