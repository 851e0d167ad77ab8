"""Rasa with two worker processes sharing a Redis lock store (RASA_WORKERS=2): every turn of
several simultaneous conversations is answered and recorded in order.

The gateway sends one turn per conversation at a time (core.locks), but other callers (the
hand-off's pause and resume, a second gateway) may not: turns of one conversation sent to
both workers in the same instant must all be recorded. Rasa's own RedisLockStore lost one
of two user events in that case (its tickets are a non-atomic read-modify-write, seen in
CI); nlu.atomic_lock_store is the lock store used with Redis now."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from devtools.rasa_env import RASA_BIN
from devtools.stack import RasaStack, start_local_stack
from devtools.train import ensure_model

pytestmark = [pytest.mark.rasa, pytest.mark.slow]


@pytest.fixture(scope="module")
def two_workers(
    tmp_path_factory: pytest.TempPathFactory, rasa_catalog_db_url: str
) -> Iterator[RasaStack]:
    if not RASA_BIN.exists():
        pytest.skip("the Rasa environment (.venv-rasa) is not installed: scripts/setup.sh rasa")
    import redis

    from tests.conftest import REDIS_URL

    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except Exception:
        from tests.conftest import unavailable

        unavailable(f"Redis not reachable at {REDIS_URL}")
    workdir: Path = tmp_path_factory.mktemp("rasa-two-workers")
    stack = start_local_stack(
        model=ensure_model().model,
        database_url=rasa_catalog_db_url,
        workdir=workdir,
        rasa_workers=2,
        lock_store_url=REDIS_URL,
    )
    try:
        yield stack
    finally:
        stack.close()


def _user_turns(stack: RasaStack, sender: str) -> list[str]:
    events = stack.tracker(sender)["events"]
    return [e["text"] for e in events if e["event"] == "user"]


def test_two_workers_answer_every_turn_in_order(two_workers: RasaStack) -> None:
    senders = [uuid.uuid4().hex for _ in range(6)]
    texts = ["ciao", "cerco un doposcuola a Rifredi", "grazie"]

    def conversation(sender: str) -> list[list[dict]]:
        return [two_workers.send(sender, text) for text in texts]

    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(conversation, senders))
    assert all(all(turn for turn in replies) for replies in answers)
    for sender in senders:
        assert _user_turns(two_workers, sender) == texts


def test_simultaneous_turns_of_one_conversation_are_all_recorded(two_workers: RasaStack) -> None:
    sender = uuid.uuid4().hex
    texts = ["ciao", "grazie", "cerco un doposcuola", "ciao di nuovo", "grazie mille", "ok"]
    with ThreadPoolExecutor(max_workers=len(texts)) as pool:
        answers = list(pool.map(lambda text: two_workers.send(sender, text), texts))
    assert all(answers)
    assert sorted(_user_turns(two_workers, sender)) == sorted(texts)
