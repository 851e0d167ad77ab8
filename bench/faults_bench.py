"""Fault bench (issue 18): under steady load, kill -9 one gateway, then one Rasa server, then
one action server, each in turn; what was accepted, answered, lost or answered twice, and
how long until p95 is back under 200 ms.

    python -m bench faults [--rate 8] [--users 40] [--phase-seconds 30]

The topology of deploy/ as plain processes on 127.0.0.1 (devtools.cluster): 2 action
servers, 2 Rasa servers (tracker store in a throw-away PostgreSQL database, atomic Redis
lock store), 2 gateways (Telegram webhook mode, one Redis), each kind behind a round-robin
proxy that skips a process refusing connections. Simulated citizens on the fake Telegram
(tests/fakes) each wait for the answer before writing again; a message is injected every
1/rate seconds (open loop over the free citizens). After a baseline phase, each phase
starts with one kill -9 and the killed process stays dead (the last phase runs on one
process of each kind). Then the load stops and the answers still due get
``--drain-seconds``.

Per phase: accepted (the webhook answered 200), answered (the citizen got a reply),
lost (accepted, never answered), answered twice (a second Rasa turn for one message, or a
stored answer sent twice, or one update stored twice), p95 of the phase, and the time from
the kill until p95 over 2-second windows is back under 200 ms for the rest of the phase
(a message never answered counts as infinitely late). Figures go to stdout and
bench/out/faults.json.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.databases import temporary_postgres
from bench.gateway_bench import MESSAGES, Users
from bench.measure import percentile
from core.settings import PROJECT_ROOT

OUT_DIR = Path(__file__).resolve().parent / "out"
TARGET_P95_MS = 200.0
WINDOW_S = 2.0
SEND_METHODS = {"sendMessage", "sendPhoto", "sendDocument", "sendLocation", "sendVenue"}


def add_arguments(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    parser.add_argument("--rate", type=float, default=8.0, help="messages per second (8)")
    parser.add_argument("--users", type=int, default=40, help="simulated citizens (40)")
    parser.add_argument("--phase-seconds", type=float, default=30.0, help="per phase (30)")
    parser.add_argument("--drain-seconds", type=float, default=45.0, help="after the load (45)")
    parser.add_argument(
        "--redis",
        default=os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/14"),
        help="Redis URL: the gateways' shared Redis and Rasa's lock store",
    )


@dataclass
class Sent:
    chat: int
    text: str
    at: float  # monotonic, when injected
    phase: int
    update_id: int = 0
    answered_at: float | None = None


@dataclass
class Phase:
    name: str
    killed_at: float | None = None
    started_at: float = 0.0
    ended_at: float = 0.0
    result: dict[str, Any] = field(default_factory=dict)


class Load:
    """Citizens writing at a steady pace, each waiting for the answer before writing again."""

    def __init__(self, telegram: Any, users: int) -> None:
        self.telegram = telegram
        self.chats = [820_000 + i for i in range(users)]
        self.pending: dict[int, Sent] = {}
        self.sent: list[Sent] = []
        self.lock = threading.Lock()
        self.phase = 0
        self._seen = 0
        self._pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="inject")
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def consent_all(self) -> None:
        users = Users(self.telegram, 0)  # the gateway bench's citizens give their consent
        users.chats = self.chats
        users.consent_all()
        self._seen = len(self.telegram.state.calls)

    def collect(self) -> None:
        """The first reply to a chat after its message answers that message."""
        calls = self.telegram.state.calls
        with self.lock:
            new = calls[self._seen :]
            self._seen += len(new)
            for call in new:
                if call.method not in SEND_METHODS or call.status != 200:
                    continue
                try:
                    chat = int(call.params.get("chat_id"))
                except (TypeError, ValueError):
                    continue
                waiting = self.pending.get(chat)
                if waiting is not None and call.at >= waiting.at:
                    waiting.answered_at = call.at
                    del self.pending[chat]

    def _inject(self, sent: Sent) -> None:
        sent.update_id = self.telegram.send_text(sent.chat, sent.text)

    def run(self, rate: float) -> None:
        self._thread = threading.Thread(target=self._run, args=(rate,), daemon=True)
        self._thread.start()

    def _run(self, rate: float) -> None:
        interval = 1.0 / rate
        next_at = time.monotonic()
        index = 0
        while not self._stop.is_set():
            now = time.monotonic()
            if now < next_at:
                self.collect()
                time.sleep(min(0.002, next_at - now))
                continue
            next_at += interval
            with self.lock:
                free = [c for c in self.chats if c not in self.pending]
                if not free:
                    continue
                chat = free[index % len(free)]
                sent = Sent(chat, MESSAGES[index % len(MESSAGES)], time.monotonic(), self.phase)
                index += 1
                self.pending[chat] = sent
                self.sent.append(sent)
            self._pool.submit(self._inject, sent)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._pool.shutdown(wait=True)


def _recovery(sent: list[Sent], phase: Phase) -> float | None:
    """Seconds from the kill until every later 2 s window of the phase has p95 <= target."""
    if phase.killed_at is None:
        return None
    windows: list[tuple[float, float]] = []
    start = phase.killed_at
    while start < phase.ended_at:
        end = start + WINDOW_S
        lat = [_latency(s) for s in sent if start <= s.at < end]
        if lat:
            windows.append((start - phase.killed_at, percentile(lat, 95)))
        start = end
    bad = [offset for offset, p95 in windows if p95 > TARGET_P95_MS]
    if not bad:
        return 0.0
    last = max(bad) + WINDOW_S
    return last if last < phase.ended_at - phase.killed_at else math.inf


def _latency(sent: Sent) -> float:
    return math.inf if sent.answered_at is None else (sent.answered_at - sent.at) * 1000


def _duplicates(
    engine: Any, telegram: Any, cluster: Any, load: Load, phases: list[Phase], since: float
) -> None:
    """Per phase: second Rasa turns of one message, answers sent twice, updates stored twice
    (Telegram calls counted from ``since``, the start of the load)."""
    from sqlmodel import Session, col, select

    from conversations.models import Conversation, Direction, Message

    phase_of = {s.update_id: s.phase for s in load.sent}

    def phase_at(moment: float) -> int:
        found = [n for n, p in enumerate(phases) if p.started_at <= moment]
        return found[-1] if found else 0

    def update_id(row: Message) -> int:  # dedupe key tg:<bot>:<update_id>:<date>
        parts = (row.dedupe_key or "").split(":")
        return int(parts[2]) if len(parts) > 3 and parts[2].isdigit() else 0

    calls = [c for c in telegram.state.calls if c.method in SEND_METHODS and c.status == 200]
    for phase in phases:
        phase.result.update(rasa_turns_twice=0, sent_twice=0, stored_twice=0)
    with Session(engine) as session, httpx.Client(timeout=30) as client:
        for chat in sorted({s.chat for s in load.sent}):
            conversation = session.exec(
                select(Conversation).where(Conversation.chat_key == str(chat))
            ).first()
            if conversation is None:
                continue
            rows = session.exec(
                select(Message)
                .where(Message.conversation_id == conversation.conversation_id)
                .order_by(col(Message.id))
            ).all()
            inbound = [r for r in rows if r.direction == Direction.inbound and r.text in MESSAGES]
            updates = [update_id(r) for r in inbound]
            for update in {u for u in updates if u and updates.count(u) > 1}:
                phases[phase_of.get(update, 0)].result["stored_twice"] += 1
            tracker = client.get(
                f"{cluster.rasa_proxy.url}/conversations/{conversation.conversation_id}/tracker",
                params={"token": cluster.rasa_token},
            ).json()
            turns = [e for e in tracker.get("events", []) if e["event"] == "user"]
            # walk the turns against the stored messages: a turn repeating the text of the
            # message just matched, with no new message, is a second turn of that message
            index = 0
            for turn in turns:
                if index < len(inbound) and turn.get("text") == inbound[index].text:
                    index += 1
                elif index > 0 and turn.get("text") == inbound[index - 1].text:
                    phase = phase_of.get(update_id(inbound[index - 1]), 0)
                    phases[phase].result["rasa_turns_twice"] += 1
            answers = {  # a long answer goes in several Telegram messages ("chunks")
                str(part)
                for r in rows
                if r.direction == Direction.outbound and r.external_id and r.reply_to_id
                for part in ((r.data or {}).get("chunks") or [r.external_id])
            }
            # a stored answer sent again gets a new Telegram message id: the send whose
            # outcome was lost (the sender died) is left with an id no stored answer has
            for call in calls:
                if call.at < since or str(call.params.get("chat_id")) != str(chat):
                    continue
                if not isinstance(call.result, dict):
                    continue
                if str(call.result.get("message_id")) not in answers:
                    phases[phase_at(call.at)].result["sent_twice"] += 1


def run(args: argparse.Namespace) -> None:
    sys.path.insert(0, str(PROJECT_ROOT))
    from core.db import make_engine
    from devtools.cluster import start_cluster
    from devtools.stack import prepare_database
    from devtools.train import ensure_model
    from tests.fakes.fake_telegram import FakeTelegram

    rate, users = float(args.rate), int(args.users)
    phase_s, drain_s = float(args.phase_seconds), float(args.drain_seconds)
    if getattr(args, "quick", False):
        phase_s, drain_s = 15.0, 30.0
    load_start = os.getloadavg()[0]
    model = ensure_model().model
    with tempfile.TemporaryDirectory(prefix="faults-bench-") as tmp, ExitStack() as stack:
        workdir = Path(tmp)
        database_url = stack.enter_context(temporary_postgres("welcome_bench_faults"))
        prepare_database(database_url)
        telegram = stack.enter_context(FakeTelegram())
        started = time.monotonic()
        cluster = start_cluster(
            model=model,
            database_url=database_url,
            redis_url=str(args.redis),
            workdir=workdir,
            telegram_base_url=telegram.base_url,
            telegram_token=telegram.token,
        )
        stack.callback(cluster.close)
        print(f"cluster ready in {time.monotonic() - started:.0f} s", flush=True)
        telegram.wait_for(lambda c: c.method == "setWebhook", timeout=60)
        load = Load(telegram, users)
        load.consent_all()
        phases = [
            Phase("baseline"),
            Phase("kill -9 gateway-1"),
            Phase("kill -9 rasa-1"),
            Phase("kill -9 actions-1"),
        ]
        victims = [None, cluster.gateways[0], cluster.rasas[0], cluster.actions[0]]
        load_started = time.monotonic()
        load.run(rate)
        time.sleep(min(10.0, phase_s / 3))  # warm-up: not counted
        with load.lock:
            load.sent.clear()
        for number, (phase, victim) in enumerate(zip(phases, victims, strict=True)):
            with load.lock:
                load.phase = number
            phase.started_at = time.monotonic()
            if victim is not None:
                phase.killed_at = time.monotonic()
                cluster.kill(victim)
                print(f"{phase.name} at +{phase.killed_at - started:.0f} s", flush=True)
            time.sleep(phase_s)
            phase.ended_at = time.monotonic()
        load.stop()
        deadline = time.monotonic() + drain_s
        while load.pending and time.monotonic() < deadline:
            load.collect()
            time.sleep(0.1)
        load.collect()
        refused = {u["update_id"] for u in telegram.pending_updates}
        engine = make_engine(database_url)
        try:
            _duplicates(engine, telegram, cluster, load, phases, load_started)
        except Exception as error:  # the figures above stay; say what could not be counted
            print(f"could not count the duplicates: {type(error).__name__}: {error}")
            for phase in phases:
                phase.result.update(rasa_turns_twice=-1, sent_twice=-1, stored_twice=-1)
        finally:
            engine.dispose()
        proxies = {
            "gateways": (cluster.front.refused, cluster.front.failed),
            "rasa": (cluster.rasa_proxy.refused, cluster.rasa_proxy.failed),
            "actions": (cluster.action_proxy.refused, cluster.action_proxy.failed),
        }
    for number, phase in enumerate(phases):
        sents = [s for s in load.sent if s.phase == number]
        accepted = [s for s in sents if s.update_id and s.update_id not in refused]
        answered = [s for s in sents if s.answered_at is not None]
        lat = [_latency(s) for s in answered]
        recovery = _recovery(sents, phase)
        phase.result.update(
            injected=len(sents),
            accepted=len(accepted),
            refused=len(sents) - len(accepted),
            answered=len(answered),
            lost=len([s for s in accepted if s.answered_at is None]),
            p50_ms=round(percentile(lat, 50), 1) if lat else None,
            p95_ms=round(percentile(lat, 95), 1) if lat else None,
            max_ms=round(max(lat), 1) if lat else None,
            recovery_s=None if recovery is None else round(recovery, 1),
        )
    print(
        f"faults: 2 gateways, 2 Rasa servers, 2 action servers; {users} Telegram users, "
        f"{rate:g} msg/s, {phase_s:.0f} s per phase; {os.cpu_count()} CPUs, load average "
        f"{load_start:.1f} at start"
    )
    header = f"{'phase':<20} {'sent':>5} {'accepted':>8} {'answered':>8} {'lost':>5}"
    header += f" {'twice':>5} {'p50':>7} {'p95':>8} {'max':>8}  p95<200ms after"
    print(header)
    for phase in phases:
        r = phase.result
        twice = r["rasa_turns_twice"] + r["sent_twice"] + r["stored_twice"]
        recovery = r["recovery_s"]
        back = (
            "-"
            if recovery is None
            else ("not in phase" if recovery == math.inf else f"{recovery} s")
        )
        print(
            f"{phase.name:<20} {r['injected']:>5} {r['accepted']:>8} {r['answered']:>8} "
            f"{r['lost']:>5} {twice:>5} {_ms(r['p50_ms']):>7} {_ms(r['p95_ms']):>8} "
            f"{_ms(r['max_ms']):>8}  {back}"
        )
    for phase in phases:
        r = phase.result
        print(
            f"  {phase.name}: twice = {r['rasa_turns_twice']} second Rasa turns of one message "
            f"+ {r['sent_twice']} sends with no stored answer (resent) "
            f"+ {r['stored_twice']} updates stored twice; "
            f"{r['refused']} updates the webhook never took"
        )
    print(f"proxies (refused connections, 502): {proxies}")
    OUT_DIR.mkdir(exist_ok=True)
    (OUT_DIR / "faults.json").write_text(
        json.dumps(
            {
                "rate": rate,
                "users": users,
                "phase_seconds": phase_s,
                "load_start": load_start,
                "phases": [
                    {"name": p.name, **{k: _json(v) for k, v in p.result.items()}} for p in phases
                ],
                "proxies": proxies,
                "messages": [  # every message: its phase, when, its latency (null: lost)
                    {
                        "phase": m.phase,
                        "at_s": round(m.at - load_started, 3),
                        "latency_ms": None
                        if m.answered_at is None
                        else round((m.answered_at - m.at) * 1000, 1),
                    }
                    for m in load.sent
                ],
            },
            indent=2,
        )
    )


def _ms(value: float | None) -> str:
    if value is None:
        return "-"
    return "inf" if value == math.inf else f"{value:.0f}"


def _json(value: Any) -> Any:
    return "inf" if isinstance(value, float) and math.isinf(value) else value
