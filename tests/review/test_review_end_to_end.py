"""The review loop with the REAL assistant: a citizen writes on Telegram (the fake Bot API,
the real gateway, the real Rasa and action server of the session's ``rasa_stack``) a message
the model misunderstands, and taps the 👎 under the answer; it appears in «Revisione» with
what the model understood (read from Rasa's own tracker store); a reviewer (role
nlu_reviewer) corrects it through the console's HTTP routes; `python -m console
review-export` writes it into data/nlu/review/ of a TEMPORARY copy of data/nlu (the
repository's data/ is never touched); and the small retraining pipeline of
tests/review/retrain/ (seconds per training), trained on its fixed slice without and with the
export, misunderstands it without and understands it with.

One real-Rasa conversation; the assistant's own model is not retrained here (`make train`
and `make eval` do that, README)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlmodel import Session, select

from bot.review_capture import THUMBS_DOWN
from console.cli import main as console_cli
from core.settings import PROJECT_ROOT
from devtools.stack import RasaStack
from review.models import Reason, ReviewItem, ReviewStatus
from tests.fakes.fake_telegram import FakeTelegram
from tests.gateway.conftest import RunningGateway, accept_consent
from tests.review.helpers import StringOut, queued, reviewer_login, small_models

pytestmark = [pytest.mark.rasa, pytest.mark.slow, pytest.mark.timeout(900)]

CHAT = 660101
# the current model (2026-12-07) takes this for out of scope (0.995), the small slice model
# too (0.40): the reviewer says it is a reimbursement request
MESSAGE = "gli occhiali nuovi li ho pagati io"
RIGHT = "request_reimbursement"
REPO_REVIEW = PROJECT_ROOT / "data" / "nlu" / "review"


def _listing(folder: Path) -> list[tuple[str, int]]:
    return sorted((p.name, p.stat().st_size) for p in folder.glob("*")) if folder.is_dir() else []


@pytest.fixture
def review_gateway(
    start_gateway: Callable[..., RunningGateway], rasa_stack: RasaStack, fake_telegram: FakeTelegram
) -> RunningGateway:
    """The gateway on its own fresh database (its queue holds only this test's messages),
    talking to the real Rasa and reading Rasa's tracker store."""
    running = start_gateway(
        rasa_url=rasa_stack.rasa_url,
        rasa_auth_token=rasa_stack.token,
        action_server_url=rasa_stack.action_url.rsplit("/webhook", 1)[0],
        rasa_timeout_seconds=30.0,
        rasa_tracker_db_url=rasa_stack.tracker_url,
        telegram_bot_token=fake_telegram.token,
        telegram_api_base_url=fake_telegram.base_url,
        secret_key="review-e2e-secret-" + "x" * 32,
    )
    running.wait_until(lambda: fake_telegram.poll_count > 0, what="polling")
    return running


def test_a_message_the_real_model_misunderstands_is_learned(
    review_gateway: RunningGateway, fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    gateway = review_gateway
    repo_review_before = _listing(REPO_REVIEW)
    accept_consent(fake_telegram, CHAT)
    mark = len(fake_telegram.calls())
    fake_telegram.send_text(CHAT, MESSAGE)
    fake_telegram.wait_sent(CHAT, after=mark, timeout=60.0)  # the assistant answered
    # the answer is not a question: the 👎 is under it, and the citizen taps it
    mark = len(fake_telegram.calls())
    fake_telegram.press(CHAT, THUMBS_DOWN.title)
    fake_telegram.wait_sent(CHAT, "Grazie di avermelo detto", after=mark, timeout=30.0)

    def tapped() -> list[ReviewItem]:
        found = queued(gateway)
        return found if found and Reason.citizen_thumbs_down in found[0].reasons else []

    items = gateway.wait_until(tapped, timeout=30.0, what="the message in the queue")
    assert len(items) == 1
    item = items[0]
    assert item.masked_text == MESSAGE
    # why it is there: the model's own doubt (here: out of scope), then the citizen's 👎
    assert len(item.reasons) >= 2 and item.reasons[-1] == Reason.citizen_thumbs_down, item
    assert item.intent and item.intent != RIGHT, (item.intent, item.confidence)
    print(f"real model: {item.intent} ({item.confidence}), reasons {item.reasons}")

    # the reviewer, in the console, over HTTP as the page does: the right intent
    client, csrf = reviewer_login(gateway)
    page = client.get(f"/console/revisione/{item.id}")
    assert page.status_code == 200 and item.intent in page.text
    decided = client.post(
        f"/console/revisione/{item.id}/decidi",
        data={"csrf_token": csrf, "scelta": "confirm", "intento": RIGHT},
    )
    assert decided.status_code == 303, decided.text
    client.close()

    # the export, into data/nlu/review/ of a temporary copy of data/nlu
    copy = tmp_path / "data" / "nlu"
    shutil.copytree(PROJECT_ROOT / "data" / "nlu", copy, ignore=shutil.ignore_patterns("review"))
    out = StringOut()
    code = console_cli(
        ["review-export", "--out", str(copy / "review")], engine=gateway.engine, stdout=out
    )
    assert code == 0 and "esempi scritti: 1" in out.text, out.text
    exported = list((copy / "review").glob("review-*.yml"))
    assert len(exported) == 1
    assert f"intent: {RIGHT}" in exported[0].read_text(encoding="utf-8")
    assert _listing(REPO_REVIEW) == repo_review_before  # the repository's data untouched
    with Session(gateway.engine) as session:
        assert session.exec(select(ReviewItem)).one().status == ReviewStatus.exported

    # the small pipeline on its fixed slice, without and with the export
    result = small_models(tmp_path, exported[0], [MESSAGE])
    assert result["before"]["parsed"][0]["intent"] != RIGHT
    assert result["after"]["parsed"][0]["intent"] == RIGHT
