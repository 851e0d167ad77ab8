"""Crash and concurrency: a worker process killed with SIGKILL while its requests are in
flight, then a new one resumes the broadcast (no recipient skipped, none served twice);
two workers draining one broadcast on PostgreSQL (SKIP LOCKED) without duplicates."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from broadcast.engine import BroadcastWorker
from broadcast.models import Delivery
from broadcast.queue import Policy, claim
from broadcast.senders import TelegramSender
from core.db import make_engine, session_scope
from core.settings import PROJECT_ROOT
from core.timeutil import utcnow
from tests.broadcast.helpers import (
    TOKEN,
    chat_key_of,
    fast_config,
    new_broadcast,
    statuses,
    subscribers,
)
from tests.fakes.fake_telegram_limits import LimitedTelegram

pytestmark = pytest.mark.slow


def _worker_process(
    database_url: str, telegram: LimitedTelegram, tmp_path: Path, rate: float = 20.0
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "VAR_DIR": str(tmp_path / "var"),
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": telegram.base_url,
        "WHATSAPP_ACCESS_TOKEN": "",
        "BROADCAST_TELEGRAM_RATE": str(rate),
        "BROADCAST_BATCH_SIZE": "10",
        "BROADCAST_CONCURRENCY": "4",
        "BROADCAST_LEASE_SECONDS": "4",
        "BROADCAST_SEND_TIMEOUT_SECONDS": "1",
        "BROADCAST_POLL_SECONDS": "0.1",
        "BROADCAST_RETRY_BASE_SECONDS": "0.2",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "broadcast", "worker", "--until-idle"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _wait(predicate, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_kill_9_mid_run_then_resume(db_url: str, tmp_path: Path) -> None:
    engine = make_engine(db_url)
    recipients = subscribers(engine, 30)
    broadcast_id = new_broadcast(engine, title="Riapertura")
    with LimitedTelegram(global_rate=25) as telegram:
        telegram.stall_after(12)  # then requests hang, unanswered and not delivered
        first = _worker_process(db_url, telegram, tmp_path)
        try:
            _wait(lambda: telegram.stalled >= 2, 60, "requests in flight at the fake")
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait(10)
        assert first.returncode == -signal.SIGKILL
        telegram.release_stalled()  # the dead worker's requests never counted as delivered
        with Session(engine) as session:
            in_flight = session.exec(
                select(Delivery).where(Delivery.in_flight_at.is_not(None))  # type: ignore[union-attr]
            ).all()
        assert len(in_flight) >= 2  # the crash really happened with requests in flight
        assert statuses(engine, broadcast_id)["sent"] == 12

        second = _worker_process(db_url, telegram, tmp_path)
        _, errors = second.communicate(timeout=90)
        assert second.returncode == 0, errors.decode()[-2000:]
        received = telegram.received("Riapertura")
    chats = sorted(chat_key_of(engine, cid) for cid in recipients)
    assert sorted(received) == chats  # nobody skipped
    assert set(received.values()) == {1}  # nobody served twice
    assert statuses(engine, broadcast_id) == {"sent": 30}
    with Session(engine) as session:
        rows = session.exec(select(Delivery)).all()
    uncertain = [r for r in rows if r.uncertain]
    assert len(uncertain) == len(in_flight)  # reported as "esito incerto", and sent once
    engine.dispose()


def test_uncertain_policy_skip_is_at_most_once(sqlite_engine: Engine) -> None:
    """Under "skip", a delivery found in flight after a crash is failed, not resent."""
    subscribers(sqlite_engine, 2)
    broadcast_id = new_broadcast(sqlite_engine)
    now = utcnow()
    with session_scope(sqlite_engine) as session:
        from broadcast.broadcasts import start

        start(session, broadcast_id=broadcast_id, now=now)
        claimed = claim(session, token="a" * 32, now=now, lease_seconds=1, limit=10)
        assert len(claimed) == 2
        row = session.get(Delivery, claimed[0].recipient.delivery_id)
        assert row is not None
        row.in_flight_at = now  # the worker died with this request in flight
        session.add(row)
    later = utcnow().replace(microsecond=0) + (claimed[0].lease_until - now) * 2
    with session_scope(sqlite_engine) as session:
        again = claim(
            session, token="b" * 32, now=later, lease_seconds=5, limit=10, policy=Policy.skip
        )
    assert [c.recipient.delivery_id for c in again] == [claimed[1].recipient.delivery_id]
    with Session(sqlite_engine) as session:
        failed = session.get(Delivery, claimed[0].recipient.delivery_id)
    assert failed is not None
    assert (failed.status, failed.last_error, failed.uncertain) == (
        "failed",
        "uncertain-after-crash",
        True,
    )


async def test_two_workers_on_postgres_no_duplicates(postgres_url: str, tmp_path: Path) -> None:
    setup = make_engine(postgres_url)
    recipients = subscribers(setup, 60)
    broadcast_id = new_broadcast(setup, title="Due lavoratori")
    engines = [make_engine(postgres_url) for _ in range(2)]
    config = fast_config(tmp_path, rates={"telegram": 20.0}, batch_size=5)
    with LimitedTelegram(global_rate=25, enforce=False) as telegram:
        workers = [
            BroadcastWorker(
                eng,
                config,
                {"telegram": TelegramSender(base_url=telegram.base_url, token=TOKEN)},
                worker_id=f"w{n}",
            )
            for n, eng in enumerate(engines)
        ]
        await asyncio.wait_for(
            asyncio.gather(*(w.run(until_idle=True) for w in workers)), timeout=60
        )
        for worker in workers:
            await worker.aclose()
        received = telegram.received("Due lavoratori")
        peak = telegram.max_in_window(1.0)
    assert sorted(received) == sorted(chat_key_of(setup, cid) for cid in recipients)
    assert set(received.values()) == {1}
    assert all(w.sent > 0 for w in workers)  # both really worked
    assert workers[0].sent + workers[1].sent == 60
    assert peak <= 25  # one shared pace for both workers (20/s), within the fake Telegram limit
    assert statuses(setup, broadcast_id) == {"sent": 60}
    for eng in (setup, *engines):
        eng.dispose()


def test_two_worker_processes_share_the_limits_on_postgres(
    postgres_url: str, tmp_path: Path
) -> None:
    """Two ``python -m broadcast worker`` processes, two broadcasts to the same 40 chats (so
    every chat gets two messages, from either worker), against the fake Bot API enforcing
    25 msg/s in any sliding second and 1 msg/s per chat, with the workers paced at its
    limit: the window tokens and the per-chat hold in the database keep both limits across
    the processes (no 429 at all), and nobody is served twice."""
    engine = make_engine(postgres_url)
    recipients = subscribers(engine, 40)
    first = new_broadcast(engine, title="Primo turno")
    second = new_broadcast(engine, title="Secondo turno")
    with LimitedTelegram(global_rate=25, per_chat_seconds=1.0) as telegram:
        workers = [_worker_process(postgres_url, telegram, tmp_path, rate=25.0) for _ in range(2)]
        sent_by: list[int] = []
        for worker in workers:
            _, errors = worker.communicate(timeout=120)
            assert worker.returncode == 0, errors.decode()[-2000:]
            sent_by.append(int(re.findall(r"stopped \(sent (\d+)\)", errors.decode())[-1]))
        refused = [c for c in telegram.calls("sendMessage") if c.status == 429]
        firsts, seconds = telegram.received("Primo turno"), telegram.received("Secondo turno")
        gap, peak = telegram.min_chat_gap(), telegram.max_in_window(1.0)
    chats = sorted(chat_key_of(engine, cid) for cid in recipients)
    assert (telegram.limited_chat, telegram.limited_global, len(refused)) == (0, 0, 0)
    assert sorted(firsts) == sorted(seconds) == chats
    assert set(firsts.values()) == set(seconds.values()) == {1}
    assert gap >= 1.0 and peak <= 25
    assert statuses(engine, first) == statuses(engine, second) == {"sent": 40}
    assert sum(sent_by) == 80 and min(sent_by) > 0  # both processes really sent
    with Session(engine) as session:
        rows = session.exec(select(Delivery)).all()
    assert all(r.attempts == 1 for r in rows)  # deferred by the limits, never refused
    engine.dispose()


def test_a_claim_takes_at_most_its_batch(engine: Engine) -> None:
    """PostgreSQL may rescan an IN (... LIMIT n FOR UPDATE SKIP LOCKED) subquery; each rescan
    would skip the rows just claimed and take the next ones: the claim must stay at n."""
    subscribers(engine, 25)
    broadcast_id = new_broadcast(engine)
    now = utcnow()
    with session_scope(engine) as session:
        from broadcast.broadcasts import start

        start(session, broadcast_id=broadcast_id, now=now)
        first = claim(session, token="a" * 32, now=now, lease_seconds=30, limit=10)
        second = claim(session, token="b" * 32, now=now, lease_seconds=30, limit=10)
    ids = [c.recipient.delivery_id for c in first + second]
    assert (len(first), len(second), len(set(ids))) == (10, 10, 20)
    assert statuses(engine, broadcast_id) == {"sending": 20, "pending": 5}
