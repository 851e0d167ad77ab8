"""Broadcast benchmark: one announcement to N fake Telegram subscribers (10,000 by default)
through the fake Bot API enforcing Telegram's limits (30 msg/s overall in any sliding
second, 1 msg/s per chat, 429 + retry_after beyond), sent by ``python -m broadcast worker``
processes. Three runs:

- clean: one worker drains the broadcast;
- workers: ``--workers`` (2) worker processes drain another broadcast together (pace,
  sliding window and per-chat gap shared through the database);
- kill -9: a second broadcast; the worker is killed with SIGKILL ``--kills`` times (3), at
  a random moment after each quarter of the recipients got it, and each time a new worker
  is started at once and resumes (the dead worker's claimed rows come back when their
  lease, 10 s here, expires).

Figures per run: achieved rate as a fraction of the 30 msg/s limit (first to last accepted
message; for the kill run also excluding the restart gap), duplicates (chats that got the
announcement more than once, split into those of chats whose delivery was in flight at a
kill, "uncertain", the price of at-least-once, and any other, target 0), lost (recipients
that never got it), 429s the fake had to send, rows flagged uncertain.

    python -m bench broadcast [--recipients 10000] [--db postgres|sqlite] [--kills 3]
        [--workers 2]
    (--quick: 600 recipients)

PostgreSQL from TEST_POSTGRES_URL (a fresh database, dropped afterwards), or a temporary
SQLite file. Prints the figures and writes bench/out/broadcast.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from bench.databases import temporary_postgres
from broadcast.broadcasts import Draft, create_broadcast
from broadcast.models import Delivery, Subscription
from conversations.models import Channel, Conversation
from core.db import make_engine, session_scope
from core.migrate import upgrade
from core.settings import PROJECT_ROOT
from core.timeutil import utcnow
from tests.fakes.fake_telegram_limits import LimitedTelegram

OUT = Path(__file__).resolve().parent / "out"
TOKEN = "123456:BENCH-token_abc"
LIMIT = 30
LEASE_SECONDS = 10
FIRST_CHAT = 10_000_000


def add_arguments(parser: Any) -> None:
    parser.add_argument("--recipients", type=int, default=None, help="fake subscribers (10000)")
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--rate", type=float, default=29.0, help="BROADCAST_TELEGRAM_RATE")
    parser.add_argument("--kills", type=int, default=3, help="kill -9 this many times")
    parser.add_argument(
        "--workers", type=int, default=2, help="worker processes of the two-worker run (2)"
    )
    parser.add_argument("--keep-logs", action="store_true", help="keep the workers' logs")


@dataclass
class RunFigures:
    name: str
    recipients: int
    accepted: int = 0
    seconds: float = 0.0
    rate_per_s: float = 0.0
    rate_fraction_of_limit: float = 0.0
    duplicates: int = 0  # extra copies received, all causes
    duplicates_uncertain: int = 0  # of which: chats whose delivery was in flight at a kill
    duplicates_unexplained: int = 0  # of which: anything else (a bug: target 0)
    lost: int = 0
    limited_429_global: int = 0
    limited_429_per_chat: int = 0
    max_in_any_second: int = 0
    uncertain_rows: int = 0
    notes: list[str] = field(default_factory=list)


# --- database ---------------------------------------------------------------------------


@contextmanager
def database(kind: str) -> Iterator[str]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{folder}/bench.db"
        return
    with temporary_postgres("welcome_bench_bc") as url:
        yield url


def seed(engine: Engine, recipients: int) -> None:
    """N private Telegram chats with consent, each subscribed to everything."""
    now = utcnow()
    step = 2_000
    for start in range(0, recipients, step):
        with session_scope(engine) as session:
            conversations = [
                Conversation(
                    conversation_id=secrets.token_hex(16),
                    channel=Channel.telegram,
                    chat_key=str(FIRST_CHAT + i),
                    consent_version="2026-11",
                    consent_at=now,
                    last_inbound_at=now,
                    created_at=now,
                )
                for i in range(start, min(recipients, start + step))
            ]
            session.add_all(conversations)
            session.flush()
            session.add_all(
                Subscription(
                    conversation_id=c.conversation_id,
                    channel="telegram",
                    created_at=now,
                    updated_at=now,
                )
                for c in conversations
            )


def new_broadcast(engine: Engine, title: str) -> int:
    with session_scope(engine) as session:
        broadcast = create_broadcast(
            session,
            draft=Draft(
                title=title,
                body="Sabato alle 16 <b>merenda</b> al Welcome Hub di Rifredi. Ti aspettiamo!",
                quartieri=[],
                interests=[],
                scheduled_at=utcnow(),
            ),
            created_by=None,
            now=utcnow(),
        )
        assert broadcast.id is not None
        return broadcast.id


# --- workers ---------------------------------------------------------------------------


def start_worker(
    database_url: str, telegram: LimitedTelegram, rate: float, var_dir: Path
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "VAR_DIR": str(var_dir),
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": telegram.base_url,
        "WHATSAPP_ACCESS_TOKEN": "",
        "BROADCAST_TELEGRAM_RATE": str(rate),
        "BROADCAST_LEASE_SECONDS": str(LEASE_SECONDS),
        "BROADCAST_SEND_TIMEOUT_SECONDS": "5",
        "BROADCAST_POLL_SECONDS": "0.2",
    }
    log = (var_dir / f"worker-{time.time():.0f}-{secrets.token_hex(2)}.log").open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", "broadcast", "worker", "--until-idle"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )


def measure(
    name: str,
    telegram: LimitedTelegram,
    engine: Engine,
    broadcast_id: int,
    marker: str,
    recipients: int,
    limited_before: tuple[int, int],
) -> RunFigures:
    accepted = [a for a in list(telegram.accepted) if marker in a.text]
    per_chat: dict[int, int] = {}
    for a in accepted:
        per_chat[a.chat_id] = per_chat.get(a.chat_id, 0) + 1
    expected = set(range(FIRST_CHAT, FIRST_CHAT + recipients))
    times = sorted(a.at for a in accepted)
    seconds = times[-1] - times[0] if len(times) > 1 else 0.0
    rate = (len(times) - 1) / seconds if seconds else 0.0
    with session_scope(engine) as session:
        not_sent = session.execute(
            select(func.count()).where(
                Delivery.broadcast_id == broadcast_id, Delivery.status != "sent"
            )
        ).scalar_one()
        uncertain_chats = {
            int(key)
            for key in session.execute(
                select(Conversation.chat_key)
                .join(Delivery, Delivery.conversation_id == Conversation.conversation_id)  # type: ignore[arg-type]
                .where(
                    Delivery.broadcast_id == broadcast_id,
                    Delivery.uncertain.is_(True),  # type: ignore[attr-defined]
                )
            ).scalars()
        }
    uncertain = len(uncertain_chats)
    extra = {chat: n - 1 for chat, n in per_chat.items() if n > 1}
    figures = RunFigures(
        name=name,
        recipients=recipients,
        accepted=len(accepted),
        seconds=round(seconds, 1),
        rate_per_s=round(rate, 2),
        rate_fraction_of_limit=round(rate / LIMIT, 3),
        duplicates=sum(extra.values()),
        duplicates_uncertain=sum(n for chat, n in extra.items() if chat in uncertain_chats),
        duplicates_unexplained=sum(n for chat, n in extra.items() if chat not in uncertain_chats),
        lost=len(expected - set(per_chat)),
        limited_429_global=telegram.limited_global - limited_before[0],
        limited_429_per_chat=telegram.limited_chat - limited_before[1],
        max_in_any_second=telegram.max_in_window(1.0, marker),
        uncertain_rows=int(uncertain),
    )
    if not_sent:
        figures.notes.append(f"{not_sent} deliveries not in status sent")
    return figures


def clean_run(
    url: str, engine: Engine, telegram: LimitedTelegram, args: Any, n: int, var_dir: Path
) -> RunFigures:
    marker = "Bench pulito"
    broadcast_id = new_broadcast(engine, marker)
    before = (telegram.limited_global, telegram.limited_chat)
    worker = start_worker(url, telegram, args.rate, var_dir)
    code = worker.wait(timeout=n / 10 + 120)
    figures = measure("clean", telegram, engine, broadcast_id, marker, n, before)
    if code != 0:
        figures.notes.append(f"worker exited with {code}")
    return figures


def workers_run(
    url: str, engine: Engine, telegram: LimitedTelegram, args: Any, n: int, var_dir: Path
) -> RunFigures:
    """Several worker processes on one broadcast: the pace, the sliding window and the
    per-chat gap are shared through the database."""
    count = max(2, getattr(args, "workers", 2))
    marker = "Bench lavoratori"
    broadcast_id = new_broadcast(engine, marker)
    before = (telegram.limited_global, telegram.limited_chat)
    workers = [start_worker(url, telegram, args.rate, var_dir) for _ in range(count)]
    codes = [w.wait(timeout=n / 10 + 120) for w in workers]
    figures = measure(f"{count} workers", telegram, engine, broadcast_id, marker, n, before)
    if any(codes):
        figures.notes.append(f"workers exited with {codes}")
    return figures


def kill_run(
    url: str, engine: Engine, telegram: LimitedTelegram, args: Any, n: int, var_dir: Path
) -> RunFigures:
    marker = "Bench kill"
    broadcast_id = new_broadcast(engine, marker)
    before = (telegram.limited_global, telegram.limited_chat)
    baseline = len(telegram.accepted)  # every message accepted from now on is this run's
    kills = max(1, getattr(args, "kills", 3))
    worker = start_worker(url, telegram, args.rate, var_dir)
    gaps: list[float] = []
    in_flight_total = 0
    for k in range(1, kills + 1):
        threshold = max(1, int(n * k / (kills + 1)))
        deadline = time.monotonic() + n / 10 + 120
        while len(telegram.accepted) - baseline < threshold:
            if time.monotonic() > deadline or worker.poll() is not None:
                break
            time.sleep(0.1)
        time.sleep(random.uniform(0.0, 1.0))  # a crash comes at any moment
        killed_at, killed_utc = time.monotonic(), utcnow()
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
        with session_scope(engine) as session:
            in_flight_total += session.execute(
                select(func.count()).where(
                    Delivery.broadcast_id == broadcast_id,
                    Delivery.in_flight_at.is_not(None),  # type: ignore[union-attr]
                    Delivery.in_flight_at <= killed_utc,  # type: ignore[operator]
                )
            ).scalar_one()
        count = len(telegram.accepted)
        worker = start_worker(url, telegram, args.rate, var_dir)
        while len(telegram.accepted) == count and worker.poll() is None:
            time.sleep(0.01)
        gaps.append(time.monotonic() - killed_at)
    code = worker.wait(timeout=n / 10 + 180)
    figures = measure("kill -9 and resume", telegram, engine, broadcast_id, marker, n, before)
    figures.notes.append(
        f"{kills} kill(s) at random moments; {in_flight_total} request(s) in flight in all "
        f"(flagged uncertain, resent); new worker's first message "
        f"{', '.join(f'{g:.1f}' for g in gaps)} s after each kill; the dead worker's "
        f"claimed rows return after the {LEASE_SECONDS} s lease"
    )
    if figures.seconds > sum(gaps):
        steady = (figures.accepted - 1) / (figures.seconds - sum(gaps))
        figures.notes.append(
            f"rate excluding the restart gaps: {steady:.2f}/s = {steady / LIMIT:.3f} of the limit"
        )
    if code != 0:
        figures.notes.append(f"last worker exited with {code}")
    return figures


def run(args: Any) -> None:
    n = args.recipients or (600 if getattr(args, "quick", False) else 10_000)
    kind = getattr(args, "db", "postgres")
    results: list[RunFigures] = []
    load = os.getloadavg()[0]
    var = tempfile.mkdtemp(prefix="broadcast-bench-")
    with database(kind) as url:
        engine = make_engine(url)
        upgrade(engine)
        started = time.perf_counter()
        seed(engine, n)
        print(
            f"seeded {n} subscribers on {kind} in {time.perf_counter() - started:.1f} s", flush=True
        )
        with LimitedTelegram(global_rate=LIMIT, per_chat_seconds=1.0, token=TOKEN) as telegram:
            for step in (clean_run, workers_run, kill_run):
                figures = step(url, engine, telegram, args, n, Path(var))
                results.append(figures)
                print(json.dumps(asdict(figures), ensure_ascii=False), flush=True)
        engine.dispose()
    if getattr(args, "keep_logs", False):
        print(f"worker logs in {var}")
    else:
        shutil.rmtree(var, ignore_errors=True)
    summary = {
        "database": kind,
        "recipients": n,
        "limit_per_s": LIMIT,
        "pacer_rate_per_s": args.rate,
        "load_average_at_start": round(load, 2),
        "cpus": os.cpu_count(),
        "runs": [asdict(r) for r in results],
    }
    OUT.mkdir(exist_ok=True)
    (OUT / "broadcast.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False))
    # "uncertain": deliveries in flight when a worker was killed (the request may have
    # reached Telegram before the kill); "dup (unc.)": extra copies those chats got (the
    # price of at-least-once, BROADCAST_UNCERTAIN_POLICY=retry); "dup (other)": any other
    # extra copy (target 0)
    print(
        f"\n{'run':<24}{'rate/s':>8}{'of limit':>10}{'dup (other)':>13}{'dup (unc.)':>12}"
        f"{'lost':>6}{'429':>6}{'uncertain':>11}"
    )
    for r in results:
        print(
            f"{r.name:<24}{r.rate_per_s:>8}{r.rate_fraction_of_limit:>10}"
            f"{r.duplicates_unexplained:>13}{r.duplicates_uncertain:>12}"
            f"{r.lost:>6}{r.limited_429_global + r.limited_429_per_chat:>6}"
            f"{r.uncertain_rows:>11}"
        )
        for note in r.notes:
            print(f"   {note}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.broadcast_bench")
    parser.add_argument("--quick", action="store_true")
    add_arguments(parser)
    run(parser.parse_args(argv))
    return 0


if __name__ == "__main__":
    sys.exit(main())
