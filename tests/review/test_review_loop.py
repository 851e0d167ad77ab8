"""The review loop end to end: a Telegram message (fake Bot API, the real gateway) that the
model did not understand (its parse data in the tracker store, written by the fake Rasa as Rasa
writes it) appears in «Revisione»; a reviewer corrects it in the console; `python -m console
review-export` writes it; then a small NLU model trained on a fixed slice of the data
(tests/review/retrain/, seconds per training instead of the assistant's ~17 minutes) with
and without the export: without it the message is misunderstood, with it it is understood.

The assistant's own model is not retrained here (one cold training is all the suite can
afford); `make train` and `make eval` do that (README)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from console.cli import main as console_cli
from core.db import make_engine
from review.models import Reason, ReviewItem, ReviewStatus
from tests.fakes.fake_rasa import FakeRasa
from tests.fakes.fake_telegram import FakeTelegram
from tests.gateway.conftest import RunningGateway, accept_consent
from tests.review.helpers import StringOut, on_telegram, queued, reviewer_login, small_models
from tests.review.tracker_events import user_event

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

CHAT = 660001
MESSAGE = "non riesco a pagare le bollette"


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
    gateway = on_telegram(
        start_gateway, fake_rasa, fake_telegram, tracker_url,
        secret_key="review-loop-secret-" + "x" * 32,
    )  # fmt: skip
    accept_consent(fake_telegram, CHAT)
    fake_telegram.send_text(CHAT, MESSAGE)
    fake_telegram.wait_sent(CHAT, "operatore")

    item = gateway.wait_until(lambda: queued(gateway), what="the message in the queue")[0]
    assert item.reasons == [Reason.low_confidence] and item.intent == "human_handoff"

    # the reviewer, in the console: the right intent is a search for a service
    client, csrf = reviewer_login(gateway)
    assert MESSAGE in client.get("/console/revisione").text
    decided = client.post(
        f"/console/revisione/{item.id}/decidi",
        data={"csrf_token": csrf, "scelta": "confirm", "intento": "search_service"},
    )
    assert decided.status_code == 303, decided.text
    client.close()

    # the export, then the small model without and with it
    out = StringOut()
    export = tmp_path / "export"
    code = console_cli(["review-export", "--out", str(export)], engine=gateway.engine, stdout=out)
    assert code == 0 and "esempi scritti: 1" in out.text
    with Session(gateway.engine) as session:
        assert session.exec(select(ReviewItem)).one().status == ReviewStatus.exported
    result = small_models(tmp_path, export, [MESSAGE])
    assert result["before"]["parsed"][0]["intent"] != "search_service"
    assert result["after"]["parsed"][0]["intent"] == "search_service"
    tracker.dispose()
