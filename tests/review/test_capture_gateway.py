"""The gateway puts a misunderstood Telegram message in the review queue after its answer,
reading what the model understood from the tracker store (written here as Rasa writes it,
by the fake Rasa; tests/review/test_review_end_to_end.py does it with the real one)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from core.db import make_engine
from review.models import Reason, ReviewItem
from tests.fakes.fake_rasa import FakeRasa
from tests.fakes.fake_telegram import FakeTelegram
from tests.gateway.conftest import RunningGateway, accept_consent
from tests.review.tracker_events import user_event

CHAT = 640001


def test_a_low_confidence_message_reaches_the_queue(
    start_gateway: Callable[..., RunningGateway],
    fake_rasa: FakeRasa,
    fake_telegram: FakeTelegram,
    db_url: str,
    tmp_path: Path,
) -> None:
    tracker_url = f"sqlite:///{tmp_path / 'tracker.db'}"
    tracker = make_engine(tracker_url)

    def rasa(request: dict[str, Any]) -> list[dict[str, Any]]:
        text = str(request["message"])
        unsure = "boh" in text
        user_event(
            tracker,
            sender=request["sender"],
            text=text,
            message_id=request["metadata"]["message_id"],
            intent="nlu_fallback" if unsure else "greet",
            confidence=0.3 if unsure else 0.99,
            actions=("action_two_stage_fallback",) if unsure else ("utter_greet",),
        )
        return [{"recipient_id": request["sender"], "text": "Intendevi...?"}]

    fake_rasa.responder = rasa
    gateway = start_gateway(
        database_url=db_url,
        telegram_bot_token=fake_telegram.token,
        telegram_api_base_url=fake_telegram.base_url,
        rasa_url=fake_rasa.url,
        action_server_url=fake_rasa.url,
        rasa_tracker_db_url=tracker_url,
    )
    gateway.wait_until(lambda: fake_telegram.poll_count > 0, what="polling")
    accept_consent(fake_telegram, CHAT)
    fake_telegram.send_text(CHAT, "ciao")
    fake_telegram.send_text(CHAT, "boh il coso del comune per la luce, mi chiamo Paolo Neri")

    def items() -> list[ReviewItem]:
        with Session(gateway.engine) as session:
            return list(session.exec(select(ReviewItem)))

    found = gateway.wait_until(items, what="the review item")
    assert len(found) == 1
    item = found[0]
    assert item.reasons == [Reason.low_confidence, Reason.two_stage]
    assert (item.intent, item.confidence) == ("nlu_fallback", 0.3)
    assert item.masked_text == "boh il coso del comune per la luce, mi chiamo <nome>"
    message = next(m for m in gateway.messages() if m.id == item.message_id)
    assert message.text.startswith("boh")
    tracker.dispose()
